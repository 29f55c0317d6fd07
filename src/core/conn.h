/* conn: one client connection on one loop thread: its bufferevent (plain or
 * TLS), peer address, idle timeout, output back-pressure, the in-place TLS
 * upgrade, and a reference count so that nothing is freed inside its own
 * callback. Protocols plug in through struct conn_ops. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/config.h"

struct bufferevent;
struct event_base;
struct evbuffer;
struct loop;
struct conn;
typedef struct ssl_st SSL;

struct conn_ops {
    /* Bytes arrived (or processing may continue); read conn_input(). */
    void (*on_input)(struct conn *c);
    /* Output fell below the low-water mark after back-pressure. Optional. */
    void (*on_drained)(struct conn *c);
    /* Idle timeout; the conn is closed after it returns. Optional. */
    void (*on_timeout)(struct conn *c);
    /* The loop is shutting down; say goodbye and close. Optional. */
    void (*on_shutdown)(struct conn *c);
    /* Last call: free the protocol's state. */
    void (*on_free)(struct conn *c);
    /* A TLS handshake has completed (server or client side). Optional. */
    void (*on_tls)(struct conn *c);
};

struct conn {
    uint64_t id; /* session id in logs */
    struct loop *loop;
    struct bufferevent *bev;
    const struct conn_ops *ops;
    void *ctx; /* the protocol's session */
    enum service svc;
    char peer_ip[INET6_ADDRSTRLEN];
    int peer_port;
    bool loopback;     /* peer is 127/8 or ::1 */
    bool tls;          /* TLS is up (implicit or after an upgrade) */
    bool compressed;   /* DEFLATE is on (conn_compress) */
    bool closing;      /* no more input is handled; output drains */
    bool aborted;      /* the conn's own reference is dropped */
    bool paused;       /* reading stopped by the protocol (async work) */
    bool blocked;      /* reading stopped by output back-pressure */
    bool counted;      /* holds an iplimit slot for peer_ip */
    bool over_limit;   /* the peer has too many connections: refuse and close */
    bool over_global;  /* [portico] max_connections reached: refuse and close */
    bool in_global;    /* counted in the server-wide connection count */
    bool want_drain;   /* conn_notify_drained is armed */
    bool direct;       /* plain socket: conn.c writes replies itself (flush) */
    bool flush_queued; /* on the loop's flush list */
    bool write_armed;  /* unsent output: libevent's write event is on */
    bool read_later;   /* the read state changed while a flush is pending */
    size_t drain_low;  /* ...for this many unsent bytes */
    int refs;
    unsigned idle_sec;
    /* For the access log line at the end (conn_stats.c). */
    uint64_t start_us;            /* monotonic, at accept */
    uint64_t extra_in, extra_out; /* bytes of side connections (FTP data) */
    unsigned commands;
    char user[AUTH_ADDRESS_MAX]; /* who logged in; "" before */
    struct conn *prev, *next;    /* the loop's list */
    struct conn *flush_next;     /* the loop's flush list */
    struct event *reaper;
    struct event *grace;
    struct event *stall; /* output blocked too long (SESSION_OUTPUT_STALL_SEC) */
};

/* A bufferevent on an accepted or connected socket, as conn_new makes them:
 * plain, or the TLS server side (the shared context; tickets: send TLS 1.3
 * session tickets). Also for sockets that are not a conn (FTP data). NULL
 * on failure (fd not closed). */
struct bufferevent *conn_bufferevent_new(struct event_base *base, int fd, bool tls,
                                         bool tickets);

/* The loop's flush event: replies written during a loop pass leave in one
 * write per connection at the end of that pass, without a write event
 * (no epoll_ctl, no second epoll_wait) unless the socket is full. A loop
 * without it (conn_loop_init not called) lets libevent write. 0 or -1. */
int conn_loop_init(struct loop *loop);
void conn_loop_free(struct loop *loop);

/* Takes ownership of fd; starts TLS at once when implicit_tls. The caller
 * sets ops/ctx right after. NULL on failure (fd closed). */
