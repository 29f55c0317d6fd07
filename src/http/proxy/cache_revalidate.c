/* cache_revalidate: stale-while-revalidate (RFC 5861 3). The client got
 * the stale response; this conditional request (RFC 9111 4.3.1) runs on
 * the same loop but belongs to no client: a 304 updates the stored
 * response (4.3.4), a storable answer replaces it, anything else leaves
 * it. One revalidation per key at a time (the collapse table's slot). */
#include "http/proxy/cache_glue.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "http/http.h"
#include "http/proxy/message.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

struct reval {
    struct upstream *u;
    struct cache_entry *e;
    struct cache_insert *ins;
    time_t request_time;
    char key[CACHE_URI_MAX + 16];
    size_t keylen;
    /* The request's fields (for the Vary of a new response), copied. */
    struct http_header *req;
    size_t nreq;
    char *bytes;
};

static struct http_str key_of(const struct reval *rv)
{
    return (struct http_str){rv->key, rv->keylen};
}

static void done(struct reval *rv, bool stored)
{
    struct proxy_cache *pc = proxy_cache();
    cache_insert_abort(rv->ins);
    if (pc)
        cache_collapse_done(pc->collapse, key_of(rv),
                            stored ? CACHE_COLLAPSE_STORED : CACHE_COLLAPSE_FETCH);
    cache_entry_release(rv->e);
    free(rv->req);
    free(rv->bytes);
    free(rv);
}

static int on_head(void *arg, const struct http_response *r)
{
    struct reval *rv = arg;
    struct proxy_cache *pc = proxy_cache();
    if (r->status == 304) {
        struct cache_entry *ne = cache_store_update(
            pc->store, rv->e, r->headers, r->nheaders, rv->request_time, time(NULL));
        cache_entry_release(ne);
        done(rv, ne != NULL);
        return UPSTREAM_ABORT;
    }
    if (!cache_storable(HTTP_M_GET, rv->req, rv->nreq, r->status, r->headers,
                        r->nheaders)) {
        done(rv, false);
        return UPSTREAM_ABORT;
    }
    struct cache_response resp = {r->status, r->headers, r->nheaders, rv->request_time,
                                  time(NULL)};
    rv->ins = cache_store_begin(pc->store, key_of(rv), rv->req, rv->nreq, &resp);
    if (!rv->ins) {
        done(rv, false);
        return UPSTREAM_ABORT;
    }
    return UPSTREAM_OK;
}

static int on_body(void *arg, const char *p, size_t n)
{
    struct reval *rv = arg;
    if (cache_insert_append(rv->ins, p, n) < 0) {
        done(rv, false);
        return UPSTREAM_ABORT;
    }
    return UPSTREAM_OK;
}

static void on_end(void *arg)
{
    struct reval *rv = arg;
    struct cache_entry *e = cache_insert_commit(rv->ins);
    rv->ins = NULL;
    cache_entry_release(e);
    done(rv, e != NULL);
}

static void on_error(void *arg, int status, const char *why)
{
    (void)status;
    (void)why;
    done(arg, false);
}

static void on_upgraded(void *arg, struct conn *origin)
{
    conn_abort(origin);
    done(arg, false);
}

static void on_want_body(void *arg)
{
    (void)arg;
}

static const struct upstream_cb reval_cb = {
    .head = on_head,
    .body = on_body,
    .end = on_end,
    .error = on_error,
    .upgraded = on_upgraded,
    .want_body = on_want_body,
};

/* The request fields, copied out of the client's head buffer. */
static int copy_fields(struct reval *rv, const struct http_request *r)
{
    size_t total = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        total += r->headers[i].name.n + r->headers[i].value.n;
    rv->req = calloc(r->nheaders ? r->nheaders : 1, sizeof *rv->req);
    rv->bytes = malloc(total ? total : 1);
    if (!rv->req || !rv->bytes)
        return -1;
    char *p = rv->bytes;
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct http_header *f = &r->headers[i];
        memcpy(p, f->name.p, f->name.n);
        rv->req[i].name = (struct http_str){p, f->name.n};
        p += f->name.n;
        memcpy(p, f->value.p, f->value.n);
        rv->req[i].value = (struct http_str){p, f->value.n};
        p += f->value.n;
    }
    rv->nreq = r->nheaders;
    return 0;
}

static struct reval *reval_new(struct http_conn *h, struct cache_entry *e)
{
    struct reval *rv = calloc(1, sizeof *rv);
    if (!rv)
        return NULL;
    struct http_str k = cache_entry_key(e);
    if (k.n >= sizeof rv->key || copy_fields(rv, &h->req) < 0) {
        free(rv->req);
        free(rv->bytes);
        free(rv);
        return NULL;
    }
    memcpy(rv->key, k.p, k.n);
    rv->keylen = k.n;
    rv->request_time = time(NULL);
    cache_entry_ref(e);
    rv->e = e;
    return rv;
}

static void slot_taken(void *arg, enum cache_collapse_outcome outcome)
{
    (void)arg;
    (void)outcome;
}

/* The collapse slot of the key: a revalidation or a miss already fetches. */
static bool take_slot(struct proxy_cache *pc, struct http_str key)
{
    struct cache_waiter *w = NULL;
    enum cache_collapse_role role =
        cache_collapse_join(pc->collapse, key, slot_taken, NULL, &w);
    if (role == CACHE_COLLAPSE_WAITER)
        cache_collapse_cancel(pc->collapse, w);
    return role == CACHE_COLLAPSE_LEADER;
}

void proxy_cache_revalidate(struct http_conn *h, const struct upstream_target *t,
                            struct http_str path, struct cache_entry *e)
{
    struct proxy_cache *pc = proxy_cache();
    if (!pc || !take_slot(pc, cache_entry_key(e)))
        return;
    struct reval *rv = reval_new(h, e);
    struct evbuffer *head = evbuffer_new();
    if (!rv || !head) {
        if (rv)
            done(rv, false);
        else
            cache_collapse_done(pc->collapse, cache_entry_key(e), CACHE_COLLAPSE_FETCH);
        if (head)
            evbuffer_free(head);
        return;
    }
    const struct cache_response *s = cache_entry_response(e);
    struct http_header cond[2];
    struct proxy_out_req o = {.path = path,
                              .target = t,
                              .reverse = !h->forward,
                              .extra = cond,
                              .nextra = cache_conditional_fields(s->h, s->n, cond),
                              .get = true,
                              .persist = true};
    proxy_request_head(head, h, &o);
    struct upstream_req req = {
        .target = t, .head = head, .reusable = true, .id = h->c->id};
    log_debug(h->c->id, "proxy cache_revalidate key=\"%.*s\"", (int)rv->keylen, rv->key);
    rv->u = upstream_fetch(h->c->loop, &req, &reval_cb, rv);
    evbuffer_free(head);
    if (!rv->u)
        done(rv, false);
}
