/* conditional: a client's own conditional request answered by the cache
 * from a stored response (RFC 9111 4.3.2), with the precedence of RFC 9110
 * 13.2.2: If-None-Match (weak comparison, `*`) first, If-Modified-Since
 * only without it, against the stored Last-Modified, else its Date, else
 * the time it was received. If-Match and If-Unmodified-Since are for the
 * origin (4.3.2) and not evaluated here. Pure. */
#include "http/cache/fields.h"
#include "http/cache/policy.h"
#include "httpmsg/date.h"

#include <string.h>

enum tag_match { TAG_NONE, TAG_MATCH, TAG_BAD };

static bool ows(char c)
{
    return c == ' ' || c == '\t';
}

/* RFC 9110 8.8.3: the opaque part of an entity-tag (quotes included), the
 * W/ prefix dropped: weak comparison compares these. */
static struct http_str opaque_tag(struct http_str t)
{
    if (t.n >= 2 && t.p[0] == 'W' && t.p[1] == '/')
        return (struct http_str){t.p + 2, t.n - 2};
    return t;
}

/* One entity-tag at v[*i]: its opaque part in *out, *i past it. */
static bool next_tag(struct http_str v, size_t *i, struct http_str *out)
{
    size_t s = *i;
    if (s + 1 < v.n && v.p[s] == 'W' && v.p[s + 1] == '/')
        s += 2;
    if (s >= v.n || v.p[s] != '"')
        return false;
    const char *close = memchr(v.p + s + 1, '"', v.n - s - 1);
    if (!close)
        return false;
    size_t end = (size_t)(close - v.p) + 1;
    *out = (struct http_str){v.p + s, end - s};
    *i = end;
    return true;
}

/* One If-None-Match field value: `*`, or a list of entity-tags. */
static enum tag_match value_matches(struct http_str v, struct http_str stored,
                                    bool star_ok)
{
    size_t i = 0;
    bool any = false;
    while (i < v.n) {
        while (i < v.n && (ows(v.p[i]) || v.p[i] == ','))
            i++;
        if (i >= v.n)
            break;
        if (v.p[i] == '*') {
            if (any)
                return TAG_BAD;
            i++;
            while (i < v.n && ows(v.p[i]))
                i++;
            if (i < v.n)
                return TAG_BAD; /* `*` stands alone */
            return star_ok ? TAG_MATCH : TAG_NONE;
        }
        struct http_str t;
        if (!next_tag(v, &i, &t))
            return TAG_BAD;
        any = true;
        struct http_str a = opaque_tag(t);
        if (stored.n && a.n == stored.n && memcmp(a.p, stored.p, a.n) == 0)
            return TAG_MATCH;
        if (i < v.n && !ows(v.p[i]) && v.p[i] != ',')
            return TAG_BAD;
    }
    return any ? TAG_NONE : TAG_BAD;
}

/* RFC 9110 13.1.2 on every If-None-Match line: a match in any of them. A
 * malformed one makes no match (the full response is always correct). */
static bool none_match_fails(const struct http_header *req, size_t nreq,
                             const struct cache_response *r)
{
    const struct http_str *etag = cache_field_get(r->h, r->n, "etag");
    struct http_str stored = {"", 0};
    if (etag)
        stored = opaque_tag(*etag);
    bool match = false;
    for (size_t i = 0; i < nreq; i++) {
        if (!http_str_ieq(req[i].name, "if-none-match"))
            continue;
        enum tag_match m = value_matches(req[i].value, stored, true);
        if (m == TAG_BAD)
            return false;
        match |= m == TAG_MATCH;
    }
    return match;
}

/* 4.3.2: the date the stored response was last modified, as far as the
 * cache knows. */
static time_t stored_modified(const struct cache_response *r)
{
    time_t t;
    const struct http_str *lm = cache_field_get(r->h, r->n, "last-modified");
    if (lm && http_date_parse(*lm, &t))
        return t;
    const struct http_str *date = cache_field_get(r->h, r->n, "date");
    if (date && http_date_parse(*date, &t))
        return t;
    return r->response_time;
}

/* RFC 9110 13.1.3: one valid HTTP-date, else the field is ignored. */
static bool not_modified_since(const struct http_header *req, size_t nreq,
                               const struct cache_response *r)
{
    const struct http_str *ims = NULL;
    for (size_t i = 0; i < nreq; i++) {
        if (!http_str_ieq(req[i].name, "if-modified-since"))
            continue;
        if (ims)
            return false; /* more than one member */
        ims = &req[i].value;
    }
    time_t since;
    if (!ims || !http_date_parse(*ims, &since))
        return false;
    return stored_modified(r) <= since;
}

bool cache_not_modified(const struct cache_response *r, enum http_method m,
                        const struct http_header *req, size_t nreq)
{
    if (m != HTTP_M_GET && m != HTTP_M_HEAD)
        return false;
    /* RFC 9110 13.1: preconditions apply to a 2xx answer only. */
    if (r->status < 200 || r->status > 299)
        return false;
    if (cache_field_has(req, nreq, "if-none-match")) /* 13.2.2 step 3 */
        return none_match_fails(req, nreq, r);
    return not_modified_since(req, nreq, r); /* step 4 */
}

bool cache_request_conditional(const struct http_header *req, size_t nreq)
{
    return cache_field_has(req, nreq, "if-none-match") ||
           cache_field_has(req, nreq, "if-modified-since");
}

bool cache_304_field(struct http_str name)
{
    static const char *const kept[] = {
        "cache-control", "content-location", "date", "etag", "expires",
        "vary",          "last-modified",    NULL};
    for (size_t i = 0; kept[i]; i++)
        if (http_str_ieq(name, kept[i]))
            return true;
    return false;
}
