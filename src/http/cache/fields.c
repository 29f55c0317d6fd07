/* fields: header-array lookups and the storage rules of RFC 9111 3.1. */
#include "http/cache/fields.h"

#include <string.h>
#include <strings.h>

const struct http_str *cache_field_find(const struct http_header *h, size_t n,
                                        struct http_str name)
{
    for (size_t i = 0; i < n; i++)
        if (h[i].name.n == name.n && strncasecmp(h[i].name.p, name.p, name.n) == 0)
            return &h[i].value;
    return NULL;
}

const struct http_str *cache_field_get(const struct http_header *h, size_t n,
                                       const char *name)
{
    return cache_field_find(h, n, (struct http_str){name, strlen(name)});
}

bool cache_field_has(const struct http_header *h, size_t n, const char *name)
{
    return cache_field_get(h, n, name) != NULL;
}

/* RFC 9110 7.6.1 hop-by-hop fields and the proxy-specific ones of RFC 9111
 * 3.1, never stored. */
static bool hop_by_hop(struct http_str name)
{
    static const char *const names[] = {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "transfer-encoding",
        "upgrade",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-authentication-info",
        "trailer",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (http_str_ieq(name, names[i]))
            return true;
    return false;
}

static bool named_by_connection(struct http_str name, const struct http_header *h,
                                size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (http_str_ieq(h[i].name, "connection") &&
            cache_control_lists_name(&h[i].value, 1, name))
            return true;
    return false;
}

bool cache_field_storable(struct http_str name, const struct http_header *resp, size_t n,
                          const struct cache_control *cc)
{
    if (hop_by_hop(name) || named_by_connection(name, resp, n))
        return false;
    if (cache_control_lists_name(cc->private_fields, cc->n_private_fields, name))
        return false;
    return !cache_control_lists_name(cc->no_cache_fields, cc->n_no_cache_fields, name);
}

size_t cache_fields_filter(const struct http_header *in, size_t n,
                           struct http_header *out, size_t cap)
{
    struct cache_control cc;
    cache_control_parse(in, n, &cc);
    size_t k = 0;
    for (size_t i = 0; i < n && k < cap; i++)
        if (cache_field_storable(in[i].name, in, n, &cc))
            out[k++] = in[i];
    return k;
}
