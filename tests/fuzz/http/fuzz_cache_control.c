/* Fuzzes the cache's Cache-Control parser (http/cache/cache_control.c) and
 * the policy functions that run on its output: storability, freshness,
 * age, the reuse decision, stale-if-error, Vary, validation, a client's
 * conditional answered by the cache (If-None-Match lists), the 304 merge,
 * invalidation and Range selection. The input is a response head, an empty
 * line, then a request head ("Name: value" lines). Invariants: values stay
 * in range, nothing points outside the input, and a request always matches
 * itself under a Vary without `*`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/cache/cache_control.h"
#include "http/cache/fields.h"
#include "http/cache/policy.h"
#include "http/cache/range.h"

#define MAXF 64

static const uint8_t *base;
static size_t base_len;

static void inside(struct http_str s)
{
    if (s.n &&
        ((const uint8_t *)s.p < base || (const uint8_t *)s.p + s.n > base + base_len))
        abort();
}

/* "Name: value" lines of p[0..n) into h; returns the count. */
static size_t fields(const char *p, size_t n, struct http_header *h)
{
    size_t k = 0, i = 0;
    while (i < n && k < MAXF) {
        const char *nl = memchr(p + i, '\n', n - i);
        size_t end = nl ? (size_t)(nl - p) : n;
        const char *colon = memchr(p + i, ':', end - i);
        if (colon) {
            size_t c = (size_t)(colon - p), v = c + 1;
            while (v < end && p[v] == ' ')
                v++;
            h[k].name = (struct http_str){p + i, c - i};
            h[k].value = (struct http_str){p + v, end - v};
            k++;
        }
        i = end + 1;
    }
    return k;
}

static void check_cc(const struct cache_control *cc)
{
    const int64_t v[] = {cc->max_age,
                         cc->s_maxage,
                         cc->max_stale,
                         cc->min_fresh,
                         cc->stale_while_revalidate,
                         cc->stale_if_error};
    for (size_t i = 0; i < sizeof v / sizeof *v; i++)
        if (v[i] != CACHE_CC_ABSENT && (v[i] < 0 || v[i] > CACHE_DELTA_MAX))
            abort();
    for (size_t i = 0; i < cc->n_no_cache_fields; i++)
        inside(cc->no_cache_fields[i]);
    for (size_t i = 0; i < cc->n_private_fields; i++)
        inside(cc->private_fields[i]);
}

static void vary_self_match(const struct http_header *rs, size_t nrs,
                            const struct http_header *rq, size_t nrq)
{
    struct http_str names[CACHE_VARY_MAX_FIELDS];
    int nn = cache_vary_names(rs, nrs, names);
    if (nn < 0)
        return;
    char buf[CACHE_VARY_MAX_VALUE];
    for (int i = 0; i < nn; i++)
        if (cache_vary_normalize(rq, nrq, names[i], buf, sizeof buf) == -2)
            return;
    if (!cache_vary_match(rs, nrs, rq, nrq, rq, nrq))
        abort();
}

static void policy(const struct http_header *rs, size_t nrs, const struct http_header *rq,
                   size_t nrq)
{
    static const struct cache_policy pol = {.heuristic_max = 86400};
    struct cache_control cc;
    cache_control_parse(rs, nrs, &cc);
    check_cc(&cc);
    struct cache_response r = {200, rs, nrs, 1700000000, 1700000001};
    if (cache_freshness_lifetime(&r, &cc, &pol, NULL) < 0 ||
        cache_current_age(&r, 1700000100) < 0)
        abort();
    cache_decide(&r, rq, nrq, 1700000100, &pol);
    cache_stale_if_error(&r, rq, nrq, 1700000100, &pol);
    cache_storable(HTTP_M_GET, rq, nrq, 200, rs, nrs);
    vary_self_match(rs, nrs, rq, nrq);
    struct http_header cond[2], merged[2 * MAXF];
    size_t nc = cache_conditional_fields(rs, nrs, cond);
    for (size_t i = 0; i < nc; i++)
        inside(cond[i].value);
    size_t nm = cache_merge_304(rs, nrs, rq, nrq, merged, 2 * MAXF);
    for (size_t i = 0; i < nm; i++)
        inside(merged[i].value);
    /* RFC 9111 4.3.2: a stored response always satisfies `*`. */
    bool unmodified = cache_not_modified(&r, HTTP_M_GET, rq, nrq);
    static const struct http_header star = {{"If-None-Match", 13}, {"*", 1}};
    if (!cache_not_modified(&r, HTTP_M_HEAD, &star, 1) ||
        (unmodified && !cache_request_conditional(rq, nrq)))
        abort();
    const struct cache_response *cand[1] = {&r};
    if (cache_select_for_304(cand, 1, rq, nrq) > 0)
        abort();
    static char bufs[3][CACHE_URI_MAX];
    const struct http_str *loc = cache_field_get(rq, nrq, "x-target");
    if (loc)
        cache_invalidation_uris(HTTP_M_POST, 200, *loc, rs, nrs, bufs);
    struct http_range out;
    const struct http_str *range = cache_field_get(rq, nrq, "range");
    const struct http_str *if_range = cache_field_get(rq, nrq, "if-range");
    if (cache_range_select(&r, 1000, range, if_range, &out) == CACHE_RANGE_PARTIAL &&
        (out.first > out.last || out.last >= 1000))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    base = data;
    base_len = size;
    const char *p = (const char *)data;
    const char *sep = size >= 2 ? memmem(p, size, "\n\n", 2) : NULL;
    size_t split = sep ? (size_t)(sep - p) : size;
    struct http_header rs[MAXF], rq[MAXF];
    size_t nrs = fields(p, split, rs);
    size_t nrq = sep ? fields(sep + 2, size - split - 2, rq) : 0;
    struct cache_control one;
    memset(&one, 0, sizeof one);
    one.max_age = one.s_maxage = one.max_stale = one.min_fresh = CACHE_CC_ABSENT;
    one.stale_while_revalidate = one.stale_if_error = CACHE_CC_ABSENT;
    cache_control_parse_value((struct http_str){p, split}, &one);
    check_cc(&one);
    policy(rs, nrs, rq, nrq);
    return 0;
}
