/* cache_purge: the PURGE method (as in Squid, Varnish and nginx's
 * ngx_cache_purge): removes every stored variant of the target URI from
 * both tiers. Only from [proxy] allow addresses, credentials or not: a
 * purge is an administrator's act, not a browsing client's. Also the
 * absolute URI a proxied request names, which the key and the 4.4
 * invalidations are made of. */
#include "http/proxy/cache_glue.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/netlist.h"
#include "http/http.h"
#include "http/proxy/proxy_int.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

bool proxy_is_purge(const struct http_request *r)
{
    return r->method.n == 5 && memcmp(r->method.p, "PURGE", 5) == 0;
}

int proxy_cache_uri(const struct upstream_target *t, struct http_str path, char *out,
                    size_t cap)
{
    bool v6 = strchr(t->host, ':') != NULL;
    int n = snprintf(out, cap, "%s://%s%s%s:%u%.*s", t->tls ? "https" : "http",
                     v6 ? "[" : "", t->host, v6 ? "]" : "", t->port, (int)path.n, path.p);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return n;
}

void proxy_cache_purge(struct http_conn *h, const struct upstream_target *t,
                       struct http_str path)
{
    if (!runtime || !netlist_contains(&runtime->cfg->proxy_allow, h->c->peer_ip)) {
        log_info(h->c->id, "proxy purge_refused peer=%s", h->c->peer_ip);
        proxy_refuse(h, 403, "PURGE is allowed from the proxy's allow list only.");
        return;
    }
    struct proxy_cache *pc = proxy_cache();
    char uri[CACHE_URI_MAX];
    int n = proxy_cache_uri(t, path, uri, sizeof uri);
    if (!pc || n < 0) {
        proxy_refuse(h, 404, "Not in the cache.");
        return;
    }
    int removed = cache_store_invalidate(pc->store, (struct http_str){uri, (size_t)n});
    log_info(h->c->id, "proxy cache_purge uri=\"%s\" removed=%d", uri, removed);
    if (removed <= 0) {
        proxy_refuse(h, 404, "Not in the cache.");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        proxy_refuse(h, 500, "Out of memory.");
        return;
    }
    evbuffer_add_printf(b, "purged %d\n", removed);
    http_respond_buffer(h, 200, "text/plain; charset=utf-8", b);
    evbuffer_free(b);
}
