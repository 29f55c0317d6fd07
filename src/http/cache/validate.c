/* validate: conditional requests for stored responses (RFC 9111 4.3.1),
 * which stored response a 304 updates (4.3.4) and the merge of its fields
 * into the stored ones (4.3.4, 3.2). */
#include "http/cache/fields.h"
#include "http/cache/policy.h"

#include <string.h>

size_t cache_conditional_fields(const struct http_header *stored, size_t n,
                                struct http_header out[2])
{
    size_t k = 0;
    const struct http_str *etag = cache_field_get(stored, n, "etag");
    const struct http_str *lm = cache_field_get(stored, n, "last-modified");
    if (etag && etag->n)
        out[k++] = (struct http_header){{"If-None-Match", 13}, *etag};
    if (lm && lm->n)
        out[k++] = (struct http_header){{"If-Modified-Since", 17}, *lm};
    return k;
}

static bool weak_tag(struct http_str t)
{
    return t.n >= 2 && t.p[0] == 'W' && t.p[1] == '/';
}

static struct http_str opaque(struct http_str t)
{
    if (weak_tag(t))
        return (struct http_str){t.p + 2, t.n - 2};
    return t;
}

static bool str_eq(struct http_str a, struct http_str b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* The most recent candidate whose field `name` satisfies eq with v. */
static int most_recent(const struct cache_response *const *cand, size_t n,
                       const char *name, struct http_str v, bool strong)
{
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        const struct http_str *f = cache_field_get(cand[i]->h, cand[i]->n, name);
        if (!f)
            continue;
        bool same;
        if (strong) /* RFC 9110 8.8.3.2: strong comparison */
            same = !weak_tag(*f) && str_eq(*f, v);
        else if (strcmp(name, "etag") == 0)
            same = str_eq(opaque(*f), opaque(v));
        else
            same = str_eq(*f, v);
        if (same && (best < 0 || cand[i]->response_time > cand[best]->response_time))
            best = (int)i;
    }
    return best;
}

static bool has_validator(const struct cache_response *r)
{
    return cache_field_has(r->h, r->n, "etag") ||
           cache_field_has(r->h, r->n, "last-modified");
}

int cache_select_for_304(const struct cache_response *const *cand, size_t n,
                         const struct http_header *h304, size_t n304)
{
    const struct http_str *etag = cache_field_get(h304, n304, "etag");
    const struct http_str *lm = cache_field_get(h304, n304, "last-modified");
    if (etag && !weak_tag(*etag))
        return most_recent(cand, n, "etag", *etag, true);
    if (etag)
        return most_recent(cand, n, "etag", *etag, false);
    if (lm)
        return most_recent(cand, n, "last-modified", *lm, false);
    if (n == 1 && !has_validator(cand[0]))
        return 0;
    return -1;
}

/* 3.2: fields of a 304 that do not update the stored response. */
static bool updates(struct http_str name, const struct http_header *h304, size_t n304,
                    const struct cache_control *cc)
{
    if (http_str_ieq(name, "content-length") || http_str_ieq(name, "content-range"))
        return false;
    return cache_field_storable(name, h304, n304, cc);
}

size_t cache_merge_304(const struct http_header *stored, size_t ns,
                       const struct http_header *h304, size_t n304,
                       struct http_header *out, size_t cap)
{
    struct cache_control cc;
    cache_control_parse(h304, n304, &cc);
    size_t k = 0;
    for (size_t i = 0; i < ns && k < cap; i++) {
        struct http_str name = stored[i].name;
        if (http_str_ieq(name, "age"))
            continue;
        if (cache_field_find(h304, n304, name) && updates(name, h304, n304, &cc))
            continue;
        out[k++] = stored[i];
    }
    for (size_t i = 0; i < n304 && k < cap; i++)
        if (updates(h304[i].name, h304, n304, &cc))
            out[k++] = h304[i];
    return k;
}
