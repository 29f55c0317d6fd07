/* mutf7: RFC 3501 5.1.3 modified UTF-7: printable US-ASCII except "&"
 * stands for itself, "&-" is "&", and "&" base64 "-" carries UTF-16 in the
 * modified base64 of RFC 2152 with "," for "/" and no padding. Pure. */
#include "core/mutf7.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/utf8.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
    const char *hit = NULL;
    if (c != '\0')
        hit = strchr(b64, c);
    if (hit == NULL)
        return -1;
    return (int)(hit - b64);
}

static bool is_direct(uint32_t c)
{
    return c >= 0x20 && c <= 0x7e;
}

struct out_buf {
    char *s;
    size_t cap, n;
};

static int put(struct out_buf *o, const void *data, size_t len)
{
    if (len + 1 > o->cap - o->n)
        return MUTF7_NO_ROOM;
    memcpy(o->s + o->n, data, len);
    o->n += len;
    o->s[o->n] = '\0';
    return MUTF7_OK;
}

/* Adds one UTF-16 unit of an encoded run; *high holds a pending high
 * surrogate. */
static int decode_unit(uint32_t u, uint32_t *high, struct out_buf *o)
{
    uint32_t cp = u;
    if (*high != 0) {
        if (u < 0xdc00 || u > 0xdfff)
            return MUTF7_INVALID;
        cp = 0x10000 + ((*high - 0xd800) << 10) + (u - 0xdc00);
        *high = 0;
    } else if (u >= 0xd800 && u <= 0xdbff) {
        *high = u;
        return MUTF7_OK;
    } else if (u >= 0xdc00 && u <= 0xdfff) {
        return MUTF7_INVALID;
    }
    if (cp == 0 || is_direct(cp))
        return MUTF7_INVALID; /* must be written directly: not canonical */
    unsigned char buf[4];
    size_t len = utf8_encode(cp, buf);
    if (len == 0)
        return MUTF7_INVALID;
    return put(o, buf, len);
}

/* Decodes the run after "&" at in[*i]; *i ends after its "-". */
static int decode_run(const char *in, size_t n, size_t *i, struct out_buf *o)
{
    uint32_t bits = 0, high = 0;
    unsigned nbits = 0;
    size_t start = *i;
    for (; *i < n && in[*i] != '-'; (*i)++) {
        int v = b64_value((unsigned char)in[*i]);
        if (v < 0)
            return MUTF7_INVALID;
        bits = (bits << 6) | (uint32_t)v;
        nbits += 6;
        if (nbits >= 16) {
            nbits -= 16;
            int r = decode_unit((bits >> nbits) & 0xffff, &high, o);
            if (r != MUTF7_OK)
                return r;
            bits &= (1u << nbits) - 1;
        }
    }
    if (*i >= n || *i == start || high != 0)
        return MUTF7_INVALID; /* unterminated, empty, or a lone high half */
    if (nbits >= 6 || bits != 0)
        return MUTF7_INVALID; /* a superfluous character or stray bits */
    (*i)++;
    return MUTF7_OK;
}

int mutf7_decode(const char *in, size_t n, char *out, size_t outlen, size_t *outn)
{
    struct out_buf o = {out, outlen, 0};
    if (outlen == 0)
        return MUTF7_NO_ROOM;
    out[0] = '\0';
    bool after_run = false;
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)in[i++];
        int r = MUTF7_OK;
        if (!is_direct(c))
            return MUTF7_INVALID;
        if (c != '&') {
            r = put(&o, &c, 1);
            after_run = false;
        } else if (i < n && in[i] == '-') {
            i++;
            r = put(&o, "&", 1);
            after_run = false;
        } else if (after_run) {
            return MUTF7_INVALID; /* "&..-&..-" must be one run */
        } else {
            r = decode_run(in, n, &i, &o);
            after_run = true;
        }
        if (r != MUTF7_OK)
            return r;
    }
    *outn = o.n;
    return MUTF7_OK;
}

/* Appends the UTF-16 form of cp to the run's bit buffer. */
static int encode_unit(uint32_t u, uint32_t *bits, unsigned *nbits, struct out_buf *o)
{
    *bits = (*bits << 16) | u;
    *nbits += 16;
    while (*nbits >= 6) {
        *nbits -= 6;
        char c = b64[(*bits >> *nbits) & 0x3f];
        int r = put(o, &c, 1);
        if (r != MUTF7_OK)
            return r;
    }
    *bits &= (1u << *nbits) - 1;
    return MUTF7_OK;
}

static int encode_cp(uint32_t cp, uint32_t *bits, unsigned *nbits, struct out_buf *o)
{
    if (cp < 0x10000)
        return encode_unit(cp, bits, nbits, o);
    cp -= 0x10000;
    int r = encode_unit(0xd800 + (cp >> 10), bits, nbits, o);
    if (r != MUTF7_OK)
        return r;
    return encode_unit(0xdc00 + (cp & 0x3ff), bits, nbits, o);
}

static int close_run(uint32_t bits, unsigned nbits, struct out_buf *o)
{
    if (nbits > 0) {
        char c = b64[(bits << (6 - nbits)) & 0x3f];
        int r = put(o, &c, 1);
        if (r != MUTF7_OK)
            return r;
    }
    return put(o, "-", 1);
}

int mutf7_encode(const char *in, size_t n, char *out, size_t outlen, size_t *outn)
{
    struct out_buf o = {out, outlen, 0};
    if (outlen == 0)
        return MUTF7_NO_ROOM;
    out[0] = '\0';
    bool in_run = false;
    uint32_t bits = 0;
    unsigned nbits = 0;
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode((const unsigned char *)in + i, n - i, &cp);
        if (len == 0 || cp == 0)
            return MUTF7_INVALID;
        i += len;
        int r = MUTF7_OK;
        if (is_direct(cp) && in_run) {
            r = close_run(bits, nbits, &o);
            in_run = false;
            bits = 0;
            nbits = 0;
        }
        if (r == MUTF7_OK && is_direct(cp)) {
            char c = (char)cp;
            r = put(&o, &c, 1);
            if (r == MUTF7_OK && c == '&')
                r = put(&o, "-", 1);
        } else if (r == MUTF7_OK) {
            if (!in_run)
                r = put(&o, "&", 1);
            in_run = true;
            if (r == MUTF7_OK)
                r = encode_cp(cp, &bits, &nbits, &o);
        }
        if (r != MUTF7_OK)
            return r;
    }
    if (in_run) {
        int r = close_run(bits, nbits, &o);
        if (r != MUTF7_OK)
            return r;
    }
    *outn = o.n;
    return MUTF7_OK;
}