struct conn *conn_new(struct loop *loop, int fd, const struct sockaddr *peer,
                      enum service svc, bool implicit_tls);

void conn_ref(struct conn *c);
void conn_unref(struct conn *c);

struct evbuffer *conn_input(struct conn *c);
struct evbuffer *conn_output(struct conn *c);
int conn_write(struct conn *c, const void *data, size_t len);
int conn_printf(struct conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* True while the client has not read enough of our output. */
bool conn_output_full(struct conn *c);

/* conn_read.c: reads up to max bytes of c's plain socket into dst in
 * pieces of CONN_READ_PIECE, after the caller consumed c's buffered input
 * (dst may be that input); 0 for TLS, a paused, blocked or closing conn,
 * or nothing to read. */
struct evbuffer;
size_t conn_read_bulk(struct conn *c, struct evbuffer *dst, size_t max);

/* After writing into conn_output() directly: stop reading while the output
 * is above the high-water mark; on_drained runs when it falls below low. */
void conn_check_backpressure(struct conn *c);

/* Arms one on_drained call for when the unsent output falls to `low` bytes
 * (a protocol streaming a file refills its output there). The caller checks
 * first that more than `low` is unsent; otherwise no call would come. */
void conn_notify_drained(struct conn *c, size_t low);

void conn_set_idle_timeout(struct conn *c, unsigned seconds);
void conn_pause(struct conn *c);  /* stop reading */
void conn_resume(struct conn *c); /* read again */

/* Upgrades to TLS in place (STARTTLS, STLS, AUTH TLS). Every byte of
 * plaintext already received after the upgrade command is discarded: a
 * client may not inject commands that would run after the handshake. The
 * reply announcing the upgrade must already be written. 0 or -1. */
int conn_starttls(struct conn *c);
/* The client side (core/tls_client.h): starts TLS as the connecting
 * party with ssl (tls_client_new_ssl; owned by the conn from now on, also
 * on failure), in place on a plain conn: STARTTLS after the server's 220,
 * or implicit TLS right after conn_connect. Whatever the server sent
 * before is discarded, as in conn_starttls. ops->on_tls runs when the
 * handshake completes; a failed handshake aborts the conn. 0 or -1. */
int conn_starttls_client(struct conn *c, SSL *ssl);
/* Puts DEFLATE (RFC 4978, core/conn_deflate.h) over the connection, after
 * the reply that accepts it is written: that reply leaves uncompressed,
 * everything after it compressed, and input is decompressed from the next
 * byte on (any byte already received is discarded, as in conn_starttls).
 * Once per connection. 0 or -1. */
int conn_compress(struct conn *c);
/* The socket's fd, below any TLS and DEFLATE layer; -1 without one. */
int conn_socket_fd(struct conn *c);
/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" without TLS. */
void conn_tls_describe(struct conn *c, char *buf, size_t len);
SSL *conn_ssl(struct conn *c);

/* Accounting for the access log and the metrics (conn_stats.c). The user
 * who logged in (an account address), shown in the session's last line. */
void conn_set_user(struct conn *c, const char *user);
/* Bytes moved for this session on another socket (FTP data). */
void conn_add_bytes(struct conn *c, uint64_t in, uint64_t out);
/* A command (an HTTP request) that began at start_us (metrics_now_us) has
 * been answered: counted, and its latency observed. */
void conn_command_done(struct conn *c, uint64_t start_us);
/* The session is over: one access-log line (session id, protocol, peer,
 * user, duration, commands, bytes in/out) and the metrics. conn.c calls it
 * once, after the protocol's on_free. */
void conn_log_end(struct conn *c);

/* Connections open in the whole process (every loop). */
int conn_count(void);

/* Flushes what is written (bounded by SESSION_CLOSE_GRACE_SEC), then frees. */
void conn_close(struct conn *c);
/* Frees without flushing. */
void conn_abort(struct conn *c);
