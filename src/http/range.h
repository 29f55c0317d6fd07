/* range: the Range header field (RFC 9110 14.1.2, 14.2) against a
 * representation of known length. Pure. */
#pragma once
#include <stdint.h>

#include "httpmsg/request.h"

struct http_range {
    uint64_t first, last; /* inclusive */
};

/* Parses a "bytes=" range set for a representation of `size` bytes into at
 * most max ranges, in the client's order. Returns the number of
 * satisfiable ranges (> 0), 0 when none is satisfiable (416), or -1 when the
 * field is invalid, not in bytes, or has more than max ranges: the field is
 * then ignored and the whole representation is sent (RFC 9110 14.2). */
int http_range_parse(struct http_str v, uint64_t size, struct http_range *out, int max);
