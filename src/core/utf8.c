/* utf8: UTF-8 validation, decoding and encoding by the table of RFC 3629 4
 * (UTF8-2 = %xC2-DF UTF8-tail, UTF8-3 and UTF8-4 with their restricted
 * second octets). Pure. */
#include "core/utf8.h"

static bool is_tail(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

/* The allowed range of the second octet after lead c (RFC 3629 4). */
static void second_range(unsigned char c, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xbf;
    if (c == 0xe0)
        *lo = 0xa0; /* overlong */
    else if (c == 0xed)
        *hi = 0x9f; /* surrogates */
    else if (c == 0xf0)
        *lo = 0x90; /* overlong */
    else if (c == 0xf4)
        *hi = 0x8f; /* above U+10FFFF */
}

static size_t lead_length(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (n == 0)
        return 0;
    size_t len = lead_length(s[0]);
    if (len == 0 || len > n)
        return 0;
    if (len == 1) {
        *cp = s[0];
        return 1;
    }
    unsigned char lo, hi;
    second_range(s[0], &lo, &hi);
    if (s[1] < lo || s[1] > hi)
        return 0;
    uint32_t v = s[0] & (0x7f >> len);
    for (size_t k = 1; k < len; k++) {
        if (!is_tail(s[k]))
            return 0;
        v = (v << 6) | (s[k] & 0x3f);
    }
    *cp = v;
    return len;
}

bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t cp;
        size_t len = utf8_decode(s + i, n - i, &cp);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

size_t utf8_encode(uint32_t cp, unsigned char out[4])
{
    if (cp < 0x80) {
        out[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (unsigned char)(0xc0 | (cp >> 6));
        out[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp >= 0xd800 && cp <= 0xdfff)
        return 0;
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | (cp >> 12));
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    if (cp > 0x10ffff)
        return 0;
    out[0] = (unsigned char)(0xf0 | (cp >> 18));
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}
