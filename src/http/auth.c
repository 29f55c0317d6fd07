/* auth: Basic credentials. The user-id may not contain ':' (RFC 7617 2),
 * controls are refused, and the decoded text is bounded by the account
 * limits before anything else sees it. */
#include "http/auth.h"

#include "auth/sasl.h"
#include "core/digest.h"
#include "core/limits.h"

#include <openssl/evp.h>
#include <string.h>

int http_basic_parse(struct http_str field, char *user, size_t ulen, char *pass,
                     size_t plen)
{
    if (field.n < 6 || !http_str_ieq((struct http_str){field.p, 6}, "basic "))
        return -1;
    size_t i = 6;
    while (i < field.n && field.p[i] == ' ')
        i++;
    unsigned char buf[AUTH_MAX_USERNAME + AUTH_MAX_PASSWORD + 3];
    long n = field.n > i
                 ? base64_decode(field.p + i, field.n - i, (char *)buf, sizeof buf)
                 : -1;
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
    if (!md || EVP_DigestInit_ex(md, digest_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, salt, 16) != 1 ||
        EVP_DigestUpdate(md, user, strlen(user) + 1) != 1 ||
        EVP_DigestUpdate(md, pass, strlen(pass)) != 1 ||
        EVP_DigestFinal_ex(md, out, &len) != 1) {
        EVP_MD_CTX_free(md);
        return -1;
    }
    EVP_MD_CTX_free(md);
    return 0;
}
