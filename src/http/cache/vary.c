/* vary: matching a new request against the request a stored response was
 * selected by (RFC 9111 4.1), with header values normalised first. */
#include "http/cache/fields.h"
#include "http/cache/policy.h"

#include <string.h>
#include <strings.h>

struct names_ctx {
    struct http_str *names;
    int n;
    bool star, full;
};

static int add_name(struct http_str item, void *arg)
{
    struct names_ctx *x = arg;
    if (item.n == 1 && item.p[0] == '*') {
        x->star = true;
        return 1;
    }
    if (x->n == CACHE_VARY_MAX_FIELDS) {
        x->full = true;
        return 1;
    }
    x->names[x->n++] = item;
    return 0;
}

int cache_vary_names(const struct http_header *resp, size_t n,
                     struct http_str names[CACHE_VARY_MAX_FIELDS])
{
    struct names_ctx x = {.names = names};
    for (size_t i = 0; i < n && !x.star && !x.full; i++)
        if (http_str_ieq(resp[i].name, "vary"))
            http_list_each(resp[i].value, add_name, &x);
    if (x.star || x.full)
        return -1;
    return x.n;
}

/* Fields whose values are case-insensitive tokens (RFC 9110 12.5). */
static bool case_insensitive_field(struct http_str name)
{
    return http_str_ieq(name, "accept-encoding") ||
           http_str_ieq(name, "accept-charset") || http_str_ieq(name, "accept-language");
}

struct norm_ctx {
    char *out;
    size_t cap, len;
    bool lower, overflow, any;
};

static int append_item(struct http_str item, void *arg)
{
    struct norm_ctx *x = arg;
    size_t need = item.n + (x->any ? 1 : 0);
    if (x->len + need > x->cap) {
        x->overflow = true;
        return 1;
    }
    if (x->any)
        x->out[x->len++] = ',';
    for (size_t i = 0; i < item.n; i++) {
        char c = item.p[i];
        if (x->lower && c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        x->out[x->len++] = c;
    }
    x->any = true;
    return 0;
}

int cache_vary_normalize(const struct http_header *req, size_t n, struct http_str name,
                         char *out, size_t cap)
{
    struct norm_ctx x = {.out = out, .cap = cap, .lower = case_insensitive_field(name)};
    bool present = false;
    for (size_t i = 0; i < n && !x.overflow; i++) {
        if (req[i].name.n != name.n || strncasecmp(req[i].name.p, name.p, name.n) != 0)
            continue;
        present = true;
        http_list_each(req[i].value, append_item, &x);
    }
    if (x.overflow)
        return -2;
    if (!present)
        return -1;
    return (int)x.len;
}

bool cache_vary_match(const struct http_header *resp, size_t nresp,
                      const struct http_header *stored_req, size_t nstored,
                      const struct http_header *req, size_t nreq)
{
    struct http_str names[CACHE_VARY_MAX_FIELDS];
    int nn = cache_vary_names(resp, nresp, names);
    if (nn < 0) /* Vary: * always fails to match */
        return false;
    char a[CACHE_VARY_MAX_VALUE], b[CACHE_VARY_MAX_VALUE];
    for (int i = 0; i < nn; i++) {
        int la = cache_vary_normalize(stored_req, nstored, names[i], a, sizeof a);
        int lb = cache_vary_normalize(req, nreq, names[i], b, sizeof b);
        if (la == -2 || lb == -2 || la != lb)
            return false;
        if (la > 0 && memcmp(a, b, (size_t)la) != 0)
            return false;
    }
    return true;
}
