/* mutf7: modified UTF-7 both ways (RFC 3501 5.1.3): printable US-ASCII
 * stands for itself except '&', written "&-"; anything else is UTF-16BE in
 * modified base64 (',' for '/', no padding) between '&' and '-'. */
#include "store/mutf7.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

struct out_buf {
    char *p;
    size_t len, cap;
};

static int put(struct out_buf *o, char c)
{
    if (o->len + 1 >= o->cap)
        return -1;
    o->p[o->len++] = c;
    o->p[o->len] = '\0';
    return 0;
}

/* One code point from UTF-8 at *s (advanced), or -1 if invalid. */
static int32_t utf8_next(const unsigned char **s)
{
    const unsigned char *p = *s;
    int32_t c = p[0];
    int extra = 0;
    int32_t min = 0;
    if (c < 0x80) {
        *s = p + 1;
        return c;
    }
    if ((c & 0xe0) == 0xc0) {
        extra = 1, c &= 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        extra = 2, c &= 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        extra = 3, c &= 0x07, min = 0x10000;
    } else {
        return -1;
    }
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return -1;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return -1;
    *s = p + 1 + extra;
    return c;
}

/* Bits waiting to be written as base64 digits. */
struct b64_state {
    uint32_t bits;
    int nbits;
};

static int put_u16(struct out_buf *o, struct b64_state *b, uint32_t u)
{
    b->bits = (b->bits << 16) | u;
    b->nbits += 16;
    while (b->nbits >= 6) {
        b->nbits -= 6;
        if (put(o, b64[(b->bits >> b->nbits) & 0x3f]) < 0)
            return -1;
    }
    return 0;
}

static int shift_end(struct out_buf *o, struct b64_state *b)
{
    if (b->nbits > 0 && put(o, b64[(b->bits << (6 - b->nbits)) & 0x3f]) < 0)
        return -1;
    b->nbits = 0;
    b->bits = 0;
    return put(o, '-');
}

int mutf7_encode(const char *utf8, char *out, size_t outlen)
{
    struct out_buf o = {out, 0, outlen};
    struct b64_state b = {0, 0};
    bool shifted = false;
    const unsigned char *s = (const unsigned char *)utf8;
    if (outlen == 0)
        return -1;
    out[0] = '\0';
    while (*s) {
        int32_t c = utf8_next(&s);
        if (c < 0)
            return -1;
        bool direct = c >= 0x20 && c <= 0x7e;
        if (direct && shifted) {
            if (shift_end(&o, &b) < 0)
                return -1;
            shifted = false;
        }
        if (direct) {
            if (put(&o, (char)c) < 0 || (c == '&' && put(&o, '-') < 0))
                return -1;
            continue;
        }
        if (!shifted && put(&o, '&') < 0)
            return -1;
        shifted = true;
        int rc;
        if (c >= 0x10000) {
            c -= 0x10000;
            rc = put_u16(&o, &b, 0xd800 | ((uint32_t)c >> 10));
            if (rc == 0)
                rc = put_u16(&o, &b, 0xdc00 | ((uint32_t)c & 0x3ff));
        } else {
            rc = put_u16(&o, &b, (uint32_t)c);
        }
        if (rc < 0)
            return -1;
    }
    if (shifted && shift_end(&o, &b) < 0)
        return -1;
    return 0;
}

static int put_utf8(struct out_buf *o, uint32_t c)
{
    int rc = 0;
    if (c < 0x80) {
        rc = put(o, (char)c);
    } else if (c < 0x800) {
        rc = put(o, (char)(0xc0 | (c >> 6)));
        rc |= put(o, (char)(0x80 | (c & 0x3f)));
    } else if (c < 0x10000) {
        rc = put(o, (char)(0xe0 | (c >> 12)));
        rc |= put(o, (char)(0x80 | ((c >> 6) & 0x3f)));
        rc |= put(o, (char)(0x80 | (c & 0x3f)));
    } else {
        rc = put(o, (char)(0xf0 | (c >> 18)));
        rc |= put(o, (char)(0x80 | ((c >> 12) & 0x3f)));
        rc |= put(o, (char)(0x80 | ((c >> 6) & 0x3f)));
        rc |= put(o, (char)(0x80 | (c & 0x3f)));
    }
    return rc;
}

/* One UTF-16 unit decoded: pairs surrogates, refuses what RFC 3501 forbids
 * inside a shift (printable ASCII) and lone surrogates. */
static int take_unit(struct out_buf *o, uint32_t u, uint32_t *high)
{
    if (*high) {
        if (u < 0xdc00 || u > 0xdfff)
            return -1;
        uint32_t c = 0x10000 + ((*high - 0xd800) << 10) + (u - 0xdc00);
        *high = 0;
        return put_utf8(o, c);
    }
    if (u >= 0xd800 && u <= 0xdbff) {
        *high = u;
        return 0;
    }
    if ((u >= 0xdc00 && u <= 0xdfff) || (u >= 0x20 && u <= 0x7e))
        return -1;
    return put_utf8(o, u);
}

/* A shifted run starting after '&'; *s is left after its '-'. */
static int decode_run(struct out_buf *o, const char **s)
{
    struct b64_state b = {0, 0};
    uint32_t high = 0;
    const char *p = *s;
    for (; *p && *p != '-'; p++) {
        const char *d = strchr(b64, *p);
        if (!d || !*p)
            return -1;
        b.bits = (b.bits << 6) | (uint32_t)(d - b64);
        b.nbits += 6;
        if (b.nbits >= 16) {
            b.nbits -= 16;
            if (take_unit(o, (b.bits >> b.nbits) & 0xffff, &high) < 0)
                return -1;
        }
    }
    /* Unterminated, a dangling surrogate, or non-zero / too many pad bits. */
    if (*p != '-' || high || b.nbits >= 6 || (b.bits & ((1u << b.nbits) - 1)))
        return -1;
    *s = p + 1;
    return 0;
}

int mutf7_decode(const char *mutf7, char *out, size_t outlen)
{
    struct out_buf o = {out, 0, outlen};
    const char *s = mutf7;
    if (outlen == 0)
        return -1;
    out[0] = '\0';
    while (*s) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c > 0x7e)
            return -1;
        if (c != '&') {
            if (put(&o, (char)c) < 0)
                return -1;
            s++;
            continue;
        }
        s++;
        if (*s == '-') {
            if (put(&o, '&') < 0)
                return -1;
            s++;
            continue;
        }
        if (decode_run(&o, &s) < 0)
            return -1;
    }
    return 0;
}
