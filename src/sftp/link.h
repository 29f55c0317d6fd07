/* link: what a loop and an SSH session's own thread share about one
 * connection. The loop keeps a paused `struct conn` for it (so the
 * per-address limit, the graceful stop and the loop's session count work
 * as for every protocol) and a watchdog timer; the thread runs libssh on a
 * dup of the socket. Either side may go first: the lock orders them, the
 * last reference frees. */
#pragma once
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"

struct conn;
struct event;
struct event_base;

struct sftp_link {
    pthread_mutex_t lock;
    int refs;       /* the conn's and the thread's */
    struct conn *c; /* NULL once the conn is gone */
    struct event_base *base;
    struct event *watchdog; /* loop-owned */
    int fd;                 /* libssh's socket, -1 once libssh closes it */
    uint64_t sid;
    char peer_ip[INET6_ADDRSTRLEN];
    atomic_llong activity; /* monotonic seconds of the last request or login step */
    atomic_bool authed;
    atomic_bool stopping;
    atomic_uint requests;          /* SFTP requests handled (access log) */
    char user[AUTH_ADDRESS_MAX];   /* under lock: who logged in, "" before */
    struct sftp_link *prev, *next; /* every live session (server.c) */
};

/* The session made progress: the idle clock starts again. */
void sftp_link_touch(struct sftp_link *l);

/* The thread's part: SSH key exchange, login, the sftp channel, the SFTP
 * session (ssh.c). Returns when the session is over. */
void sftp_ssh_run(struct sftp_link *l);
