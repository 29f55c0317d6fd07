/* relay_int: what the files of relay/ share. Everything here is owned by
 * loop 0's thread, except what a pool job holds while it runs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "queue/queue.h"
#include "relay/hop.h"

struct event;
struct loop;
struct dest;
struct attempt;

#define RELAY_MAX_LOADED 2000 /* entries read into memory at once */
#define RELAY_TICK_SEC 1
#define RELAY_RESCAN_TICKS 300 /* a full scan of queue/ every 5 minutes */

enum item_op { OP_NONE, OP_DELETE, OP_DELETE_SILENT, OP_HOLD, OP_RELEASE };

/* Someone (a connection) waiting for an item's record to be saved. */
struct waiter {
    void (*fn)(void *arg); /* NULL once the waiter went away */
    void *arg;
    struct waiter *next;
};

/* One queue entry the scheduler knows. While busy, env and msgfd are its. */
struct item {
    char id[QUEUE_ID_MAX];
    int64_t due; /* next look, unix seconds */
    bool held, busy, force;
    enum item_op op; /* a `portico queue` request waiting for busy to end */
    struct queue_env env;
    bool *report; /* per recipient: a DSN is owed for its new state */
    int msgfd;
    off_t msgsize;
    int jobs_left;
    struct waiter *waiters; /* called after the next save */
    struct item *prev, *next;
};

/* The recipients of one item for one destination: one transaction. */
struct job {
    struct item *it;
    char domain[256];
    size_t *idx; /* into it->env.rcpts */
    size_t n;
    struct job *next;
};

struct dest {
    char key[320];
    struct relay_hop hop;
    int nconns;
    int fails;             /* connection-level failures in a row */
    int64_t backoff_until; /* no connection before this */
    char last_error[QUEUE_REPLY_MAX];
    struct job *head, *tail;
    size_t nqueued;
    struct dest *next;
};

struct relay {
    const struct config *cfg;
    struct loop *loop;
    struct event *tick;
    int qfd;
    struct item *items;
    size_t nitems, nloaded;
    struct dest *dests;
    int nconns;
    bool scanning, ctl_running, stopping;
    bool pool_on; /* queue_pool_start was asked for (the first scan) */
    unsigned long ticks;
};

extern struct relay *relay;

/* A pool job of the scheduler (workpool_submit with loop 0 as the
 * completion's loop), tracked so that one whose completion the stopping
 * pool dropped is still freed (free_fn(arg)) at shutdown. 0 or -1. */
int relay_submit(void (*work)(void *), void (*done)(void *), void (*free_fn)(void *),
                 void *arg);

int64_t relay_now(void);

/* sched.c */
struct item *relay_item_find(const char *id);
struct item *relay_item_add(const char *id, int64_t due);
/* A job has finished (its recipients' states are set): the item is saved
 * when its last job finishes. With fn, fn(arg) runs once that save is
 * durable (so a connection goes on only when its outcome is on disk), or
 * at once when other jobs of the item are still out; the returned waiter
 * (or NULL when fn already ran or was not given) is the caller's to cancel
 * (w->fn = NULL) if it goes away first. */
struct waiter *relay_job_done(struct job *j, void (*fn)(void *arg), void *arg);
/* Sets recipient i of an item to deferred (with the retry schedule, not
 * before not_before) or failed, with its reply and host. */
void relay_rcpt_result(struct item *it, size_t i, int code, const char *reply,
                       const char *mx, int64_t not_before);

/* load.c: reading (pool) and saving (pool) an item. */
void relay_load(struct item *it);
void relay_save(struct item *it);
void relay_scan(void);

/* dest.c */
void relay_dest_submit(struct job *j);
/* An attempt takes the next job of d, or NULL when none waits. */
struct job *relay_dest_next_job(struct dest *d);
/* A connection of d ended; failed_whole: it never got to a transaction
 * (why says why): d is backed off and its waiting jobs deferred. */
void relay_dest_conn_done(struct dest *d, bool failed_whole, const char *why);
void relay_dests_free(void);

/* attempt.c: one outbound connection for d, taking jobs until none waits
 * (and none came during a short wait). */
int relay_attempt_start(struct dest *d);
/* A connection of d waiting for work takes the next job of d; false when
 * none waits. */
bool relay_attempt_wake(struct dest *d);

/* ctl.c: `portico queue` requests (files in queue/ctl/). */
void relay_ctl_poll(void);
void relay_item_apply_op(struct item *it);
void relay_attempt_cleanup(void);
/* load.c: a `portico queue` request on an idle item (pool job). */
void relay_item_run_op(struct item *it);
