/* storable: may a shared cache store this response (RFC 9111 3, 3.5)? */
#include "http/cache/fields.h"
#include "http/cache/policy.h"

bool cache_status_heuristic(int status)
{
    /* RFC 9110 15.1 */
    static const int codes[] = {200, 203, 204, 206, 300, 301,
                                308, 404, 405, 410, 414, 501};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        if (codes[i] == status)
            return true;
    return false;
}

/* Statuses whose caching rules this cache implements (for must-understand,
 * 5.2.2.3): the heuristic ones and the redirects. 206 is never stored. */
static bool status_understood(int status)
{
    if (status == 206)
        return false;
    return cache_status_heuristic(status) || status == 302 || status == 303 ||
           status == 307;
}

static bool vary_star(const struct http_header *resp, size_t n)
{
    struct http_str names[CACHE_VARY_MAX_FIELDS];
    return cache_vary_names(resp, n, names) < 0;
}

/* 3.5: a shared cache reuses an answer to an authorised request only when
 * the response says a shared cache may. */
static bool authorization_allows(const struct cache_control *cc)
{
    return (cc->flags & (CC_PUBLIC | CC_MUST_REVALIDATE)) ||
           cc->s_maxage != CACHE_CC_ABSENT;
}

static bool has_explicit_or_heuristic(int status, const struct http_header *resp,
                                      size_t n, const struct cache_control *cc)
{
    if (cc->flags & CC_PUBLIC)
        return true;
    if (cc->max_age != CACHE_CC_ABSENT || cc->s_maxage != CACHE_CC_ABSENT)
        return true;
    if (cache_field_has(resp, n, "expires"))
        return true;
    return cache_status_heuristic(status);
}

static bool no_store_applies(int status, const struct cache_control *cc)
{
    if (!(cc->flags & CC_NO_STORE))
        return false;
    /* 5.2.2.3: a cache that understands the status ignores no-store. */
    return !((cc->flags & CC_MUST_UNDERSTAND) && status_understood(status));
}

bool cache_storable(enum http_method m, const struct http_header *req, size_t nreq,
                    int status, const struct http_header *resp, size_t nresp)
{
    if (m != HTTP_M_GET)
        return false;
    if (status < 200 || status > 599 || status == 206 || status == 304)
        return false;
    struct cache_control rq, rs;
    cache_control_parse(req, nreq, &rq);
    cache_control_parse(resp, nresp, &rs);
    if (rq.flags & CC_NO_STORE) /* 5.2.1.5 */
        return false;
    if (no_store_applies(status, &rs)) /* 5.2.2.5 */
        return false;
    if ((rs.flags & CC_MUST_UNDERSTAND) && !status_understood(status))
        return false;
    if (rs.flags & CC_PRIVATE) /* 5.2.2.7: a shared cache */
        return false;
    if (cache_field_has(req, nreq, "authorization") && !authorization_allows(&rs))
        return false;
    if (vary_star(resp, nresp)) /* 4.1: it could never be reused */
        return false;
    return has_explicit_or_heuristic(status, resp, nresp, &rs);
}
