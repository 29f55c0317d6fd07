/* invalidate: the cache key (method + normalised target URI) and the URIs
 * an unsafe request invalidates (RFC 9111 4.4). */
#include "http/cache/fields.h"
#include "http/cache/policy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

bool cache_method_safe(enum http_method m)
{
    return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_OPTIONS ||
           m == HTTP_M_TRACE;
}

struct out_buf {
    char *p;
    size_t cap, len;
    bool over;
};

static void put(struct out_buf *o, const char *s, size_t n, bool lower)
{
    if (o->len + n >= o->cap) {
        o->over = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (lower && c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        o->p[o->len++] = c;
    }
    o->p[o->len] = '\0';
}

/* RFC 9110 4.2.3: scheme and host are case-insensitive, a default port is
 * the same as none, an empty path is "/"; the fragment is not sent. */
static int normalize_uri(struct http_str u, struct out_buf *o)
{
    size_t skip;
    const char *dflt;
    if (u.n >= 7 && strncasecmp(u.p, "http://", 7) == 0) {
        skip = 7;
        dflt = ":80";
    } else if (u.n >= 8 && strncasecmp(u.p, "https://", 8) == 0) {
        skip = 8;
        dflt = ":443";
    } else {
        return -1;
    }
    put(o, u.p, skip, true);
    size_t a = skip, e = skip;
    while (e < u.n && u.p[e] != '/' && u.p[e] != '?' && u.p[e] != '#')
        e++;
    if (e == a)
        return -1; /* no host */
    size_t hostlen = e - a, dl = strlen(dflt);
    if (hostlen > dl && strncmp(u.p + e - dl, dflt, dl) == 0)
        hostlen -= dl;
    put(o, u.p + a, hostlen, true);
    if (e == u.n || u.p[e] != '/')
        put(o, "/", 1, false);
    size_t f = e;
    while (f < u.n && u.p[f] != '#')
        f++;
    put(o, u.p + e, f - e, false);
    return o->over ? -1 : 0;
}

int cache_key(const char *method, struct http_str uri, char *out, size_t cap)
{
    struct out_buf o = {out, cap, 0, false};
    put(&o, method, strlen(method), false);
    put(&o, " ", 1, false);
    if (o.over || normalize_uri(uri, &o) < 0)
        return -1;
    return (int)o.len;
}

/* The length of "scheme://authority" at the start of a normalised URI. */
static size_t origin_len(const char *u)
{
    const char *p = strstr(u, "://");
    if (!p)
        return 0;
    const char *slash = strchr(p + 3, '/');
    if (!slash)
        return strlen(u);
    return (size_t)(slash - u);
}

/* Resolves a Location or Content-Location reference against the target
 * (RFC 3986 5.2, without dot-segment removal) into out. */
static int resolve(const char *target, struct http_str ref, char *out)
{
    char joined[CACHE_URI_MAX];
    size_t ol = origin_len(target);
    int n;
    if (ref.n >= 2 && ref.p[0] == '/' && ref.p[1] == '/') {
        size_t sl = (size_t)(strstr(target, "://") - target);
        n = snprintf(joined, sizeof joined, "%.*s:%.*s", (int)sl, target, (int)ref.n,
                     ref.p);
    } else if (ref.n >= 1 && ref.p[0] == '/') {
        n = snprintf(joined, sizeof joined, "%.*s%.*s", (int)ol, target, (int)ref.n,
                     ref.p);
    } else if (memchr(ref.p, ':', ref.n) && (ref.n < 2 || ref.p[0] != '.')) {
        n = snprintf(joined, sizeof joined, "%.*s", (int)ref.n, ref.p);
    } else {
        const char *q = strchr(target + ol, '?');
        size_t pathend = q ? (size_t)(q - target) : strlen(target);
        while (pathend > ol && target[pathend - 1] != '/')
            pathend--;
        n = snprintf(joined, sizeof joined, "%.*s%.*s", (int)pathend, target, (int)ref.n,
                     ref.p);
    }
    if (n < 0 || (size_t)n >= sizeof joined)
        return -1;
    struct out_buf o = {out, CACHE_URI_MAX, 0, false};
    return normalize_uri((struct http_str){joined, (size_t)n}, &o);
}

static bool same_origin(const char *a, const char *b)
{
    size_t la = origin_len(a), lb = origin_len(b);
    return la == lb && la > 0 && memcmp(a, b, la) == 0;
}

int cache_invalidation_uris(enum http_method m, int status, struct http_str target,
                            const struct http_header *resp, size_t n,
                            char bufs[3][CACHE_URI_MAX])
{
    if (cache_method_safe(m) || status < 200 || status > 399)
        return 0;
    struct out_buf o = {bufs[0], CACHE_URI_MAX, 0, false};
    if (normalize_uri(target, &o) < 0)
        return 0;
    int k = 1;
    static const char *const refs[] = {"location", "content-location"};
    for (size_t i = 0; i < 2; i++) {
        const struct http_str *v = cache_field_get(resp, n, refs[i]);
        /* 4.4: never another origin's URIs (a denial-of-service vector). */
        if (v && v->n && resolve(bufs[0], *v, bufs[k]) == 0 &&
            same_origin(bufs[0], bufs[k]))
            k++;
    }
    return k;
}
