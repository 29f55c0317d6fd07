/* cache_control: the Cache-Control header field (RFC 9111 5.2) parsed into
 * the directives a shared cache acts on, for requests (5.2.1) and responses
 * (5.2.2), plus RFC 5861's stale-while-revalidate and stale-if-error. Pure:
 * no allocation; field-name lists point into the caller's header values. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpmsg/request.h"

/* RFC 9111 1.2.2: a delta-seconds too large to represent is taken as 2^31. */
#define CACHE_DELTA_MAX 2147483648LL
/* A directive that is absent. */
#define CACHE_CC_ABSENT (-1LL)

enum cache_cc_flag {
    CC_NO_STORE = 1u << 0,         /* 5.2.1.5, 5.2.2.5 */
    CC_NO_CACHE = 1u << 1,         /* 5.2.1.4, 5.2.2.4 (unqualified) */
    CC_PRIVATE = 1u << 2,          /* 5.2.2.7 (unqualified) */
    CC_PUBLIC = 1u << 3,           /* 5.2.2.9 */
    CC_MUST_REVALIDATE = 1u << 4,  /* 5.2.2.2 */
    CC_PROXY_REVALIDATE = 1u << 5, /* 5.2.2.8 */
    CC_NO_TRANSFORM = 1u << 6,     /* 5.2.1.6, 5.2.2.6 */
    CC_ONLY_IF_CACHED = 1u << 7,   /* 5.2.1.7 */
    CC_MUST_UNDERSTAND = 1u << 8,  /* 5.2.2.3 */
    CC_IMMUTABLE = 1u << 9,        /* RFC 8246 (parsed, not acted on) */
    CC_MAX_STALE_ANY = 1u << 10,   /* 5.2.1.2 without a value: any staleness */
};

/* The field-name list of a qualified no-cache or private (5.2.2.4, 5.2.2.7):
 * the contents of the quoted string, a comma-separated list of names. */
#define CACHE_CC_MAX_LISTS 4

struct cache_control {
    unsigned flags;
    /* delta-seconds, capped at CACHE_DELTA_MAX; CACHE_CC_ABSENT if absent.
     * An invalid or conflicting value of max-age or s-maxage in a response
     * is 0 (4.2.1: "the response should be considered stale"). */
    int64_t max_age, s_maxage, max_stale, min_fresh;
    int64_t stale_while_revalidate, stale_if_error; /* RFC 5861 3, 4 */
    /* Qualified forms: the names not to store (private) or not to reuse
     * without validation (no-cache); a shared cache strips both. */
    struct http_str no_cache_fields[CACHE_CC_MAX_LISTS];
    size_t n_no_cache_fields;
    struct http_str private_fields[CACHE_CC_MAX_LISTS];
    size_t n_private_fields;
};

/* Parses every Cache-Control field line among h[0..n) (RFC 9110 5.3: the
 * lines form one list). Directive names are case-insensitive; arguments
 * may be a token or a quoted-string; unknown directives are ignored (5.2.3);
 * for a repeated directive the first valid occurrence wins, except that a
 * repeated max-age or s-maxage with a different value makes it 0 (4.2.1). */
void cache_control_parse(const struct http_header *h, size_t n, struct cache_control *cc);

/* Parses one field value (used by cache_control_parse and the fuzzer). */
void cache_control_parse_value(struct http_str v, struct cache_control *cc);

/* True when the header field `name` is in one of the lists. */
bool cache_control_lists_name(const struct http_str *lists, size_t n,
                              struct http_str name);
