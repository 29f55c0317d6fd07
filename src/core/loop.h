/* loop: one event loop thread and what it owns (its listeners and
 * connections), and the process-wide runtime that the loops share. */
#pragma once
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/config.h"

struct event_base;
struct loop_listener;
struct conn;
struct workpool;
struct authdb;
struct throttle;
struct proxy_wait;

struct loop {
    int index;
    struct event_base *base;
    struct runtime *rt;
    struct conn *conns; /* every live connection of this thread */
    int nconns;
    struct loop_listener **listeners;
    int nlisteners;
    bool stopping;
    pthread_t thread;
    struct event *stop_timer;       /* hard deadline after a graceful stop began */
    bool trim_pending;              /* memory is returned after this burst of closes */
    struct proxy_wait *proxy_waits; /* PROXY headers being read (core/proxy.c) */
    struct event *flush_ev;         /* writes queued replies (conn.c), NULL: off */
    struct conn *flush_head;        /* conns with output written this pass */
    void *svc_state[SVC_COUNT];     /* a service's per-loop state (its own) */
    void (*svc_state_free[SVC_COUNT])(void *state); /* ...freed with the loop */
};

/* What a service needs to run on the loops: its name and how to start a
 * connection (normally session_start with its line-protocol descriptor). */
struct service_impl {
    const char *name;
    void (*start)(struct conn *c);
};

struct runtime {
    const struct config *cfg;
    int nloops;
    struct loop *loops;
    struct workpool *pool;
    struct authdb *authdb;
    struct throttle *throttle;
    int datadir_fd;
    int max_connections; /* [portico] max_connections, or its derived default */
    const struct service_impl *services[SVC_COUNT];
};

/* The one runtime of `portico serve` (NULL in unit tests without one). */
extern struct runtime *runtime;

/* Starts the ids at the start time in microseconds, so ids (which name
 * messages in Received: and the SMTP reply) stay unique across restarts. */
void loop_seed_session_ids(void);
/* Next session id, unique in the process. */
uint64_t loop_next_session_id(void);

/* Creates the loops and opens every configured listener of an implemented
 * service in each (SO_REUSEPORT). Fails with err set, nothing left open. */
int runtime_open_listeners(struct runtime *rt, char *err, size_t errlen);
/* Runs the loop threads; returns when all have stopped. */
int runtime_start(struct runtime *rt);
/* Asks every loop to stop gracefully (thread-safe, signal-safe via libevent). */
void runtime_stop(struct runtime *rt);
void runtime_join(struct runtime *rt);
void runtime_free_loops(struct runtime *rt);

/* Adds/removes a connection on its loop's list (conn.c calls these). */
void loop_attach(struct loop *loop, struct conn *c);
void loop_detach(struct loop *loop, struct conn *c);
