/* sasl: strict base64 (RFC 4648 4) over OpenSSL's EVP block coder, and the
 * SASL PLAIN message (RFC 4616 2). OpenSSL's decoder is lenient (it skips
 * whitespace and ignores non-zero pad bits), so the syntax is checked here
 * first and OpenSSL only ever sees canonical quads. */
#include "auth/sasl.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>

#include "core/limits.h"

/* The 6-bit value of a base64 character, or -1. */
static int b64_value(unsigned char c)
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

/* Checks RFC 4648 4 syntax: whole quads, '=' only as the last one or two
 * characters, and zero pad bits (RFC 4648 3.5: canonical encoding only).
 * Returns the number of '=' (0..2) or -1. */
static int b64_check(const char *in, size_t len)
{
    if (len % 4 != 0)
        return -1;
    int pad = 0;
    if (len > 0 && in[len - 1] == '=')
        pad = (len > 1 && in[len - 2] == '=') ? 2 : 1;
    for (size_t i = 0; i < len - (size_t)pad; i++)
        if (b64_value((unsigned char)in[i]) < 0)
            return -1;
    if (pad > 0) {
        int last = b64_value((unsigned char)in[len - pad - 1]);
        int mask = pad == 1 ? 0x03 : 0x0f;
        if (last & mask)
            return -1;
    }
    return pad;
}

long sasl_base64_decode(const char *in, char *out, size_t outlen)
{
    if (in == NULL)
        return -1;
    if (strcmp(in, "=") == 0)
        return base64_decode("", 0, out, outlen); /* RFC 4954 4: empty response */
    return base64_decode(in, strlen(in), out, outlen);
}

long base64_decode(const char *in, size_t len, char *out, size_t outlen)
{
    if (in == NULL || out == NULL || outlen == 0)
        return -1;
    int pad = b64_check(in, len);
    if (pad < 0 || len / 4 * 3 - (size_t)pad >= outlen)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < len; i += 4) {
        unsigned char quad[3];
        if (EVP_DecodeBlock(quad, (const unsigned char *)in + i, 4) != 3)
            return -1;
        size_t take = (i + 4 == len) ? 3 - (size_t)pad : 3;
        memcpy(out + n, quad, take);
        n += take;
    }
    out[n] = '\0';
    return (long)n;
}

long sasl_base64_encode(const void *in, size_t len, char *out, size_t outlen)
{
    if ((in == NULL && len > 0) || out == NULL || len > INT_MAX / 2)
        return -1;
    size_t need = (len + 2) / 3 * 4;
    if (need >= outlen)
        return -1;
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    if (n < 0 || (size_t)n != need)
        return -1;
    out[n] = '\0';
    return n;
}

/* Copies part [p, p+n) into a NUL-terminated field of size cap, refusing
 * empty parts and parts over max. */
static int plain_field(const char *p, size_t n, size_t max, char *dst, size_t cap)
{
    if (n == 0 || n > max || n >= cap)
        return -1;
    memcpy(dst, p, n);
    dst[n] = '\0';
    return 0;
}

/* Splits msg (n bytes) at its exactly two NULs and fills the fields. */
static int plain_split(const char *msg, size_t n, char *authcid, size_t authcid_len,
                       char *passwd, size_t passwd_len)
{
    const char *nul1 = memchr(msg, '\0', n);
    if (nul1 == NULL)
        return -1;
    const char *cid = nul1 + 1;
    const char *nul2 = memchr(cid, '\0', n - (size_t)(cid - msg));
    if (nul2 == NULL)
        return -1;
    const char *pw = nul2 + 1;
    size_t zid_n = (size_t)(nul1 - msg), cid_n = (size_t)(nul2 - cid);
    size_t pw_n = n - (size_t)(pw - msg);
    if (memchr(pw, '\0', pw_n) != NULL)
        return -1; /* a third NUL */
    /* No proxy authorization: authzid, if given, must name the same user. */
    if (zid_n != 0 && (zid_n != cid_n || memcmp(msg, cid, cid_n) != 0))
        return -1;
    if (plain_field(cid, cid_n, AUTH_MAX_USERNAME, authcid, authcid_len) < 0)
        return -1;
    return plain_field(pw, pw_n, AUTH_MAX_PASSWORD, passwd, passwd_len);
}

int sasl_plain_decode(const char *b64, char *authcid, size_t authcid_len, char *passwd,
                      size_t passwd_len)
{
    /* authzid NUL authcid NUL passwd, plus our own terminating NUL. */
    char msg[2 * AUTH_MAX_USERNAME + AUTH_MAX_PASSWORD + 3];
    if (authcid == NULL || passwd == NULL || authcid_len == 0 || passwd_len == 0)
        return -1;
    authcid[0] = passwd[0] = '\0';
    long n = sasl_base64_decode(b64, msg, sizeof msg);
    int rc = -1;
    if (n > 0)
        rc = plain_split(msg, (size_t)n, authcid, authcid_len, passwd, passwd_len);
    OPENSSL_cleanse(msg, sizeof msg);
    if (rc < 0) {
        OPENSSL_cleanse(passwd, passwd_len);
        authcid[0] = passwd[0] = '\0';
    }
    return rc;
}
