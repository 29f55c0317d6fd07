/* Unit tests of the pure RFC 9111 / RFC 5861 policy of http/cache/: one
 * test per rule, named after its section, written from the RFC text. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdlib.h>

#include "fields_util.h"
#include "http/cache/fields.h"
#include "http/cache/policy.h"
#include "http/cache/range.h"

static const struct cache_policy pol = {.heuristic_max = 86400};
static struct hdrs rq, rs;

/* A response received at T0 (request sent at T0), with `fields`, where
 * "@D" stands for the Date T0 and "@-N" / "@+N" for T0 -/+ N seconds. */
static struct cache_response resp(int status, const char *fields)
{
    char out[4096], date[HTTP_DATE_LEN + 1];
    size_t o = 0;
    for (const char *p = fields; *p && o + 40 < sizeof out;) {
        if (*p == '@') {
            char *end;
            long off = strtol(p + 1, &end, 10);
            if (p[1] == 'D') {
                off = 0;
                end = (char *)p + 2;
            }
            date_at(off, date);
            memcpy(out + o, date, HTTP_DATE_LEN);
            o += HTTP_DATE_LEN;
            p = end;
        } else {
            out[o++] = *p++;
        }
    }
    out[o] = '\0';
    hdrs_set(&rs, out);
    return (struct cache_response){status, rs.h, rs.n, T0, T0};
}

static void req(const char *fields)
{
    hdrs_set(&rq, fields);
}

static bool storable(int status, const char *rsf)
{
    struct cache_response r = resp(status, rsf);
    return cache_storable(HTTP_M_GET, rq.h, rq.n, r.status, r.h, r.n);
}

static enum cache_decision decide_at(const char *rsf, long now_off)
{
    struct cache_response r = resp(200, rsf);
    return cache_decide(&r, rq.h, rq.n, T0 + now_off, &pol);
}

/* ---- 3: storing responses --------------------------------------------- */

static void rfc9111_3_method_understood(void **state)
{
    req("");
    struct cache_response r = resp(200, "Cache-Control: max-age=60\n");
    assert_true(cache_storable(HTTP_M_GET, rq.h, rq.n, 200, r.h, r.n));
    assert_false(cache_storable(HTTP_M_POST, rq.h, rq.n, 200, r.h, r.n));
    assert_false(cache_storable(HTTP_M_PUT, rq.h, rq.n, 200, r.h, r.n));
}

static void rfc9111_3_final_status(void **state)
{
    req("");
    assert_false(storable(100, "Cache-Control: max-age=60\n"));
    assert_false(storable(206, "Cache-Control: max-age=60\n")); /* partial: not stored */
    assert_false(storable(304, "Cache-Control: max-age=60\n"));
    assert_true(storable(200, "Cache-Control: max-age=60\n"));
    assert_true(storable(500, "Cache-Control: max-age=60\n"));
}

static void rfc9111_5_2_2_5_response_no_store(void **state)
{
    req("");
    assert_false(storable(200, "Cache-Control: no-store, max-age=60\n"));
}

static void rfc9111_5_2_1_5_request_no_store(void **state)
{
    req("Cache-Control: no-store\n");
    assert_false(storable(200, "Cache-Control: max-age=60\n"));
}

static void rfc9111_5_2_2_7_private(void **state)
{
    req("");
    assert_false(storable(200, "Cache-Control: private, max-age=60\n"));
    /* Qualified: stored, without the named fields. */
    assert_true(storable(200,
                         "Cache-Control: private=\"X-User\", max-age=60\nX-User: bob\n"
                         "X-Other: 1\n"));
    struct http_header out[MAXH];
    size_t n = cache_fields_filter(rs.h, rs.n, out, MAXH);
    assert_null(cache_field_get(out, n, "x-user"));
    assert_non_null(cache_field_get(out, n, "x-other"));
}

