/* uri: request-target splitting and percent-decoding. Decoding happens
 * before normalisation, and the decoded bytes are checked before they reach
 * sandbox_join: "%2e%2e" is "..", which the lexical join stops at "/"; "%00",
 * "%5c" and overlong UTF-8 ("%c0%ae") are refused outright. */
#include "http/uri.h"

#include "core/utf8.h"
#include "httpmsg/fields.h"
#include "store/sandbox.h"

#include <errno.h>
#include <string.h>

long http_percent_decode(const char *s, size_t n, char *out, size_t outlen,
                         bool plus_is_space)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int a = http_hex_value(s[i + 1]), b = http_hex_value(s[i + 2]);
            if (a < 0 || b < 0)
                return -1;
            c = (unsigned char)(a * 16 + b);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        /* No NUL, no controls, no backslash (a Windows separator). */
        if (c < 0x20 || c == 0x7f || c == '\\')
            return -1;
        if (o == outlen)
            return -1;
        out[o++] = (char)c;
    }
    if (!utf8_valid((const unsigned char *)out, o))
        return -1;
    return (long)o;
}

/* RFC 9112 3.2.2: absolute-form "http://host[:port]/path": skip to the path. */
static struct http_str origin_part(struct http_str t)
{
    static const char *const schemes[] = {"http://", "https://"};
    for (int i = 0; i < 2; i++) {
        size_t k = strlen(schemes[i]);
        if (t.n > k && http_str_ieq((struct http_str){t.p, k}, schemes[i])) {
            const char *slash = memchr(t.p + k, '/', t.n - k);
            if (!slash)
                return (struct http_str){"/", 1};
            return (struct http_str){slash, t.n - (size_t)(slash - t.p)};
        }
    }
    return t;
}

int http_target_decode(struct http_str target, struct http_target *t, char *out,
                       size_t outlen)
{
    errno = EINVAL; /* every refusal below but sandbox_join's own */
    struct http_str o = origin_part(target);
    if (o.n == 0 || o.p[0] != '/')
        return -1;
    const char *q = memchr(o.p, '?', o.n);
    size_t plen = q ? (size_t)(q - o.p) : o.n;
    if (memchr(o.p, '#', plen)) /* RFC 9112 3.2: no fragment in a target */
        return -1;
    t->path = (struct http_str){o.p, plen};
    t->query = q ? (struct http_str){q + 1, o.n - plen - 1} : (struct http_str){"", 0};
    char decoded[STORE_MAX_PATH + 1];
    long n = http_percent_decode(o.p, plen, decoded, sizeof decoded - 1, false);
    if (n <= 0)
        return -1;
    t->trailing_slash = decoded[n - 1] == '/';
    return sandbox_join("/", decoded, (size_t)n, out, outlen);
}

long http_path_encode(const char *s, size_t n, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || (c && strchr("-._~/!$&'()*+,;=:@", c));
        if (o + (plain ? 1 : 3) > outlen)
            return -1;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return (long)o;
}
