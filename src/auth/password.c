/* password: crypt(3) from libxcrypt. Hashing with fresh yescrypt salts,
 * verification of the schemes we accept ($y$, $6$, $2b$) with a
 * constant-time comparison, and random passwords from OpenSSL's RNG. */
#include "auth/password.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"

static const char *const supported_prefixes[] = {"$y$", "$6$", "$2b$"};

/* The characters crypt(3) uses in settings and hashes (plus '=' and ',' for
 * "rounds=" style parameters). Anything else cannot be a valid hash. */
static bool hash_chars_ok(const char *hash)
{
    size_t n = strspn(hash, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "0123456789./$=,");
    return hash[n] == '\0';
}

bool password_hash_supported(const char *hash)
{
    if (hash == NULL || strlen(hash) >= CRYPT_OUTPUT_SIZE || !hash_chars_ok(hash))
        return false;
    for (size_t i = 0; i < sizeof supported_prefixes / sizeof *supported_prefixes; i++) {
        const char *p = supported_prefixes[i];
        if (strncmp(hash, p, strlen(p)) == 0)
            return true;
    }
    return false;
}

/* crypt_rn into a heap crypt_data (it is ~32 KiB, too big for a loop
 * thread's stack). Copies the result into out; 0 or -1. A result starting
 * with '*' is libxcrypt's failure token. */
static int crypt_into(const char *password, const char *setting, char *out, size_t outlen)
{
    struct crypt_data *data = calloc(1, sizeof *data);
    if (data == NULL)
        return -1;
    int rc = -1;
    const char *res = crypt_rn(password, setting, data, (int)sizeof *data);
    if (res != NULL && res[0] != '*') {
        int n = snprintf(out, outlen, "%s", res);
        rc = (n > 0 && (size_t)n < outlen) ? 0 : -1;
    }
    OPENSSL_cleanse(data, sizeof *data);
    free(data);
    return rc;
}

int password_hash(const char *password, char *out, size_t outlen)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    if (password == NULL || out == NULL || strlen(password) > AUTH_MAX_PASSWORD)
        return -1;
    /* count 0 = libxcrypt's default cost; NULL rbytes = its own RNG. */
    if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof salt) == NULL)
        return -1;
    if (crypt_into(password, salt, out, outlen) < 0) {
        OPENSSL_cleanse(out, outlen);
        return -1;
    }
    return 0;
}

bool password_verify(const char *password, const char *hash)
{
    char out[CRYPT_OUTPUT_SIZE];
    if (password == NULL || !password_hash_supported(hash) ||
        strlen(password) > AUTH_MAX_PASSWORD)
        return false;
    if (crypt_into(password, hash, out, sizeof out) < 0)
        return false;
    size_t n = strlen(out);
    bool ok = n == strlen(hash) && CRYPTO_memcmp(out, hash, n) == 0;
    OPENSSL_cleanse(out, sizeof out);
    return ok;
}

bool password_hash_valid(const char *hash)
{
    char out[CRYPT_OUTPUT_SIZE];
    if (!password_hash_supported(hash))
        return false;
    /* crypt accepts the whole hash as a setting; a well-formed one yields a
     * result of the same length and scheme. */
    if (crypt_into("", hash, out, sizeof out) < 0)
        return false;
    size_t prefix = strcspn(hash + 1, "$") + 2;
    return strlen(out) == strlen(hash) && strncmp(out, hash, prefix) == 0;
}

int password_random(char *out, size_t len)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "abcdefghijklmnopqrstuvwxyz0123456789";
    enum { NCHARS = sizeof alphabet - 1, LIMIT = 256 - 256 % NCHARS };
    unsigned char buf[64];
    size_t done = 0;
    if (out == NULL)
        return -1;
    while (done < len) {
        if (RAND_bytes(buf, sizeof buf) != 1)
            return -1;
        /* Rejection sampling: bytes >= LIMIT would bias the modulo. */
        for (size_t i = 0; i < sizeof buf && done < len; i++)
            if (buf[i] < LIMIT)
                out[done++] = alphabet[buf[i] % NCHARS];
    }
    out[len] = '\0';
    OPENSSL_cleanse(buf, sizeof buf);
    return 0;
}
