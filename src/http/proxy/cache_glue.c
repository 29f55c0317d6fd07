/* cache_glue: the shared cache on one proxied request (RFC 9111), at the
 * upstream seam. Before the origin: the key (invalidate.c's cache_key of
 * GET and the absolute target URI), a lookup, cache_decide: a hit is
 * served (cache_serve.c), a stale entry validated with a conditional
 * request (4.3.1), only-if-cached without an entry is 504 (5.2.1.7), a
 * miss joins the collapse table (one origin fetch per key). On the
 * origin's answer: a 304 updates the stored response and serves it
 * (4.3.4), an error may serve it stale (RFC 5861 4), a storable response
 * is stored while it streams to the client, and a 2xx/3xx to an unsafe
 * method invalidates the URIs of 4.4. */
#include "http/proxy/cache_glue.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/cache/fields.h"
#include "http/http.h"
#include "httpmsg/response.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PC_MAX_VARIANTS 16

const char *proxy_cache_status_name(int status)
{
    static const char *const names[] = {"-",           "HIT",   "MISS",
                                        "REVALIDATED", "STALE", "BYPASS"};
    if (status < 0 || status > PCS_BYPASS)
        return "-";
    return names[status];
}

static void set_status(struct http_conn *h, enum pc_status s)
{
    h->cache_status = (int)s;
}

static const struct cache_response *stored(const struct cache_entry *e)
{
    return cache_entry_response(e);
}

static struct pc_req *req_new(const struct upstream_target *t, struct http_str path)
{
    struct pc_req *cr = malloc(sizeof *cr);
    if (!cr)
        return NULL;
    memset(cr, 0, offsetof(struct pc_req, key));
    int n = proxy_cache_uri(t, path, cr->uri, sizeof cr->uri);
    if (n < 0) {
        free(cr);
        return NULL;
    }
    cr->urilen = (size_t)n;
    int k =
        cache_key("GET", (struct http_str){cr->uri, cr->urilen}, cr->key, sizeof cr->key);
    if (k < 0) {
        free(cr);
        return NULL;
    }
    cr->keys = (struct http_str){cr->key, (size_t)k};
    cr->request_time = time(NULL);
    return cr;
}

void proxy_cache_req_free(struct pc_req *cr)
{
    if (!cr)
        return;
    struct proxy_cache *pc = proxy_cache();
    cache_insert_abort(cr->ins);
    if (cr->leader && pc)
        cache_collapse_done(pc->collapse, cr->keys, CACHE_COLLAPSE_FETCH);
    cache_entry_release(cr->stale);
    if (cr->wait)
        proxy_cache_wait_cancel(cr->wait);
    free(cr);
}

static bool client_conditional(const struct http_request *r)
{
    return cache_request_conditional(r->headers, r->nheaders);
}

/* A stored response the cache may not reuse as it is (4.3.1). The cache
 * validates it with its own validators, which replace the client's
 * If-None-Match and If-Modified-Since (message.c): the origin's 304 is
 * then about the stored response, and the client's condition is judged
 * on the updated one (4.3.2, cache_serve.c). A stored response without
 * validators is fetched again, with the client's conditionals: their 304
 * passes through, unstored. */
static void validate(struct pc_req *cr, struct cache_entry *e)
{
    cr->stale = e; /* kept for the 304 and for stale-if-error */
    const struct cache_response *s = stored(e);
    cr->ncond = cache_conditional_fields(s->h, s->n, cr->cond);
    cr->validating = cr->ncond > 0;
}

static enum pc_start hit(struct http_conn *h, struct pc_req *cr, struct cache_entry *e,
                         const struct upstream_target *t, struct http_str path)
{
    struct proxy_cache *pc = proxy_cache();
    time_t now = time(NULL);
    enum cache_decision d =
        cache_decide(stored(e), h->req.headers, h->req.nheaders, now, &pc->policy);
    switch (d) {
    case CACHE_FRESH:
    case CACHE_STALE_OK:
        set_status(h, d == CACHE_FRESH ? PCS_HIT : PCS_STALE);
        metrics_add(h->c->svc, MET_CACHE_HITS, 1);
        proxy_cache_serve(h, e, now);
        cache_entry_release(e);
        return PC_ANSWERED;
    case CACHE_STALE_REVALIDATE: /* RFC 5861 3 */
        set_status(h, PCS_STALE);
        metrics_add(h->c->svc, MET_CACHE_HITS, 1);
        proxy_cache_revalidate(h, t, path, e);
        proxy_cache_serve(h, e, now);
        cache_entry_release(e);
        return PC_ANSWERED;
    case CACHE_GATEWAY_TIMEOUT:
        cache_entry_release(e);
        set_status(h, PCS_MISS);
        return PC_GATEWAY_TIMEOUT;
    case CACHE_VALIDATE:
        break;
    }
    set_status(h, PCS_MISS); /* REVALIDATED once a 304 comes */
    metrics_add(h->c->svc, MET_CACHE_MISSES, 1);
    validate(cr, e);
    return PC_FORWARD;
}