static void rfc9111_5_2_2_4_qualified_no_cache_stripped(void **state)
{
    req("");
    resp(200, "Cache-Control: no-cache=\"Set-Cookie\", max-age=60\nSet-Cookie: a=b\n"
              "Content-Type: text/plain\n");
    struct http_header out[MAXH];
    size_t n = cache_fields_filter(rs.h, rs.n, out, MAXH);
    assert_null(cache_field_get(out, n, "set-cookie"));
    assert_non_null(cache_field_get(out, n, "content-type"));
}

static void rfc9111_3_1_hop_by_hop_not_stored(void **state)
{
    resp(200, "Connection: close, X-Hop\nX-Hop: 1\nKeep-Alive: timeout=5\n"
              "Transfer-Encoding: chunked\nProxy-Authenticate: Basic\nETag: \"a\"\n");
    struct http_header out[MAXH];
    size_t n = cache_fields_filter(rs.h, rs.n, out, MAXH);
    assert_int_equal(n, 1);
    assert_true(http_str_ieq(out[0].name, "etag"));
}

static void rfc9111_3_5_authorization(void **state)
{
    req("Authorization: Basic Ym9iOnNlY3JldA==\n");
    assert_false(storable(200, "Cache-Control: max-age=60\n"));
    assert_true(storable(200, "Cache-Control: s-maxage=60\n"));
    assert_true(storable(200, "Cache-Control: public, max-age=60\n"));
    assert_true(storable(200, "Cache-Control: must-revalidate, max-age=60\n"));
}

static void rfc9111_5_2_2_3_must_understand(void **state)
{
    req("");
    /* A cache that understands the status ignores no-store. */
    assert_true(storable(200, "Cache-Control: must-understand, no-store, max-age=60\n"));
    /* An unknown status with must-understand is not stored. */
    assert_false(storable(299, "Cache-Control: must-understand, max-age=60\n"));
}

static void rfc9111_3_needs_freshness_or_heuristic(void **state)
{
    req("");
    assert_false(storable(302, "Location: /x\n"));
    assert_true(storable(302, "Location: /x\nCache-Control: max-age=60\n"));
    assert_true(storable(302, "Location: /x\nExpires: @+60\n"));
    assert_true(storable(302, "Location: /x\nCache-Control: public\n"));
    assert_true(
        storable(200, "Content-Type: text/plain\n")); /* heuristically cacheable */
    assert_true(storable(404, ""));
    assert_false(storable(500, ""));
}

static void rfc9111_4_1_vary_star_not_stored(void **state)
{
    req("");
    assert_false(storable(200, "Cache-Control: max-age=60\nVary: *\n"));
    assert_false(storable(200, "Cache-Control: max-age=60\nVary: Accept, *\n"));
}

/* ---- 4.2: freshness ---------------------------------------------------- */

static int64_t lifetime(struct cache_response r, bool *heur)
{
    struct cache_control cc;
    cache_control_parse(r.h, r.n, &cc);
    return cache_freshness_lifetime(&r, &cc, &pol, heur);
}

static void rfc9111_4_2_1_s_maxage_first(void **state)
{
    assert_int_equal(lifetime(resp(200, "Cache-Control: max-age=60, s-maxage=10\n"
                                        "Expires: @+1000\nDate: @D\n"),
                              NULL),
                     10);
}

static void rfc9111_4_2_1_max_age_over_expires(void **state)
{
    assert_int_equal(
        lifetime(resp(200, "Cache-Control: max-age=60\nExpires: @+1000\nDate: @D\n"),
                 NULL),
        60);
}

static void rfc9111_4_2_1_expires_minus_date(void **state)
{
    assert_int_equal(lifetime(resp(200, "Expires: @+300\nDate: @-100\n"), NULL), 400);
    /* 5.3: an invalid Expires, such as "0", is in the past. */
    assert_int_equal(lifetime(resp(200, "Expires: 0\nDate: @D\n"), NULL), 0);
    assert_int_equal(lifetime(resp(200, "Expires: @-10\nDate: @D\n"), NULL), 0);
}

