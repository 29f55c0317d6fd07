/* collapse: request collapsing. While one request (the leader) fetches a
 * key from the origin, further misses of that key register as waiters and
 * are called back when the leader ends. Loop-agnostic: a callback runs on
 * the leader's thread, so a waiter on another loop posts the news to its
 * own loop. Safe with Vary and private answers: a waiter is only told what
 * happened; on CACHE_COLLAPSE_STORED it looks the store up again and, if its
 * request does not match the stored variant, fetches by itself, as it does
 * on CACHE_COLLAPSE_FETCH (uncacheable, private or failed answer). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "httpmsg/request.h"

enum cache_collapse_outcome {
    CACHE_COLLAPSE_STORED, /* the leader committed an entry: look up again */
    CACHE_COLLAPSE_FETCH,  /* nothing stored: fetch without waiting again */
};

enum cache_collapse_role {
    CACHE_COLLAPSE_LEADER, /* fetch, then call cache_collapse_done */
    CACHE_COLLAPSE_WAITER, /* wait for the callback */
    CACHE_COLLAPSE_BUSY,   /* too many waiters (or no memory): fetch alone */
};

typedef void (*cache_collapse_cb)(void *arg, enum cache_collapse_outcome outcome);

struct cache_collapse;
struct cache_waiter;

/* max_waiters bounds the waiters of one key. */
struct cache_collapse *cache_collapse_new(size_t max_waiters);
void cache_collapse_free(struct cache_collapse *c); /* with no fetch in flight */

/* A miss for key: the first becomes the leader; later ones become waiters
 * (cb(arg, outcome) is called once, and *w identifies the wait for
 * cache_collapse_cancel). */
enum cache_collapse_role cache_collapse_join(struct cache_collapse *c,
                                             struct http_str key, cache_collapse_cb cb,
                                             void *arg, struct cache_waiter **w);

/* The leader is done: calls every waiter's callback with outcome (outside
 * the lock) and forgets the key. */
void cache_collapse_done(struct cache_collapse *c, struct http_str key,
                         enum cache_collapse_outcome outcome);

/* A waiter gives up (its client went away) before its callback: after this
 * returns the callback will not be called. False if it was already called
 * or is being called. */
bool cache_collapse_cancel(struct cache_collapse *c, struct cache_waiter *w);

/* How many keys have a fetch in flight (for tests and counters). */
size_t cache_collapse_inflight(struct cache_collapse *c);
