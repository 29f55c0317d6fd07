/* freshness: freshness lifetime (RFC 9111 4.2.1, 4.2.2) and age (4.2.3). */
#include "http/cache/fields.h"
#include "http/cache/policy.h"
#include "httpmsg/date.h"

/* The Date of a response, or when it was received if it has none or an
 * invalid one (RFC 9110 6.6.1: a recipient with a clock adds one). */
static time_t date_value(const struct cache_response *r)
{
    const struct http_str *d = cache_field_get(r->h, r->n, "date");
    time_t t;
    if (d && http_date_parse(*d, &t))
        return t;
    return r->response_time;
}

static int64_t from_expires(const struct cache_response *r, struct http_str v)
{
    time_t expires;
    /* 5.3: an invalid date, such as "0", is in the past. */
    if (!http_date_parse(v, &expires))
        return 0;
    int64_t life = (int64_t)expires - (int64_t)date_value(r);
    if (life < 0)
        return 0;
    return life;
}

/* 4.2.2: 10 % of the time since Last-Modified, capped. */
static int64_t heuristic_lifetime(const struct cache_response *r,
                                  const struct cache_policy *p)
{
    const struct http_str *lm = cache_field_get(r->h, r->n, "last-modified");
    time_t modified;
    if (!lm || !http_date_parse(*lm, &modified))
        return 0;
    int64_t since = (int64_t)date_value(r) - (int64_t)modified;
    if (since <= 0)
        return 0;
    int64_t life = since / 10;
    if (life > p->heuristic_max)
        life = p->heuristic_max;
    return life;
}

int64_t cache_freshness_lifetime(const struct cache_response *r,
                                 const struct cache_control *cc,
                                 const struct cache_policy *p, bool *heuristic)
{
    if (heuristic)
        *heuristic = false;
    if (cc->s_maxage != CACHE_CC_ABSENT) /* a shared cache: s-maxage first */
        return cc->s_maxage;
    if (cc->max_age != CACHE_CC_ABSENT) /* and max-age overrides Expires */
        return cc->max_age;
    const struct http_str *exp = cache_field_get(r->h, r->n, "expires");
    if (exp)
        return from_expires(r, *exp);
    /* 4.2.2: heuristics only where the status or public allows them. */
    if (!cache_status_heuristic(r->status) && !(cc->flags & CC_PUBLIC))
        return 0;
    if (heuristic)
        *heuristic = true;
    return heuristic_lifetime(r, p);
}

/* The Age field (5.1): delta-seconds, the first valid line. */
static int64_t age_value(const struct cache_response *r)
{
    const struct http_str *a = cache_field_get(r->h, r->n, "age");
    if (!a || a->n == 0)
        return 0;
    int64_t v = 0;
    for (size_t i = 0; i < a->n; i++) {
        if (a->p[i] < '0' || a->p[i] > '9')
            return 0; /* invalid: ignored */
        if (v < CACHE_DELTA_MAX)
            v = v * 10 + (a->p[i] - '0');
    }
    if (v > CACHE_DELTA_MAX)
        v = CACHE_DELTA_MAX;
    return v;
}

int64_t cache_current_age(const struct cache_response *r, time_t now)
{
    int64_t apparent = (int64_t)r->response_time - (int64_t)date_value(r);
    if (apparent < 0)
        apparent = 0;
    int64_t delay = (int64_t)r->response_time - (int64_t)r->request_time;
    if (delay < 0)
        delay = 0;
    int64_t corrected_age = age_value(r) + delay;
    int64_t initial = apparent;
    if (corrected_age > initial)
        initial = corrected_age;
    int64_t resident = (int64_t)now - (int64_t)r->response_time;
    if (resident < 0)
        resident = 0;
    return initial + resident;
}
