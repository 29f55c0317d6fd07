/* range: Range requests served from a stored full response (RFC 9110 14.2,
 * 13.1.5 If-Range, RFC 9111 3.4 only for complete stored responses). Pure. */
#pragma once
#include <stdint.h>

#include "http/cache/policy.h"
#include "http/range.h"

enum cache_range_answer {
    CACHE_RANGE_FULL,    /* send the whole stored response (200) */
    CACHE_RANGE_PARTIAL, /* send *out as 206 with Content-Range */
    CACHE_RANGE_416,     /* no satisfiable range: 416, Content-Range: bytes * / size */
};

/* Given the stored response (status and fields), its body length and the
 * request's Range and If-Range values (NULL when absent): one range when
 * the stored response is a 200 to a GET, Range is one valid bytes range
 * and If-Range, if sent, matches (a strong ETag equal to the stored one,
 * or a date equal to the stored Last-Modified, RFC 9110 13.1.5); otherwise
 * the full response. Several ranges are answered in full (14.2 allows it). */
enum cache_range_answer cache_range_select(const struct cache_response *r,
                                           uint64_t body_len,
                                           const struct http_str *range,
                                           const struct http_str *if_range,
                                           struct http_range *out);