static void rfc9111_4_2_2_heuristic(void **state)
{
    bool heur;
    /* 10 % of the time since Last-Modified. */
    assert_int_equal(lifetime(resp(200, "Last-Modified: @-10000\nDate: @D\n"), &heur),
                     1000);
    assert_true(heur);
    /* Capped. */
    assert_int_equal(lifetime(resp(200, "Last-Modified: @-100000000\nDate: @D\n"), NULL),
                     86400);
    /* Not for a status that is not heuristically cacheable... */
    assert_int_equal(lifetime(resp(302, "Last-Modified: @-10000\nDate: @D\n"), NULL), 0);
    /* ...unless public says so. */
    assert_int_equal(lifetime(resp(302, "Cache-Control: public\nLast-Modified: @-10000\n"
                                        "Date: @D\n"),
                              NULL),
                     1000);
    /* Not when there is explicit freshness. */
    assert_int_equal(
        lifetime(resp(200, "Expires: @+5\nLast-Modified: @-10000\nDate: @D\n"), &heur),
        5);
    assert_false(heur);
}

static void rfc9111_4_2_3_age(void **state)
{
    /* Age: 10, sent at T0, received at T0 + 2, Date T0 - 5 (apparent 7). */
    struct cache_response r = resp(200, "Date: @-5\nAge: 10\n");
    r.request_time = T0;
    r.response_time = T0 + 2;
    /* corrected_age_value = 10 + 2 = 12 > apparent 7; resident 8. */
    assert_int_equal(cache_current_age(&r, T0 + 10), 20);
    /* Without Age the apparent age counts. */
    r = resp(200, "Date: @-30\n");
    assert_int_equal(cache_current_age(&r, T0), 30);
    /* A Date in the future gives no negative age; invalid Age is ignored. */
    r = resp(200, "Date: @+30\nAge: x\n");
    assert_int_equal(cache_current_age(&r, T0 + 4), 4);
}

/* ---- 4, 4.2.4, 5.2.1: reuse ---------------------------------------------- */

static void rfc9111_4_2_fresh_and_stale(void **state)
{
    req("");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 30), CACHE_FRESH);
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 61),
                     CACHE_VALIDATE);
}

static void rfc9111_5_2_1_1_request_max_age(void **state)
{
    req("Cache-Control: max-age=10\n");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 5), CACHE_FRESH);
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 20),
                     CACHE_VALIDATE);
}

static void rfc9111_5_2_1_2_max_stale(void **state)
{
    req("Cache-Control: max-stale=30\n");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 80),
                     CACHE_STALE_OK);
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 100),
                     CACHE_VALIDATE);
    req("Cache-Control: max-stale\n");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 100000),
                     CACHE_STALE_OK);
}

static void rfc9111_5_2_1_3_min_fresh(void **state)
{
    req("Cache-Control: min-fresh=20\n");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 30), CACHE_FRESH);
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 50),
                     CACHE_VALIDATE);
}

static void rfc9111_5_2_1_4_request_no_cache(void **state)
{
    req("Cache-Control: no-cache\n");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 1),
                     CACHE_VALIDATE);
    /* 5.4: Pragma: no-cache without Cache-Control means the same. */
    req("Pragma: no-cache\n");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 1),
                     CACHE_VALIDATE);
    req("Pragma: no-cache\nCache-Control: max-stale\n");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 1), CACHE_FRESH);
}

static void rfc9111_5_2_1_7_only_if_cached(void **state)
{
    req("Cache-Control: only-if-cached\n");
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 1), CACHE_FRESH);
    assert_int_equal(decide_at("Cache-Control: max-age=60\nDate: @D\n", 100),
                     CACHE_GATEWAY_TIMEOUT);
    assert_int_equal(cache_decide_miss(rq.h, rq.n), CACHE_GATEWAY_TIMEOUT);
    req("");
    assert_int_equal(cache_decide_miss(rq.h, rq.n), CACHE_VALIDATE);
}

static void rfc9111_5_2_2_4_response_no_cache(void **state)
{
    req("");
    assert_int_equal(decide_at("Cache-Control: no-cache, max-age=60\nDate: @D\n", 1),
                     CACHE_VALIDATE);
}

