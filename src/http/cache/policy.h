/* policy: the pure functions of RFC 9111 (and RFC 5861) a shared cache
 * runs on a request and a stored or received response: storability (3),
 * freshness (4.2), reuse decisions with the request's directives (4, 5.2.1),
 * Vary (4.1), validation (4.3) and invalidation (4.4). No I/O, no clock:
 * times are passed in. Implemented in storable.c, freshness.c, decide.c,
 * vary.c, validate.c, conditional.c and invalidate.c. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "http/cache/cache_control.h"
#include "httpmsg/request.h"

/* Tunables of the freshness rules ([proxy] cache_heuristic_max). */
struct cache_policy {
    int64_t heuristic_max; /* cap of heuristic freshness (4.2.2), seconds */
};

/* A response as the cache sees it: status, header fields and when the
 * request that produced it was sent and the response received (4.2.3). */
struct cache_response {
    int status;
    const struct http_header *h;
    size_t n;
    time_t request_time, response_time;
};

/* ---- storable.c: RFC 9111 3 -------------------------------------------- */

/* True when a shared cache may store the response to this request (3,
 * 3.5): method GET, a final status other than 206 and 304, no no-store in
 * either message (must-understand with a known status overrides the
 * response's, 5.2.2.3), no unqualified private, Authorization only with
 * public, must-revalidate or s-maxage, some explicit freshness or a
 * heuristically cacheable status, and not `Vary: *`. */
bool cache_storable(enum http_method m, const struct http_header *req, size_t nreq,
                    int status, const struct http_header *resp, size_t nresp);

/* RFC 9110 15.1: statuses heuristically cacheable. */
bool cache_status_heuristic(int status);

/* ---- freshness.c: RFC 9111 4.2 ----------------------------------------- */

/* 4.2.1 for a shared cache: s-maxage, else max-age, else Expires - Date,
 * else (for a heuristically cacheable status or with public, 4.2.2) 10 %
 * of Date - Last-Modified capped at p->heuristic_max, else 0. *heuristic
 * (may be NULL) says the last rule gave it. */
int64_t cache_freshness_lifetime(const struct cache_response *r,
                                 const struct cache_control *cc,
                                 const struct cache_policy *p, bool *heuristic);

/* 4.2.3: current_age = max(apparent_age, Age + response_delay) + resident. */
int64_t cache_current_age(const struct cache_response *r, time_t now);

/* ---- decide.c: RFC 9111 4, 4.2.4, 5.2.1, RFC 5861 ----------------------- */

enum cache_decision {
    CACHE_FRESH,            /* serve the stored response */
    CACHE_STALE_OK,         /* serve it stale: the client's max-stale allows it */
    CACHE_STALE_REVALIDATE, /* serve it stale, revalidate in the background (5861 3) */
    CACHE_VALIDATE,         /* send a conditional request first (4.3.1) */
    CACHE_GATEWAY_TIMEOUT,  /* only-if-cached and unusable: answer 504 (5.2.1.7) */
};

/* Whether a stored response may satisfy a request now: the response's
 * no-cache, must-revalidate, proxy-revalidate and s-maxage, the request's
 * no-cache (and Pragma: no-cache without Cache-Control, 5.4), max-age,
 * min-fresh, max-stale and only-if-cached, and stale-while-revalidate. */
enum cache_decision cache_decide(const struct cache_response *r,
                                 const struct http_header *req, size_t nreq, time_t now,
                                 const struct cache_policy *p);

/* When a request has no stored response: 504 for only-if-cached
 * (5.2.1.7), else CACHE_VALIDATE meaning "forward it". */
enum cache_decision cache_decide_miss(const struct http_header *req, size_t nreq);

/* RFC 5861 4: true when the stored response may be served stale because
 * the origin failed (a 500, 502, 503 or 504, or no answer): within the
 * response's or the request's stale-if-error, and not forbidden by
 * must-revalidate, proxy-revalidate, s-maxage or no-cache (4.2.4). */
bool cache_stale_if_error(const struct cache_response *r, const struct http_header *req,
                          size_t nreq, time_t now, const struct cache_policy *p);

/* RFC 5861 4: the statuses that count as an error for stale-if-error. */
bool cache_status_is_error(int status);

/* ---- vary.c: RFC 9111 4.1 ---------------------------------------------- */

#define CACHE_VARY_MAX_FIELDS 16  /* names in one response's Vary */
#define CACHE_VARY_MAX_VALUE 2048 /* a normalised request field value */

/* The Vary field names of a response (as written) into names[]: returns
 * the count, -1 for `Vary: *` (never matches) or too many names. */
