/* reverse: the [http] proxy routes, "/PREFIX/ http://HOST:PORT/BASE/", read
 * once from the configuration. A request is routed when both its raw target
 * and its decoded, normalised path start with the prefix (so "/app/../x"
 * or "/%61pp/" never reach an origin by one reading and the file tree by
 * the other); the prefix is replaced by the base path and the rest of the
 * raw target (query included) goes as it came. */
#include "http/http.h"

#include "core/log.h"
#include "core/loop.h"
#include "http/proxy/cache_glue.h"
#include "http/proxy/proxy.h"
#include "http/proxy/proxy_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROXY_MAX_ROUTES 32

struct route {
    char prefix[256];
    char base[256]; /* the origin's path, ending in '/' */
    struct upstream_target t;
};

static struct route routes[PROXY_MAX_ROUTES];
static int nroutes;
static pthread_once_t routes_once = PTHREAD_ONCE_INIT;

static int parse_route(const char *text, struct route *r)
{
    char prefix[256], url[600];
    if (sscanf(text, " %255s %599s", prefix, url) != 2)
        return -1;
    size_t pl = strlen(prefix);
    if (prefix[0] != '/' || prefix[pl - 1] != '/')
        return -1;
    struct http_str path;
    if (proxy_parse_absolute((struct http_str){url, strlen(url)}, &r->t, &path) < 0)
        return -1;
    if (path.n == 0 || path.n >= sizeof r->base || path.p[path.n - 1] != '/')
        return -1;
    memcpy(r->base, path.p, path.n);
    r->base[path.n] = '\0';
    snprintf(r->prefix, sizeof r->prefix, "%s", prefix);
    return 0;
}

static void load_routes(void)
{
    if (!runtime)
        return;
    char buf[sizeof runtime->cfg->http_proxy_routes];
    snprintf(buf, sizeof buf, "%s", runtime->cfg->http_proxy_routes);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item && nroutes < PROXY_MAX_ROUTES;
         item = strtok_r(NULL, ",", &save)) {
        if (parse_route(item, &routes[nroutes]) == 0)
            nroutes++;
        else
            log_warn(0, "proxy bad_route value=\"%s\"", item);
    }
}

/* The longest prefix that both readings of the target start with. */
static const struct route *match(const struct http_conn *h)
{
    const struct route *best = NULL;
    for (int i = 0; i < nroutes; i++) {
        const struct route *r = &routes[i];
        size_t n = strlen(r->prefix);
        bool raw = h->req.target.n >= n && memcmp(h->req.target.p, r->prefix, n) == 0;
        bool norm = strncmp(h->path, r->prefix, n) == 0 ||
                    (strncmp(h->path, r->prefix, n - 1) == 0 && h->path[n - 1] == '\0' &&
                     h->target.trailing_slash);
        if (raw && norm && (!best || n > strlen(best->prefix)))
            best = r;
    }
    return best;
}

bool http_proxy_purge_method(const struct http_conn *h)
{
    return proxy_is_purge(&h->req);
}

bool http_proxy_reverse(struct http_conn *h)
{
    pthread_once(&routes_once, load_routes);
    if (nroutes == 0)
        return false;
    const struct route *r = match(h);
    if (!r)
        return false;
    if (h->req.m == HTTP_M_TRACE) { /* RFC 9110 9.3.8 */
        h->allow = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH";
        proxy_refuse(h, 405, "TRACE is not forwarded.");
        return true;
    }
    /* base + the raw target after the prefix, built in h->path (the
     * decoded path is not needed any more). */
    size_t n = strlen(r->prefix), bl = strlen(r->base);
    size_t rest = h->req.target.n - n;
    if (bl + rest >= sizeof h->path) {
        proxy_refuse(h, 414, "The request target is too long for the origin.");
        return true;
    }
    memmove(h->path + bl, h->req.target.p + n, rest);
    memcpy(h->path, r->base, bl);
    h->path[bl + rest] = '\0';
    struct http_str path = {h->path, bl + rest};
    if (proxy_is_purge(&h->req)) {
        proxy_cache_purge(h, &r->t, path);
        return true;
    }
    proxy_exchange(h, &r->t, path, true, proxy_wants_upgrade(&h->req));
    return true;
}
