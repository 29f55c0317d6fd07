/* sched: the queue scheduler on loop 0. It keeps one small item per queue
 * entry (id, next due time, held), ticks once a second, reads due entries
 * on the work pool (load.c), hands their recipients to destinations
 * (dest.c) and saves the outcome (load.c). New entries are announced by
 * their writer (queue_announce) from any thread. */
#include "relay/relay.h"
#include "relay/relay_int.h"

#include "core/log.h"
#include "core/loop.h"
#include "core/workpool.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct relay *relay;

struct tracked {
    void (*work)(void *), (*done)(void *), (*free_fn)(void *);
    void *arg;
    struct tracked *prev, *next;
};

static struct tracked *tracked;

static void tracked_work(void *arg)
{
    struct tracked *t = arg;
    t->work(t->arg);
}

static void tracked_unlink(struct tracked *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        tracked = t->next;
    if (t->next)
        t->next->prev = t->prev;
}

static void tracked_done(void *arg)
{
    struct tracked *t = arg;
    tracked_unlink(t);
    t->done(t->arg);
    free(t);
}

int relay_submit(void (*work)(void *), void (*done)(void *), void (*free_fn)(void *),
                 void *arg)
{
    /* Once the server stops, a completion could be posted to a loop that no
     * longer runs (and leak): the caller keeps the record as it is on disk,
     * and the next start redoes the step. */
    if (relay->stopping || relay->loop->stopping)
        return -1;
    struct tracked *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    *t = (struct tracked){work, done, free_fn, arg, NULL, tracked};
    if (tracked)
        tracked->prev = t;
    tracked = t;
    if (workpool_submit(runtime->pool, relay->loop->base, tracked_work, tracked_done, t) <
        0) {
        tracked_unlink(t);
        free(t);
        return -1;
    }
    return 0;
}

static void tracked_free_all(void)
{
    while (tracked) {
        struct tracked *t = tracked;
        tracked_unlink(t);
        t->free_fn(t->arg);
        free(t);
    }
}

int64_t relay_now(void)
{
    return (int64_t)time(NULL);
}

struct item *relay_item_find(const char *id)
{
    for (struct item *it = relay->items; it; it = it->next)
        if (strcmp(it->id, id) == 0)
            return it;
    return NULL;
}

struct item *relay_item_add(const char *id, int64_t due)
{
    struct item *it = relay_item_find(id);
    if (it)
        return it;
    it = calloc(1, sizeof *it);
    if (!it)
        return NULL;
    snprintf(it->id, sizeof it->id, "%s", id);
    it->due = due;
    it->msgfd = -1;
    it->next = relay->items;
    if (relay->items)
        relay->items->prev = it;
    relay->items = it;
    relay->nitems++;
    return it;
}

void relay_rcpt_result(struct item *it, size_t i, int code, const char *reply,
                       const char *mx, int64_t not_before)
{
    struct queue_rcpt *r = &it->env.rcpts[i];
    const struct config *c = relay->cfg;
    r->tries++;
    queue_line_copy(r->reply, sizeof r->reply, reply);
    queue_line_copy(r->mx, sizeof r->mx, mx ? mx : "");
    if (code >= 200 && code < 300) {
        r->state = QR_DELIVERED;
        r->next = 0;
        it->report[i] = (r->notify & QN_SUCCESS) != 0;
    } else if (code >= 500) {
        r->state = QR_FAILED;
        r->next = 0;
        it->report[i] = true;
    } else {
        r->state = QR_DEFERRED;
        r->next = relay_now() +
                  relay_retry_delay(r->tries, c->relay_retry_min, c->relay_retry_max);
        if (r->next < not_before)
            r->next = not_before;
    }
}

struct waiter *relay_job_done(struct job *j, void (*fn)(void *arg), void *arg)
{
    struct item *it = j->it;
    free(j->idx);
    free(j);
    if (--it->jobs_left > 0) {
        if (fn)
            fn(arg);
        return NULL;
    }
    struct waiter *w = NULL;
    if (fn && (w = calloc(1, sizeof *w)) != NULL) {
        *w = (struct waiter){fn, arg, it->waiters};
        it->waiters = w;
    }
    relay_save(it);
    if (fn && !w)
        fn(arg);
    return w;
}