static void rfc9111_5_2_2_2_must_revalidate(void **state)
{
    req("Cache-Control: max-stale=1000\n");
    assert_int_equal(
        decide_at("Cache-Control: max-age=60, must-revalidate\nDate: @D\n", 80),
        CACHE_VALIDATE);
    assert_int_equal(
        decide_at("Cache-Control: max-age=60, must-revalidate\nDate: @D\n", 10),
        CACHE_FRESH);
}

static void rfc9111_5_2_2_8_proxy_revalidate(void **state)
{
    req("Cache-Control: max-stale=1000\n");
    assert_int_equal(
        decide_at("Cache-Control: max-age=60, proxy-revalidate\nDate: @D\n", 80),
        CACHE_VALIDATE);
}

static void rfc9111_5_2_2_10_s_maxage_implies_proxy_revalidate(void **state)
{
    req("Cache-Control: max-stale=1000\n");
    assert_int_equal(decide_at("Cache-Control: s-maxage=60\nDate: @D\n", 80),
                     CACHE_VALIDATE);
}

static void rfc5861_3_stale_while_revalidate(void **state)
{
    req("");
    const char *f = "Cache-Control: max-age=60, stale-while-revalidate=30\nDate: @D\n";
    assert_int_equal(decide_at(f, 30), CACHE_FRESH);
    assert_int_equal(decide_at(f, 80), CACHE_STALE_REVALIDATE);
    assert_int_equal(decide_at(f, 100), CACHE_VALIDATE);
    assert_int_equal(
        decide_at(
            "Cache-Control: max-age=60, stale-while-revalidate=30, must-revalidate\n"
            "Date: @D\n",
            80),
        CACHE_VALIDATE);
}

static bool sie(const char *rsf, long now)
{
    struct cache_response r = resp(200, rsf);
    return cache_stale_if_error(&r, rq.h, rq.n, T0 + now, &pol);
}

static void rfc5861_4_stale_if_error(void **state)
{
    req("");
    assert_true(sie("Cache-Control: max-age=60, stale-if-error=100\nDate: @D\n", 150));
    assert_false(sie("Cache-Control: max-age=60, stale-if-error=100\nDate: @D\n", 170));
    assert_false(sie("Cache-Control: max-age=60\nDate: @D\n", 70));
    assert_false(sie("Cache-Control: max-age=60, stale-if-error=100, must-revalidate\n"
                     "Date: @D\n",
                     70));
    /* The request may ask for it too. */
    req("Cache-Control: stale-if-error=50\n");
    assert_true(sie("Cache-Control: max-age=60\nDate: @D\n", 100));
    assert_true(cache_status_is_error(503));
    assert_false(cache_status_is_error(404));
}

/* ---- 4.1: Vary -------------------------------------------------------------- */

static bool vary(const char *resp_fields, const char *stored_req, const char *new_req)
{
    struct hdrs a, b;
    resp(200, resp_fields);
    hdrs_set(&a, stored_req);
    hdrs_set(&b, new_req);
    return cache_vary_match(rs.h, rs.n, a.h, a.n, b.h, b.n);
}

static void rfc9111_4_1_vary_match(void **state)
{
    assert_true(vary("Vary: Accept-Encoding\n", "Accept-Encoding: gzip, br\n",
                     "accept-encoding: GZIP,br\n"));
    assert_false(vary("Vary: Accept-Encoding\n", "Accept-Encoding: gzip\n",
                      "Accept-Encoding: br\n"));
    /* Absent matches absent only. */
    assert_false(vary("Vary: Accept-Encoding\n", "", "Accept-Encoding: gzip\n"));
    assert_true(vary("Vary: Accept-Encoding\n", "", "User-Agent: x\n"));
    /* Several lines of the request field are combined. */
    assert_true(vary("Vary: Accept-Language\n",
                     "Accept-Language: en\nAccept-Language: fr\n",
                     "Accept-Language: en, fr\n"));
    /* Every named field must match; Vary lines combine. */
    assert_false(vary("Vary: Accept\nVary: X-Mode\n", "Accept: a\nX-Mode: 1\n",
                      "Accept: a\nX-Mode: 2\n"));
    assert_true(vary("", "Accept: a\n", "Accept: b\n"));
}

