/* collapse: the in-flight table of request collapsing (see collapse.h): a
 * list of fetches in flight, each with its waiters, under one mutex. The
 * table is small (one row per key being fetched), so a list will do. */
#include "http/cache/collapse.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct cache_waiter {
    struct cache_waiter *next;
    struct flight *f;
    cache_collapse_cb cb;
    void *arg;
};

struct flight {
    struct flight *next;
    char *key;
    size_t keylen, nwaiters;
    struct cache_waiter *waiters;
};

struct cache_collapse {
    pthread_mutex_t lock;
    struct flight *flights;
    size_t max_waiters, nflights;
};

struct cache_collapse *cache_collapse_new(size_t max_waiters)
{
    struct cache_collapse *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    pthread_mutex_init(&c->lock, NULL);
    c->max_waiters = max_waiters;
    return c;
}

static void flight_free(struct flight *f)
{
    while (f->waiters) {
        struct cache_waiter *w = f->waiters;
        f->waiters = w->next;
        free(w);
    }
    free(f->key);
    free(f);
}

void cache_collapse_free(struct cache_collapse *c)
{
    if (!c)
        return;
    while (c->flights) {
        struct flight *f = c->flights;
        c->flights = f->next;
        flight_free(f);
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static struct flight **find(struct cache_collapse *c, struct http_str key)
{
    struct flight **pp = &c->flights;
    while (*pp && ((*pp)->keylen != key.n || memcmp((*pp)->key, key.p, key.n) != 0))
        pp = &(*pp)->next;
    return pp;
}

static enum cache_collapse_role lead(struct cache_collapse *c, struct http_str key)
{
    struct flight *f = calloc(1, sizeof *f);
    char *k = malloc(key.n ? key.n : 1);
    if (!f || !k) {
        free(f);
        free(k);
        return CACHE_COLLAPSE_BUSY;
    }
    memcpy(k, key.p, key.n);
    f->key = k;
    f->keylen = key.n;
    f->next = c->flights;
    c->flights = f;
    c->nflights++;
    return CACHE_COLLAPSE_LEADER;
}

static enum cache_collapse_role wait_for(struct cache_collapse *c, struct flight *f,
                                         cache_collapse_cb cb, void *arg,
                                         struct cache_waiter **out)
{
    if (f->nwaiters >= c->max_waiters)
        return CACHE_COLLAPSE_BUSY;
    struct cache_waiter *w = calloc(1, sizeof *w);
    if (!w)
        return CACHE_COLLAPSE_BUSY;
    w->f = f;
    w->cb = cb;
    w->arg = arg;
    w->next = f->waiters;
    f->waiters = w;
    f->nwaiters++;
    *out = w;
    return CACHE_COLLAPSE_WAITER;
}

enum cache_collapse_role cache_collapse_join(struct cache_collapse *c,
                                             struct http_str key, cache_collapse_cb cb,
                                             void *arg, struct cache_waiter **w)
{
    *w = NULL;
    pthread_mutex_lock(&c->lock);
    struct flight *f = *find(c, key);
    enum cache_collapse_role role;
    if (!f)
        role = lead(c, key);
    else
        role = wait_for(c, f, cb, arg, w);
    pthread_mutex_unlock(&c->lock);
    return role;
}

void cache_collapse_done(struct cache_collapse *c, struct http_str key,
                         enum cache_collapse_outcome outcome)
{
    pthread_mutex_lock(&c->lock);
    struct flight **pp = find(c, key), *f = *pp;
    if (f) {
        *pp = f->next;
        c->nflights--;
    }
    pthread_mutex_unlock(&c->lock);
    if (!f)
        return;
    /* Waiters in the order they came. */
    struct cache_waiter *rev = NULL;
    while (f->waiters) {
        struct cache_waiter *w = f->waiters;
        f->waiters = w->next;
        w->next = rev;
        rev = w;
    }
    while (rev) {
        struct cache_waiter *w = rev;
        rev = w->next;
        w->cb(w->arg, outcome);
        free(w);
    }
    flight_free(f);
}

bool cache_collapse_cancel(struct cache_collapse *c, struct cache_waiter *w)
{
    bool found = false;
    pthread_mutex_lock(&c->lock);
    for (struct flight *f = c->flights; f && !found; f = f->next) {
        for (struct cache_waiter **pp = &f->waiters; *pp; pp = &(*pp)->next)
            if (*pp == w) {
                *pp = w->next;
                f->nwaiters--;
                found = true;
                break;
            }
    }
    pthread_mutex_unlock(&c->lock);
    if (found)
        free(w);
    return found;
}

size_t cache_collapse_inflight(struct cache_collapse *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->nflights;
    pthread_mutex_unlock(&c->lock);
    return n;
}
