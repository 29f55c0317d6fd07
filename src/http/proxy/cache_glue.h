/* cache_glue: the calls between the proxy's exchange (exchange.c) and the
 * shared cache (src/http/cache/, docs/proxy.md "Cache"), at the upstream
 * seam: a lookup before upstream_fetch, a wrapper around its callbacks
 * (store while streaming, 304 merge, stale-if-error, invalidation), and
 * the process-wide store. Files: cache_setup.c (the store's life),
 * cache_glue.c (the per-request decisions), cache_serve.c (writing a
 * stored response), cache_wait.c (collapsed misses across loops),
 * cache_pass.c (keys not worth collapsing),
 * cache_revalidate.c (background revalidation), cache_purge.c (PURGE). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http/cache/collapse.h"
#include "http/cache/policy.h"
#include "http/cache/store.h"
#include "http/proxy/upstream.h"
#include "httpmsg/request.h"

struct config;
struct http_conn;
struct http_response;
struct cache_wait;

/* ---- cache_setup.c: one store for every loop thread --------------------- */

struct proxy_cache {
    struct cache_store *store;
    struct cache_collapse *collapse;
    struct cache_policy policy;
};

/* Opens data_dir/cache/ with the [proxy] cache_* limits (no store when both
 * tiers are 0). 0, or -1 with err. */
int proxy_cache_open(const struct config *cfg, char *err, size_t errlen);
void proxy_cache_close(void);
/* The process's cache, or NULL when there is none. */
struct proxy_cache *proxy_cache(void);

/* ---- cache_glue.c: one request ------------------------------------------ */

/* What the cache says about a request before the origin is asked. */
enum pc_start {
    PC_FORWARD,         /* fetch from the origin (maybe conditionally, maybe storing) */
    PC_ANSWERED,        /* the response is queued: end the request */
    PC_WAITING,         /* a collapsed miss: waits for another request's fetch */
    PC_GATEWAY_TIMEOUT, /* only-if-cached and nothing usable: 504 (5.2.1.7) */
};

/* The access log's cache= word (h->cache_status). */
enum pc_status { PCS_NONE, PCS_HIT, PCS_MISS, PCS_REVALIDATED, PCS_STALE, PCS_BYPASS };
const char *proxy_cache_status_name(int status);

/* The cache's state for one proxied request (owned by exchange.c). */
struct pc_req {
    struct http_str keys; /* the GET key of the target (in key) */
    size_t urilen;
    struct cache_entry *stale; /* the stored response being validated */
    struct cache_insert *ins;  /* storing the response as it streams */
    bool leader;               /* holds the collapse slot of key */
    bool validating;           /* the conditional fields below are sent */
    struct http_header cond[2];
    size_t ncond;
    time_t request_time;
    struct cache_wait *wait;
    /* Last, not zeroed on allocation (a hit allocates one per request). */
    char key[CACHE_URI_MAX + 16];
    char uri[CACHE_URI_MAX]; /* the absolute target URI */
};

/* Before the origin: *cr is set when the cache follows the request (NULL:
 * no cache, or a method it ignores). retry: after a collapsed wait (never
 * waits again). */
enum pc_start proxy_cache_start(struct http_conn *h, struct pc_req **cr,
                                const struct upstream_target *t, struct http_str path,
                                bool retry);
/* The origin's head. True when the cache answered instead (a 304 merged
 * into the stored response, or stale-if-error): drop the origin and end
 * the request. */
bool proxy_cache_head(struct http_conn *h, struct pc_req *cr,
                      const struct http_response *r);
void proxy_cache_body(struct pc_req *cr, const char *p, size_t n);
void proxy_cache_end(struct http_conn *h, struct pc_req *cr);
/* The origin failed before its head: true when a stale response was
 * queued instead (RFC 5861 4). */
bool proxy_cache_error(struct http_conn *h, struct pc_req *cr);
/* The request ends (answered, failed or the client gone); NULL is a no-op. */
void proxy_cache_req_free(struct pc_req *cr);

/* ---- cache_pass.c: keys not collapsed ------------------------------------ */

/* The key's last answer was not storable (within the last minute). */
bool proxy_cache_pass_recent(struct http_str key, time_t now);
void proxy_cache_pass_mark(struct http_str key, time_t now);
void proxy_cache_pass_clear(struct http_str key); /* it was stored */

/* ---- cache_serve.c --------------------------------------------------------- */

/* Queues the answer to h from e (status 200, a Range's 206 or 416, HEAD
 * without the body), with Age (RFC 9111 5.1); the body goes by reference,
 * without a copy. The caller ends the request. */
void proxy_cache_serve(struct http_conn *h, struct cache_entry *e, time_t now);

/* ---- cache_wait.c: collapsed misses (collapse.h) ----------------------------- */

/* A wait of h for another request's fetch; resumed on h's own loop. */
struct cache_wait *proxy_cache_wait_new(struct http_conn *h);
void proxy_cache_wait_set(struct cache_wait *w, struct cache_waiter *cw);
/* The collapse callback (on the leader's thread). */
void proxy_cache_wait_cb(void *arg, enum cache_collapse_outcome outcome);
/* h goes away while waiting. */
void proxy_cache_wait_cancel(struct cache_wait *w);
/* exchange.c: the wait is over; the request runs again (lookup, or a fetch
 * of its own). */
void proxy_exchange_retry(struct http_conn *h);

/* ---- cache_revalidate.c: RFC 5861 3 ---------------------------------------- */

/* Starts a conditional fetch of e detached from the client; its answer
 * updates or replaces the stored response. At most one per key. */
void proxy_cache_revalidate(struct http_conn *h, const struct upstream_target *t,
                            struct http_str path, struct cache_entry *e);

/* ---- cache_purge.c ----------------------------------------------------------- */

/* PURGE of the absolute URI of t and path: from [proxy] allow only (403);
 * 200 when something was removed, 404 otherwise. Answers and ends it. */
void proxy_cache_purge(struct http_conn *h, const struct upstream_target *t,
                       struct http_str path);
/* "scheme://host[:port]" + path into out[cap]; its length or -1. */
int proxy_cache_uri(const struct upstream_target *t, struct http_str path, char *out,
                    size_t cap);
/* The method is PURGE (case-sensitive, RFC 9110 9.1). */
bool proxy_is_purge(const struct http_request *r);