static void rfc9111_4_1_vary_star_never_matches(void **state)
{
    assert_false(vary("Vary: *\n", "", ""));
}

/* ---- 4.3: validation ---------------------------------------------------------- */

static void rfc9111_4_3_1_conditional_request(void **state)
{
    resp(200, "ETag: \"v1\"\nLast-Modified: Tue, 15 Nov 1994 12:45:26 GMT\n");
    struct http_header out[2];
    assert_int_equal(cache_conditional_fields(rs.h, rs.n, out), 2);
    assert_true(http_str_ieq(out[0].name, "if-none-match"));
    assert_true(http_str_ieq(out[0].value, "\"v1\""));
    assert_true(http_str_ieq(out[1].name, "if-modified-since"));
    assert_true(http_str_ieq(out[1].value, "Tue, 15 Nov 1994 12:45:26 GMT"));
    resp(200, "Content-Type: text/plain\n");
    assert_int_equal(cache_conditional_fields(rs.h, rs.n, out), 0);
}

static int select304(const char *a, const char *b, const char *h304)
{
    struct hdrs ha, hb, h3;
    hdrs_set(&ha, a);
    hdrs_set(&hb, b);
    hdrs_set(&h3, h304);
    struct cache_response ra = {200, ha.h, ha.n, T0, T0},
                          rb = {200, hb.h, hb.n, T0, T0 + 5};
    const struct cache_response *c[2] = {&ra, &rb};
    size_t n = b[0] ? 2 : 1;
    return cache_select_for_304(c, n, h3.h, h3.n);
}

static void rfc9111_4_3_4_select_stored(void **state)
{
    /* A strong validator picks the stored response with the same one. */
    assert_int_equal(select304("ETag: \"a\"\n", "ETag: \"b\"\n", "ETag: \"b\"\n"), 1);
    assert_int_equal(select304("ETag: \"a\"\n", "ETag: \"b\"\n", "ETag: \"c\"\n"), -1);
    /* A weak one: the most recent stored response that matches weakly. */
    assert_int_equal(select304("ETag: W/\"a\"\n", "ETag: \"a\"\n", "ETag: W/\"a\"\n"), 1);
    assert_int_equal(
        select304("Last-Modified: x\n", "Last-Modified: y\n", "Last-Modified: x\n"), 0);
    /* No validator: only when a single stored response has none either. */
    assert_int_equal(select304("Content-Type: a\n", "", "Date: x\n"), 0);
    assert_int_equal(select304("ETag: \"a\"\n", "", "Date: x\n"), -1);
    assert_int_equal(select304("Content-Type: a\n", "Content-Type: b\n", "Date: x\n"),
                     -1);
}

static void rfc9111_4_3_4_merge_304(void **state)
{
    struct hdrs st, h3;
    hdrs_set(&st,
             "Content-Type: text/plain\nContent-Length: 5\nCache-Control: max-age=1\n"
             "Age: 100\nETag: \"a\"\nX-Keep: 1\n");
    hdrs_set(&h3, "Cache-Control: max-age=60\nContent-Length: 0\nConnection: close\n"
                  "ETag: \"a\"\nX-New: 2\n");
    struct http_header out[MAXH];
    size_t n = cache_merge_304(st.h, st.n, h3.h, h3.n, out, MAXH);
    assert_true(http_str_ieq(*cache_field_get(out, n, "cache-control"), "max-age=60"));
    assert_true(http_str_ieq(*cache_field_get(out, n, "content-length"), "5"));
    assert_non_null(cache_field_get(out, n, "x-keep"));
    assert_non_null(cache_field_get(out, n, "x-new"));
    assert_null(cache_field_get(out, n, "connection"));
    assert_null(cache_field_get(out, n, "age"));
    int etags = 0;
    for (size_t i = 0; i < n; i++)
        etags += http_str_ieq(out[i].name, "etag");
    assert_int_equal(etags, 1);
}

static bool not_modified(int status, const char *rsf, enum http_method m, const char *rqf)
{
    struct cache_response r = resp(status, rsf);
    req(rqf);
    return cache_not_modified(&r, m, rq.h, rq.n);
}