int cache_vary_names(const struct http_header *resp, size_t n,
                     struct http_str names[CACHE_VARY_MAX_FIELDS]);

/* The normalised value of request field `name` (all its lines joined with
 * ",", list elements trimmed of OWS, lowercased for the fields whose values
 * are case-insensitive: Accept-Encoding, Accept-Charset, Accept-Language)
 * into out[cap]: its length, -1 when absent, -2 when longer than cap. */
int cache_vary_normalize(const struct http_header *req, size_t n, struct http_str name,
                         char *out, size_t cap);

/* True when a new request matches the stored response's Vary (4.1): for
 * each name, the normalised values of the new request and of the request
 * that was stored (stored_req) are equal, absent matching absent only. */
bool cache_vary_match(const struct http_header *resp, size_t nresp,
                      const struct http_header *stored_req, size_t nstored,
                      const struct http_header *req, size_t nreq);

/* ---- validate.c: RFC 9111 4.3 ------------------------------------------ */

/* 4.3.1: the conditional fields to send when validating a stored response:
 * If-None-Match with its ETag and If-Modified-Since with its Last-Modified,
 * when present. Writes at most 2 fields to out (values point into the
 * stored fields); returns the count (0: no validator, fetch unconditionally). */
size_t cache_conditional_fields(const struct http_header *stored, size_t n,
                                struct http_header out[2]);

/* 4.3.4: which of the stored responses cand[0..n) (the variants of the
 * key) a 304 with fields h304 updates: those sharing one of its strong
 * ETags; else the most recent one sharing its weak validator (a weak ETag
 * or Last-Modified); else, with no validator in the 304, the only stored
 * response if it has none either. Returns the index, or -1 (do not update). */
int cache_select_for_304(const struct cache_response *const *cand, size_t n,
                         const struct http_header *h304, size_t n304);

/* 4.3.4 with 3.2: the stored fields updated from a 304: each field of the
 * 304 replaces all stored fields of that name, except Content-Length and
 * Content-Range (they describe the stored body) and the fields a cache
 * does not store (3.1). The stored Age is dropped: the 304 restarts the
 * age calculation. Writes at most cap fields to out, pointing into both
 * inputs; returns the count. */
size_t cache_merge_304(const struct http_header *stored, size_t ns,
                       const struct http_header *h304, size_t n304,
                       struct http_header *out, size_t cap);

/* ---- conditional.c: RFC 9111 4.3.2, RFC 9110 13.2.2 --------------------- */

/* True when the cache answers a client's conditional GET or HEAD with 304
 * from the stored 2xx response r: an If-None-Match (every line) with `*` or
 * an entity-tag that matches the stored ETag by weak comparison; without
 * If-None-Match, an If-Modified-Since (one valid HTTP-date) not older than
 * the stored Last-Modified, else its Date, else its response_time. A
 * malformed If-None-Match never matches (the full response is correct). */
bool cache_not_modified(const struct cache_response *r, enum http_method m,
                        const struct http_header *req, size_t nreq);

/* The request carries If-None-Match or If-Modified-Since. */
bool cache_request_conditional(const struct http_header *req, size_t nreq);

/* RFC 9110 15.4.5: the fields a 304 from the cache keeps of the stored
 * response (ETag, Cache-Control, Expires, Vary, Date, Content-Location,
 * Last-Modified). */
bool cache_304_field(struct http_str name);

/* ---- invalidate.c: RFC 9111 4.4 and the cache key ------------------------ */

#define CACHE_URI_MAX 8192

/* The cache key of a request: "METHOD SP absolute-URI" with the scheme and
 * host lowercased and a default port (:80 for http, :443 for https)
 * removed (RFC 9110 4.2.3). Returns the length, or -1 if uri is not an
 * absolute http(s) URI or the key does not fit in out[cap]. */
int cache_key(const char *method, struct http_str uri, char *out, size_t cap);

/* 4.4: the URIs to invalidate after a response to an unsafe request: the
 * target URI, and the Location and Content-Location (resolved against it)
 * when they have the same origin, for a 2xx or 3xx status. Writes each,
 * normalised as in cache_key without the method, into bufs[i][CACHE_URI_MAX]
 * and returns their count (0 for a safe method or an error status). */
int cache_invalidation_uris(enum http_method m, int status, struct http_str target,
                            const struct http_header *resp, size_t n,
                            char bufs[3][CACHE_URI_MAX]);

/* RFC 9110 9.2.1: GET, HEAD, OPTIONS and TRACE are safe. */
bool cache_method_safe(enum http_method m);
