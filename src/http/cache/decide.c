/* decide: may a stored response satisfy this request now (RFC 9111 4,
 * 4.2.4, 5.2.1; RFC 5861)? */
#include "http/cache/fields.h"
#include "http/cache/policy.h"

/* 5.4: Pragma: no-cache counts as no-cache only without Cache-Control. */
static bool pragma_no_cache(const struct http_header *req, size_t n)
{
    if (cache_field_has(req, n, "cache-control"))
        return false;
    const struct http_str *p = cache_field_get(req, n, "pragma");
    struct http_str name = {"no-cache", 8};
    return p && cache_control_lists_name(p, 1, name);
}

/* 4.2.4: serving stale is forbidden by must-revalidate, proxy-revalidate
 * and s-maxage (which implies proxy-revalidate, 5.2.2.10) in a shared
 * cache, and by no-cache, which allows no reuse without validation. */
static bool stale_forbidden(const struct cache_control *rs)
{
    if (rs->flags & (CC_MUST_REVALIDATE | CC_PROXY_REVALIDATE | CC_NO_CACHE))
        return true;
    return rs->s_maxage != CACHE_CC_ABSENT;
}

static enum cache_decision validate_or_504(const struct cache_control *rq)
{
    if (rq->flags & CC_ONLY_IF_CACHED)
        return CACHE_GATEWAY_TIMEOUT;
    return CACHE_VALIDATE;
}

/* The stale response is usable: the client's max-stale (5.2.1.2), or the
 * origin's stale-while-revalidate (RFC 5861 3). */
static enum cache_decision when_stale(const struct cache_control *rq,
                                      const struct cache_control *rs, int64_t staleness)
{
    if (stale_forbidden(rs))
        return validate_or_504(rq);
    if ((rq->flags & CC_MAX_STALE_ANY) ||
        (rq->max_stale != CACHE_CC_ABSENT && staleness <= rq->max_stale))
        return CACHE_STALE_OK;
    if (rs->stale_while_revalidate != CACHE_CC_ABSENT &&
        staleness <= rs->stale_while_revalidate)
        return CACHE_STALE_REVALIDATE;
    return validate_or_504(rq);
}

enum cache_decision cache_decide(const struct cache_response *r,
                                 const struct http_header *req, size_t nreq, time_t now,
                                 const struct cache_policy *p)
{
    struct cache_control rq, rs;
    cache_control_parse(req, nreq, &rq);
    cache_control_parse(r->h, r->n, &rs);
    if (rs.flags & CC_NO_CACHE) /* 5.2.2.4: validate on every reuse */
        return validate_or_504(&rq);
    if ((rq.flags & CC_NO_CACHE) || pragma_no_cache(req, nreq)) /* 5.2.1.4 */
        return validate_or_504(&rq);
    int64_t lifetime = cache_freshness_lifetime(r, &rs, p, NULL);
    int64_t age = cache_current_age(r, now);
    if (rq.max_age != CACHE_CC_ABSENT && age > rq.max_age) /* 5.2.1.1 */
        return validate_or_504(&rq);
    if (lifetime > age) {
        /* 5.2.1.3: fresh for at least min-fresh more seconds. */
        if (rq.min_fresh != CACHE_CC_ABSENT && lifetime - age < rq.min_fresh)
            return validate_or_504(&rq);
        return CACHE_FRESH;
    }
    return when_stale(&rq, &rs, age - lifetime);
}

enum cache_decision cache_decide_miss(const struct http_header *req, size_t nreq)
{
    struct cache_control rq;
    cache_control_parse(req, nreq, &rq);
    return validate_or_504(&rq);
}

bool cache_status_is_error(int status)
{
    return status == 500 || status == 502 || status == 503 || status == 504;
}

bool cache_stale_if_error(const struct cache_response *r, const struct http_header *req,
                          size_t nreq, time_t now, const struct cache_policy *p)
{
    struct cache_control rq, rs;
    cache_control_parse(req, nreq, &rq);
    cache_control_parse(r->h, r->n, &rs);
    if (stale_forbidden(&rs))
        return false;
    int64_t lifetime = cache_freshness_lifetime(r, &rs, p, NULL);
    int64_t staleness = cache_current_age(r, now) - lifetime;
    if (staleness < 0)
        staleness = 0; /* fresh: serving it is no staleness at all */
    if (rs.stale_if_error != CACHE_CC_ABSENT && staleness <= rs.stale_if_error)
        return true;
    return rq.stale_if_error != CACHE_CC_ABSENT && staleness <= rq.stale_if_error;
}