static void rfc9111_4_3_2_if_none_match(void **state)
{
    const char *st = "ETag: W/\"a\"\nLast-Modified: Tue, 15 Nov 1994 12:45:26 GMT\n";
    assert_true(not_modified(200, st, HTTP_M_GET, "If-None-Match: \"a\"\n"));
    assert_true(not_modified(200, st, HTTP_M_HEAD, "If-None-Match: \"x\", W/\"a\"\n"));
    assert_true(not_modified(200, st, HTTP_M_GET,
                             "If-None-Match: \"x\"\nIf-None-Match: \"a\"\n"));
    assert_true(not_modified(200, st, HTTP_M_GET, "If-None-Match: *\n"));
    assert_true(not_modified(200, "Content-Type: a\n", HTTP_M_GET, "If-None-Match: *\n"));
    assert_false(not_modified(200, st, HTTP_M_GET, "If-None-Match: \"b\"\n"));
    assert_false(not_modified(200, st, HTTP_M_GET, "If-None-Match: a\n")); /* unquoted */
    assert_false(not_modified(200, st, HTTP_M_GET, "If-None-Match: \"a\n"));
    assert_false(not_modified(200, st, HTTP_M_GET, "If-None-Match: *, \"a\"\n"));
    assert_false(
        not_modified(200, "Content-Type: a\n", HTTP_M_GET, "If-None-Match: \"a\"\n"));
    /* Only GET and HEAD, only a 2xx stored response (RFC 9110 13.1). */
    assert_false(not_modified(200, st, HTTP_M_POST, "If-None-Match: \"a\"\n"));
    assert_false(not_modified(404, st, HTTP_M_GET, "If-None-Match: \"a\"\n"));
}

static void rfc9111_4_3_2_if_modified_since(void **state)
{
    const char *st = "Last-Modified: Tue, 15 Nov 1994 12:45:26 GMT\n"
                     "Date: Wed, 16 Nov 1994 12:45:26 GMT\n";
    assert_true(not_modified(200, st, HTTP_M_GET,
                             "If-Modified-Since: Tue, 15 Nov 1994 12:45:26 GMT\n"));
    assert_true(not_modified(200, st, HTTP_M_GET,
                             "If-Modified-Since: Tue, 15 Nov 1994 13:00:00 GMT\n"));
    assert_false(not_modified(200, st, HTTP_M_GET,
                              "If-Modified-Since: Tue, 15 Nov 1994 12:45:25 GMT\n"));
    assert_false(not_modified(200, st, HTTP_M_GET, "If-Modified-Since: yesterday\n"));
    /* Without Last-Modified: the stored Date. */
    assert_false(not_modified(200, "Date: Wed, 16 Nov 1994 12:45:26 GMT\n", HTTP_M_GET,
                              "If-Modified-Since: Tue, 15 Nov 1994 13:00:00 GMT\n"));
    assert_true(not_modified(200, "Date: Wed, 16 Nov 1994 12:45:26 GMT\n", HTTP_M_GET,
                             "If-Modified-Since: Wed, 16 Nov 1994 12:45:26 GMT\n"));
}

static void rfc9110_13_2_2_if_none_match_first(void **state)
{
    const char *st = "ETag: \"a\"\nLast-Modified: Tue, 15 Nov 1994 12:45:26 GMT\n";
    /* A failing If-None-Match: If-Modified-Since is not looked at. */
    assert_false(not_modified(200, st, HTTP_M_GET,
                              "If-None-Match: \"b\"\n"
                              "If-Modified-Since: Tue, 15 Nov 1994 12:45:26 GMT\n"));
    assert_true(not_modified(200, st, HTTP_M_GET,
                             "If-None-Match: \"a\"\n"
                             "If-Modified-Since: Mon, 14 Nov 1994 12:45:26 GMT\n"));
}

static void rfc9110_15_4_5_fields_of_a_304(void **state)
{
    assert_true(cache_304_field((struct http_str){"ETag", 4}));
    assert_true(cache_304_field((struct http_str){"vary", 4}));
    assert_true(cache_304_field((struct http_str){"Content-Location", 16}));
    assert_false(cache_304_field((struct http_str){"Content-Type", 12}));
    assert_false(cache_304_field((struct http_str){"Content-Length", 14}));
}