static enum pc_start miss(struct http_conn *h, struct pc_req *cr, bool retry)
{
    struct proxy_cache *pc = proxy_cache();
    if (cache_decide_miss(h->req.headers, h->req.nheaders) == CACHE_GATEWAY_TIMEOUT)
        return PC_GATEWAY_TIMEOUT; /* 5.2.1.7 */
    set_status(h, PCS_MISS);
    if (!retry)
        metrics_add(h->c->svc, MET_CACHE_MISSES, 1);
    /* Only a GET without Range fetches what the cache stores; a client's
     * conditional miss goes with its conditionals (a 304 cannot be
     * shared), so it does not lead a collapse. */
    if (retry || h->req.m != HTTP_M_GET || http_request_get(&h->req, HH_RANGE) ||
        client_conditional(&h->req))
        return PC_FORWARD;
    if (proxy_cache_pass_recent(cr->keys, time(NULL)))
        return PC_FORWARD; /* its answers are not shared: no waiting */
    struct cache_wait *w = proxy_cache_wait_new(h);
    if (!w)
        return PC_FORWARD;
    struct cache_waiter *cw = NULL;
    enum cache_collapse_role role =
        cache_collapse_join(pc->collapse, cr->keys, proxy_cache_wait_cb, w, &cw);
    if (role == CACHE_COLLAPSE_WAITER) {
        proxy_cache_wait_set(w, cw);
        cr->wait = w;
        return PC_WAITING;
    }
    free(w);
    cr->leader = role == CACHE_COLLAPSE_LEADER;
    return PC_FORWARD;
}

enum pc_start proxy_cache_start(struct http_conn *h, struct pc_req **crp,
                                const struct upstream_target *t, struct http_str path,
                                bool retry)
{
    struct proxy_cache *pc = proxy_cache();
    *crp = NULL;
    if (!pc)
        return PC_FORWARD;
    /* The SSRF guard checks the addresses a name resolves to: a stored
     * copy of a guarded destination must not reach a guarded client, so
     * guarded requests neither read nor write the cache. */
    if (t->guard) {
        set_status(h, PCS_BYPASS);
        return PC_FORWARD;
    }
    enum http_method m = h->req.m;
    bool lookup = m == HTTP_M_GET || m == HTTP_M_HEAD;
    if (!lookup && cache_method_safe(m)) {
        set_status(h, PCS_BYPASS);
        return PC_FORWARD;
    }
    struct pc_req *cr = req_new(t, path);
    if (!cr) {
        set_status(h, PCS_BYPASS);
        return PC_FORWARD;
    }
    *crp = cr;
    if (!lookup) { /* unsafe: invalidation once the origin answers (4.4) */
        set_status(h, PCS_BYPASS);
        return PC_FORWARD;
    }
    struct cache_entry *e =
        cache_store_lookup(pc->store, cr->keys, h->req.headers, h->req.nheaders);
    if (e)
        return hit(h, cr, e, t, path);
    return miss(h, cr, retry);
}

/* ---- the origin's answer ------------------------------------------------- */

/* RFC 9111 4.4: a 2xx or 3xx to an unsafe method invalidates the target
 * URI and its same-origin Location and Content-Location. */
static void invalidate(struct http_conn *h, struct pc_req *cr,
                       const struct http_response *r)
{
    char(*uris)[CACHE_URI_MAX] = malloc(3 * CACHE_URI_MAX);
    if (!uris)
        return;
    int n = cache_invalidation_uris(h->req.m, r->status,
                                    (struct http_str){cr->uri, cr->urilen}, r->headers,
                                    r->nheaders, uris);
    for (int i = 0; i < n; i++) {
        int k = cache_store_invalidate(proxy_cache()->store,
                                       (struct http_str){uris[i], strlen(uris[i])});
        log_debug(h->c->id, "proxy cache_invalidate uri=\"%s\" removed=%d", uris[i], k);
    }
    free(uris);
}

/* 4.3.4: the stored response a 304 updates (of every variant of the key),
 * updated, or NULL. */