/* ---- new entries from writers (any thread) ---- */

struct announced {
    char id[QUEUE_ID_MAX];
};

/* Reads a due item now (on the pool), unless too many are in memory. */
static bool item_try_load(struct item *it)
{
    if (relay->nloaded >= RELAY_MAX_LOADED || it->busy || it->held)
        return false;
    it->busy = true;
    relay->nloaded++;
    relay_load(it);
    return true;
}

/* A new entry is read at once rather than at the next tick: a connection
 * waiting for work gets it without the tick's delay of up to a second. */
static void announced_cb(evutil_socket_t fd, short what, void *arg)
{
    struct announced *a = arg;
    if (relay && !relay->stopping && !relay->loop->stopping) {
        struct item *it = relay_item_add(a->id, 0);
        if (it && !it->busy && !it->held) {
            it->due = 0;
            item_try_load(it);
        }
    }
    free(a);
}

static void on_announce(const char *id)
{
    static const struct timeval now = {0, 0};
    struct announced *a = calloc(1, sizeof *a);
    if (!a || !relay) {
        free(a);
        return;
    }
    snprintf(a->id, sizeof a->id, "%s", id);
    if (event_base_once(relay->loop->base, -1, EV_TIMEOUT, announced_cb, a, &now) < 0)
        free(a); /* the periodic scan still finds it */
}

/* ---- the tick ---- */

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    if (relay->stopping || relay->loop->stopping) {
        relay->stopping = true;
        return;
    }
    int64_t now = relay_now();
    for (struct item *it = relay->items; it; it = it->next) {
        if (relay->nloaded >= RELAY_MAX_LOADED)
            break;
        if (it->due <= now)
            item_try_load(it);
    }
    relay_ctl_poll();
    /* Entries whose announcement was lost (no memory) are found again. */
    if (++relay->ticks % RELAY_RESCAN_TICKS == 0 && !relay->scanning)
        relay_scan();
}

static void start_cb(evutil_socket_t fd, short what, void *arg)
{
    if (relay->loop->stopping)
        return;
    struct timeval tv = {RELAY_TICK_SEC, 0};
    relay->tick = event_new(relay->loop->base, -1, EV_PERSIST, tick_cb, NULL);
    if (!relay->tick || event_add(relay->tick, &tv) < 0) {
        log_error(0, "relay start_failed why=timer");
        return;
    }
    queue_set_listener(on_announce);
    relay_scan();
    log_info(0, "relay started retry_min=%d retry_max=%d lifetime=%d",
             relay->cfg->relay_retry_min, relay->cfg->relay_retry_max,
             relay->cfg->relay_queue_lifetime);
}

int relay_start(struct runtime *rt)
{
    static const struct timeval now = {0, 0};
    if (!rt->cfg->relay_enabled || rt->nloops < 1)
        return 0;
    relay = calloc(1, sizeof *relay);
    if (!relay)
        return -1;
    relay->cfg = rt->cfg;
    relay->loop = &rt->loops[0];
    relay->qfd = queue_open_dir(rt->datadir_fd);
    if (relay->qfd < 0 ||
        event_base_once(relay->loop->base, -1, EV_TIMEOUT, start_cb, NULL, &now) < 0) {
        if (relay->qfd >= 0)
            close(relay->qfd);
        free(relay);
        relay = NULL;
        return -1;
    }
    return 0;
}

void relay_shutdown(void)
{
    if (!relay)
        return;
    queue_set_listener(NULL);
    queue_pool_stop();
    tracked_free_all();
    if (relay->tick)
        event_free(relay->tick);
    relay_dests_free();
    relay_attempt_cleanup();
    struct item *next;
    for (struct item *it = relay->items; it; it = next) {
        next = it->next;
        if (it->msgfd >= 0)
            close(it->msgfd);
        while (it->waiters) { /* a save whose completion never ran */
            struct waiter *w = it->waiters;
            it->waiters = w->next;
            free(w);
        }
        queue_env_clear(&it->env);
        free(it->report);
        free(it);
    }
    close(relay->qfd);
    free(relay);
    relay = NULL;
}