/* ---- 4.4: invalidation, the key ------------------------------------------------ */

static void cache_key_normalised(void **state)
{
    char k[256];
    assert_int_equal(cache_key("GET", S("HTTP://Example.COM:80"), k, sizeof k), 23);
    assert_string_equal(k, "GET http://example.com/");
    cache_key("GET", S("https://a.example:443/p?q=1#frag"), k, sizeof k);
    assert_string_equal(k, "GET https://a.example/p?q=1");
    cache_key("GET", S("http://a.example:8080/P"), k, sizeof k);
    assert_string_equal(k, "GET http://a.example:8080/P");
    assert_int_equal(cache_key("GET", S("/relative"), k, sizeof k), -1);
    assert_int_equal(cache_key("GET", S("ftp://x/"), k, sizeof k), -1);
}

static char bufs[3][CACHE_URI_MAX];

static int inval(enum http_method m, int status, const char *target, const char *fields)
{
    resp(status, fields);
    return cache_invalidation_uris(m, status, S(target), rs.h, rs.n, bufs);
}

static void rfc9111_4_4_invalidation(void **state)
{
    assert_int_equal(inval(HTTP_M_POST, 200, "http://a.example/dir/form",
                           "Location: /new\nContent-Location: item?x=1\n"),
                     3);
    assert_string_equal(bufs[0], "http://a.example/dir/form");
    assert_string_equal(bufs[1], "http://a.example/new");
    assert_string_equal(bufs[2], "http://a.example/dir/item?x=1");
    /* Another origin's URIs are not invalidated. */
    assert_int_equal(
        inval(HTTP_M_PUT, 201, "http://a.example/x", "Location: http://b.example/y\n"),
        1);
    assert_int_equal(inval(HTTP_M_DELETE, 204, "http://a.example/x",
                           "Content-Location: https://a.example/x\n"),
                     1);
    assert_int_equal(inval(HTTP_M_DELETE, 204, "http://a.example/x",
                           "Content-Location: HTTP://A.example:80/z\n"),
                     2);
    /* Error statuses and safe methods invalidate nothing. */
    assert_int_equal(inval(HTTP_M_POST, 500, "http://a.example/x", ""), 0);
    assert_int_equal(inval(HTTP_M_POST, 404, "http://a.example/x", ""), 0);
    assert_int_equal(inval(HTTP_M_GET, 200, "http://a.example/x", ""), 0);
}

/* ---- ranges from a stored response (RFC 9110 14.2, 13.1.5) ---------------------- */

static enum cache_range_answer rng(int status, const char *range, const char *if_range,
                                   struct http_range *out)
{
    struct cache_response r =
        resp(status, "ETag: \"s\"\nLast-Modified: Tue, 15 Nov 1994 12:45:26 GMT\n");
    struct http_str rv = S(range ? range : ""), iv = S(if_range ? if_range : "");
    return cache_range_select(&r, 1000, range ? &rv : NULL, if_range ? &iv : NULL, out);
}

static void rfc9110_14_2_range_from_cache(void **state)
{
    struct http_range out;
    assert_int_equal(rng(200, "bytes=10-19", NULL, &out), CACHE_RANGE_PARTIAL);
    assert_int_equal(out.first, 10);
    assert_int_equal(out.last, 19);
    assert_int_equal(rng(200, "bytes=-100", NULL, &out), CACHE_RANGE_PARTIAL);
    assert_int_equal(out.first, 900);
    assert_int_equal(rng(200, NULL, NULL, &out), CACHE_RANGE_FULL);
    assert_int_equal(rng(200, "bytes=0-1,5-6", NULL, &out), CACHE_RANGE_FULL);
    assert_int_equal(rng(200, "bytes=5000-", NULL, &out), CACHE_RANGE_416);
    assert_int_equal(rng(200, "lines=1-2", NULL, &out), CACHE_RANGE_FULL);
    assert_int_equal(rng(404, "bytes=0-1", NULL, &out), CACHE_RANGE_FULL);
}