static struct cache_entry *update_from_304(struct pc_req *cr,
                                           const struct http_response *r)
{
    struct proxy_cache *pc = proxy_cache();
    struct cache_entry *vars[PC_MAX_VARIANTS];
    const struct cache_response *cand[PC_MAX_VARIANTS];
    size_t n = cache_store_variants(pc->store, cr->keys, vars, PC_MAX_VARIANTS);
    for (size_t i = 0; i < n; i++)
        cand[i] = stored(vars[i]);
    int k = cache_select_for_304(cand, n, r->headers, r->nheaders);
    struct cache_entry *target = cr->stale;
    if (k >= 0)
        target = vars[k];
    struct cache_entry *ne = cache_store_update(
        pc->store, target, r->headers, r->nheaders, cr->request_time, time(NULL));
    if (!ne) { /* not stored any more (evicted, purged): serve what we have */
        cache_entry_ref(target);
        ne = target;
    }
    for (size_t i = 0; i < n; i++)
        cache_entry_release(vars[i]);
    return ne;
}

static void start_insert(struct http_conn *h, struct pc_req *cr,
                         const struct http_response *r)
{
    if (h->req.m != HTTP_M_GET || r->status == 304)
        return;
    if (!cache_storable(HTTP_M_GET, h->req.headers, h->req.nheaders, r->status,
                        r->headers, r->nheaders))
        return;
    struct cache_response resp = {.status = r->status,
                                  .h = r->headers,
                                  .n = r->nheaders,
                                  .request_time = cr->request_time,
                                  .response_time = time(NULL)};
    cr->ins = cache_store_begin(proxy_cache()->store, cr->keys, h->req.headers,
                                h->req.nheaders, &resp);
}

bool proxy_cache_head(struct http_conn *h, struct pc_req *cr,
                      const struct http_response *r)
{
    struct proxy_cache *pc = proxy_cache();
    if (!cr || !pc)
        return false;
    if (!cache_method_safe(h->req.m)) {
        invalidate(h, cr, r);
        return false;
    }
    time_t now = time(NULL);
    if (cr->stale && cr->validating && r->status == 304) {
        struct cache_entry *ne = update_from_304(cr, r);
        set_status(h, PCS_REVALIDATED);
        metrics_add(h->c->svc, MET_CACHE_REVALIDATIONS, 1);
        proxy_cache_serve(h, ne, now);
        cache_entry_release(ne);
        return true;
    }
    if (cr->stale && cache_status_is_error(r->status) &&
        cache_stale_if_error(stored(cr->stale), h->req.headers, h->req.nheaders, now,
                             &pc->policy)) {
        set_status(h, PCS_STALE);
        proxy_cache_serve(h, cr->stale, now);
        return true;
    }
    start_insert(h, cr, r);
    if (!cr->ins && h->req.m == HTTP_M_GET && r->status != 304)
        proxy_cache_pass_mark(cr->keys, now);
    if (cr->leader && !cr->ins) { /* nothing to share: the waiters go now */
        cr->leader = false;
        cache_collapse_done(pc->collapse, cr->keys, CACHE_COLLAPSE_FETCH);
    }
    return false;
}

void proxy_cache_body(struct pc_req *cr, const char *p, size_t n)
{
    if (!cr || !cr->ins)
        return;
    if (cache_insert_append(cr->ins, p, n) < 0) { /* over cache_max_object */
        cache_insert_abort(cr->ins);
        cr->ins = NULL;
    }
}

void proxy_cache_end(struct http_conn *h, struct pc_req *cr)
{
    struct proxy_cache *pc = proxy_cache();
    if (!cr || !pc)
        return;
    struct cache_entry *e = NULL;
    if (cr->ins) {
        e = cache_insert_commit(cr->ins);
        cr->ins = NULL;
    }
    if (e) {
        proxy_cache_pass_clear(cr->keys);
        metrics_add(h->c->svc, MET_CACHE_STORED_BYTES, cache_entry_size(e));
    }
    if (cr->leader) {
        cr->leader = false;
        cache_collapse_done(pc->collapse, cr->keys,
                            e ? CACHE_COLLAPSE_STORED : CACHE_COLLAPSE_FETCH);
    }
    cache_entry_release(e);
}

bool proxy_cache_error(struct http_conn *h, struct pc_req *cr)
{
    struct proxy_cache *pc = proxy_cache();
    if (!cr || !pc || !cr->stale)
        return false;
    time_t now = time(NULL);
    if (!cache_stale_if_error(stored(cr->stale), h->req.headers, h->req.nheaders, now,
                              &pc->policy))
        return false;
    set_status(h, PCS_STALE); /* RFC 5861 4: the origin did not answer */
    proxy_cache_serve(h, cr->stale, now);
    return true;
}
