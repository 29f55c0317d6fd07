/* auth: Basic credentials. The user-id may not contain ':' (RFC 7617 2),
 * controls are refused, and the decoded text is bounded by the account
 * limits before anything else sees it. */
#include "http/auth.h"

#include "core/limits.h"

#include <openssl/evp.h>
#include <string.h>

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Strict base64 (RFC 4648 4) with padding; returns the decoded length. */
static long b64_decode(const char *s, size_t n, unsigned char *out, size_t outlen)
{
    if (n == 0 || n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            bool last = i + 4 == n;
            if (s[i + k] == '=' && last && k >= 2 && (k == 3 || s[i + 3] == '=')) {
                v[k] = 0;
                pad++;
            } else if ((v[k] = b64val(s[i + k])) < 0) {
                return -1;
            }
        }
        unsigned w = (unsigned)(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        unsigned char b[3] = {(unsigned char)(w >> 16), (unsigned char)(w >> 8),
                              (unsigned char)w};
        if (o + (size_t)(3 - pad) > outlen)
            return -1;
        memcpy(out + o, b, (size_t)(3 - pad));
        o += (size_t)(3 - pad);
    }
    return (long)o;
}

int http_basic_parse(struct http_str field, char *user, size_t ulen, char *pass, size_t plen)
{
    if (field.n < 6 || !http_str_ieq((struct http_str){field.p, 6}, "basic "))
        return -1;
    size_t i = 6;
    while (i < field.n && field.p[i] == ' ')
        i++;
    unsigned char buf[AUTH_MAX_USERNAME + AUTH_MAX_PASSWORD + 2];
    long n = b64_decode(field.p + i, field.n - i, buf, sizeof buf);
    if (n < 0)
        return -1;
    const unsigned char *colon = memchr(buf, ':', (size_t)n);
    if (!colon)
        return -1;
    size_t un = (size_t)(colon - buf), pn = (size_t)n - un - 1;
    for (long k = 0; k < n; k++)
        if (buf[k] < 0x20 || buf[k] == 0x7f)
            return -1;
    if (un == 0 || un >= ulen || pn >= plen)
        return -1;
    memcpy(user, buf, un);
    user[un] = '\0';
    memcpy(pass, colon + 1, pn);
    pass[pn] = '\0';
    return 0;
}

int http_auth_digest(const unsigned char salt[16], const char *user, const char *pass,
                     unsigned char out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 32;
    if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, salt, 16) != 1 ||
        EVP_DigestUpdate(md, user, strlen(user) + 1) != 1 ||
        EVP_DigestUpdate(md, pass, strlen(pass)) != 1 || EVP_DigestFinal_ex(md, out, &len) != 1) {
        EVP_MD_CTX_free(md);
        return -1;
    }
    EVP_MD_CTX_free(md);
    return 0;
}