static void rfc9110_13_1_5_if_range(void **state)
{
    struct http_range out;
    assert_int_equal(rng(200, "bytes=0-9", "\"s\"", &out), CACHE_RANGE_PARTIAL);
    assert_int_equal(rng(200, "bytes=0-9", "\"t\"", &out), CACHE_RANGE_FULL);
    assert_int_equal(rng(200, "bytes=0-9", "W/\"s\"", &out), CACHE_RANGE_FULL);
    assert_int_equal(rng(200, "bytes=0-9", "Tue, 15 Nov 1994 12:45:26 GMT", &out),
                     CACHE_RANGE_PARTIAL);
    assert_int_equal(rng(200, "bytes=0-9", "Wed, 16 Nov 1994 12:45:26 GMT", &out),
                     CACHE_RANGE_FULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc9111_3_method_understood),
        cmocka_unit_test(rfc9111_3_final_status),
        cmocka_unit_test(rfc9111_5_2_2_5_response_no_store),
        cmocka_unit_test(rfc9111_5_2_1_5_request_no_store),
        cmocka_unit_test(rfc9111_5_2_2_7_private),
        cmocka_unit_test(rfc9111_5_2_2_4_qualified_no_cache_stripped),
        cmocka_unit_test(rfc9111_3_1_hop_by_hop_not_stored),
        cmocka_unit_test(rfc9111_3_5_authorization),
        cmocka_unit_test(rfc9111_5_2_2_3_must_understand),
        cmocka_unit_test(rfc9111_3_needs_freshness_or_heuristic),
        cmocka_unit_test(rfc9111_4_1_vary_star_not_stored),
        cmocka_unit_test(rfc9111_4_2_1_s_maxage_first),
        cmocka_unit_test(rfc9111_4_2_1_max_age_over_expires),
        cmocka_unit_test(rfc9111_4_2_1_expires_minus_date),
        cmocka_unit_test(rfc9111_4_2_2_heuristic),
        cmocka_unit_test(rfc9111_4_2_3_age),
        cmocka_unit_test(rfc9111_4_2_fresh_and_stale),
        cmocka_unit_test(rfc9111_5_2_1_1_request_max_age),
        cmocka_unit_test(rfc9111_5_2_1_2_max_stale),
        cmocka_unit_test(rfc9111_5_2_1_3_min_fresh),
        cmocka_unit_test(rfc9111_5_2_1_4_request_no_cache),
        cmocka_unit_test(rfc9111_5_2_1_7_only_if_cached),
        cmocka_unit_test(rfc9111_5_2_2_4_response_no_cache),
        cmocka_unit_test(rfc9111_5_2_2_2_must_revalidate),
        cmocka_unit_test(rfc9111_5_2_2_8_proxy_revalidate),
        cmocka_unit_test(rfc9111_5_2_2_10_s_maxage_implies_proxy_revalidate),
        cmocka_unit_test(rfc5861_3_stale_while_revalidate),
        cmocka_unit_test(rfc5861_4_stale_if_error),
        cmocka_unit_test(rfc9111_4_1_vary_match),
        cmocka_unit_test(rfc9111_4_1_vary_star_never_matches),
        cmocka_unit_test(rfc9111_4_3_1_conditional_request),
        cmocka_unit_test(rfc9111_4_3_4_select_stored),
        cmocka_unit_test(rfc9111_4_3_4_merge_304),
        cmocka_unit_test(rfc9111_4_3_2_if_none_match),
        cmocka_unit_test(rfc9111_4_3_2_if_modified_since),
        cmocka_unit_test(rfc9110_13_2_2_if_none_match_first),
        cmocka_unit_test(rfc9110_15_4_5_fields_of_a_304),
        cmocka_unit_test(cache_key_normalised),
        cmocka_unit_test(rfc9111_4_4_invalidation),
        cmocka_unit_test(rfc9110_14_2_range_from_cache),
        cmocka_unit_test(rfc9110_13_1_5_if_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
