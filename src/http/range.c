/* range: byte-range-set parsing (RFC 9110 14.1.2): "first-last", "first-"
 * and "-suffix"; ranges past the end are dropped, a last past the end is
 * clipped, and a set with no satisfiable range means 416 (RFC 9110 15.5.17). */
#include "http/range.h"

#include <string.h>

struct range_ctx {
    uint64_t size;
    struct http_range *out;
    int max, n, seen;
    bool bad;
};

/* Reads 1*DIGIT; returns the count of digits, 0 if none or overflow. */
static size_t number(const char *p, size_t n, uint64_t *v)
{
    size_t i = 0;
    *v = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
        if (i >= 19)
            return 0;
        *v = *v * 10 + (uint64_t)(p[i] - '0');
    }
    return i;
}

static int one_spec(struct http_str s, void *arg)
{
    struct range_ctx *x = arg;
    x->seen++;
    uint64_t a = 0, b = 0;
    const char *dash = memchr(s.p, '-', s.n);
    if (!dash) {
        x->bad = true;
        return 1;
    }
    size_t alen = (size_t)(dash - s.p), blen = s.n - alen - 1;
    if ((alen && number(s.p, alen, &a) != alen) || (blen && number(dash + 1, blen, &b) != blen) ||
        (!alen && !blen) || (alen && blen && b < a)) {
        x->bad = true;
        return 1;
    }
    if (x->n == x->max) {
        x->bad = true;
        return 1;
    }
    if (!alen) { /* suffix-range: the last b bytes */
        if (b == 0 || x->size == 0)
            return 0;
        a = b >= x->size ? 0 : x->size - b;
        b = x->size - 1;
    } else {
        if (a >= x->size)
            return 0; /* not satisfiable; others may be */
        if (!blen || b >= x->size)
            b = x->size - 1;
    }
    x->out[x->n++] = (struct http_range){a, b};
    return 0;
}

int http_range_parse(struct http_str v, uint64_t size, struct http_range *out, int max)
{
    if (v.n < 6 || !http_str_ieq((struct http_str){v.p, 6}, "bytes="))
        return -1;
    struct range_ctx x = {.size = size, .out = out, .max = max};
    struct http_str set = {v.p + 6, v.n - 6};
    http_list_each(set, one_spec, &x);
    return x.bad || x.seen == 0 ? -1 : x.n;
}
