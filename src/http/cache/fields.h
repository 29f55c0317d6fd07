/* fields: lookups in arrays of header fields (struct http_header, as the
 * request parser and the proxy's response parser give them) and the rules
 * on which fields a shared cache stores (RFC 9111 3.1). Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "http/cache/cache_control.h"
#include "httpmsg/request.h"

/* The first field named `name` (case-insensitive), or NULL. */
const struct http_str *cache_field_get(const struct http_header *h, size_t n,
                                       const char *name);

/* Same, with the name as an http_str. */
const struct http_str *cache_field_find(const struct http_header *h, size_t n,
                                        struct http_str name);

/* True when a field named `name` is in h. */
bool cache_field_has(const struct http_header *h, size_t n, const char *name);

/* RFC 9111 3.1: false for the fields a cache must not store: Connection
 * and the fields it names, the hop-by-hop fields of RFC 9110 7.6.1, the
 * proxy-specific ones, and (for a shared cache) the fields named by a
 * qualified private or no-cache (5.2.2.4, 5.2.2.7). `resp` is the whole
 * response head the field comes from. */
bool cache_field_storable(struct http_str name, const struct http_header *resp, size_t n,
                          const struct cache_control *cc);

/* Copies the storable fields of in[0..n) to out (at most cap); returns the
 * count. The values still point into the caller's buffers. */
size_t cache_fields_filter(const struct http_header *in, size_t n,
                           struct http_header *out, size_t cap);
