/* data: the FTP data connection (RFC 959 3.2, 3.3): a passive listener that
 * accepts only the control connection's peer (RFC 2577 5), or an active
 * connection to the client's own address; plain or TLS (RFC 4217 9, the
 * server is the TLS server). One per session. The transfer plugs in through
 * struct data_ops; bytes move through the data bufferevent. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ftp;
struct evbuffer;

struct data_ops {
    void (*ready)(struct ftp *f);                          /* connected, TLS up */
    void (*readable)(struct ftp *f, struct evbuffer *in);  /* bytes arrived */
    void (*drained)(struct ftp *f);                        /* output at low-water */
    void (*eof)(struct ftp *f);                            /* peer closed cleanly */
    void (*failed)(struct ftp *f, bool opened);            /* error or timeout */
};

/* PASV/EPSV: opens a listener in [ftp] passive_ports on the control
 * connection's local address. Returns the port, or -1. */
int data_listen(struct ftp *f);
/* PORT/EPRT: remembers where to connect. */
int data_set_active(struct ftp *f, const struct sockaddr_storage *sa, socklen_t len);
/* True once PASV/PORT chose how to open the next data connection. */
bool data_prepared(const struct ftp *f);
/* True if the passive peer is already connected (reply 125, not 150). */
bool data_connected(const struct ftp *f);
/* Opens (or attaches) the connection; ops get the events. With tls the
 * data connection runs TLS (PROT P). 0 or -1. */
int data_start(struct ftp *f, const struct data_ops *ops, bool tls);
struct evbuffer *data_output(struct ftp *f);
/* ops->drained runs when the output falls to lowat bytes. */
void data_set_lowat(struct ftp *f, size_t lowat);
bool data_is_tls(const struct ftp *f);
/* The connected plain (not TLS) socket, to read past the bufferevent, or -1. */
int data_plain_fd(const struct ftp *f);
/* Bytes queued on the data connection but not yet sent. */
size_t data_pending(const struct ftp *f);
/* Ends the connection politely (TLS close_notify) and frees it. */
void data_shutdown(struct ftp *f);
/* Drops everything at once (listener, connection). No-op without one. */
void data_close(struct ftp *f);
