/* range: choosing the byte range of a stored response to send (RFC 9110
 * 14.2, 13.1.5), on top of http/range.c's parser. */
#include "http/cache/range.h"

#include "http/cache/fields.h"

#include <string.h>

static bool weak(struct http_str t)
{
    return t.n >= 2 && t.p[0] == 'W' && t.p[1] == '/';
}

/* 13.1.5: If-Range is an entity-tag (strong comparison) or an HTTP-date
 * (equal to Last-Modified). */
static bool if_range_matches(const struct cache_response *r, struct http_str v)
{
    if (v.n && (v.p[0] == '"' || weak(v))) {
        const struct http_str *etag = cache_field_get(r->h, r->n, "etag");
        return etag && !weak(v) && !weak(*etag) && etag->n == v.n &&
               memcmp(etag->p, v.p, v.n) == 0;
    }
    const struct http_str *lm = cache_field_get(r->h, r->n, "last-modified");
    return lm && lm->n == v.n && memcmp(lm->p, v.p, v.n) == 0;
}

enum cache_range_answer cache_range_select(const struct cache_response *r,
                                           uint64_t body_len,
                                           const struct http_str *range,
                                           const struct http_str *if_range,
                                           struct http_range *out)
{
    if (!range || r->status != 200)
        return CACHE_RANGE_FULL;
    if (if_range && !if_range_matches(r, *if_range))
        return CACHE_RANGE_FULL;
    int n = http_range_parse(*range, body_len, out, 1);
    if (n == 0)
        return CACHE_RANGE_416;
    if (n < 0)
        return CACHE_RANGE_FULL;
    return CACHE_RANGE_PARTIAL;
}
