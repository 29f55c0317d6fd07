/* srs: SRS0 rewriting of forwarded mail's envelope sender and its reverse
 * for the bounces that come back (see srs.h). The hash binds the address
 * to our secret and the timestamp bounds its life, so nobody can use the
 * rewritten form as an open relay for bounces. */
#include "queue/srs.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* The first 4 base64 characters, lower case, of HMAC-SHA1(secret, TT
 * domain local) with the data lower-cased (addresses change case in
 * transit). 0 or -1. */
static int srs_hash(const char *secret, const char *tt, const char *domain, size_t dlen,
                    const char *local, size_t llen, char out[5])
{
    char data[700];
    int n = snprintf(data, sizeof data, "%s%.*s%.*s", tt, (int)dlen, domain, (int)llen,
                     local);
    if (n < 0 || (size_t)n >= sizeof data)
        return -1;
    for (char *p = data; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    unsigned char mac[EVP_MAX_MD_SIZE], b64[64];
    unsigned maclen = 0;
    if (!HMAC(EVP_sha1(), secret, (int)strlen(secret), (unsigned char *)data, (size_t)n,
              mac, &maclen))
        return -1;
    EVP_EncodeBlock(b64, mac, (int)maclen);
    for (int i = 0; i < 4; i++) {
        out[i] = (char)b64[i];
        if (out[i] >= 'A' && out[i] <= 'Z')
            out[i] = (char)(out[i] + 32);
    }
    out[4] = '\0';
    return 0;
}

static unsigned srs_day(int64_t now)
{
    return (unsigned)((now / 86400) % SRS_DAYS);
}

int srs_forward(const char *secret, const char *sender, const char *our_domain,
                int64_t now, char *out, size_t len)
{
    const char *at = strrchr(sender, '@');
    if (!at || at == sender || !at[1])
        return -1;
    unsigned day = srs_day(now);
    char tt[3] = {base32[(day >> 5) & 31], base32[day & 31], '\0'}, hash[5];
    if (srs_hash(secret, tt, at + 1, strlen(at + 1), sender, (size_t)(at - sender),
                 hash) < 0)
        return -1;
    int n = snprintf(out, len, "SRS0=%s=%s=%s=%.*s@%s", hash, tt, at + 1,
                     (int)(at - sender), sender, our_domain);
    if (n < 0 || (size_t)n >= len)
        return -1;
    return 0;
}

static int base32_value(char c)
{
    if (c >= 'a' && c <= 'z')
        c = (char)(c - 32);
    const char *p = c ? strchr(base32, c) : NULL;
    return p ? (int)(p - base32) : -1;
}

/* "SRS0=" at the start of addr's local part (any case). */
static bool srs0_prefix(const char *addr)
{
    return strncasecmp(addr, "SRS0=", 5) == 0;
}

enum srs_result srs_reverse(const char *secret, const char *addr, const char *our_domain,
                            int64_t now, int max_age_days, char *out, size_t len)
{
    const char *at = strrchr(addr, '@');
    if (!at || !srs0_prefix(addr) || strcasecmp(at + 1, our_domain) != 0)
        return SRS_NOT_SRS;
    /* HHHH=TT=domain=local (the domain has no '='; the local part may). */
    const char *h = addr + 5, *tt = h + 5, *dom = tt + 3;
    if (at - h < 11 || h[4] != '=' || tt[2] != '=')
        return SRS_MALFORMED;
    const char *deq = memchr(dom, '=', (size_t)(at - dom));
    if (!deq || deq == dom || deq + 1 >= at)
        return SRS_MALFORMED;
    int d1 = base32_value(tt[0]), d0 = base32_value(tt[1]);
    if (d1 < 0 || d0 < 0)
        return SRS_MALFORMED;
    char ttbuf[3] = {tt[0], tt[1], '\0'}, want[5];
    const char *local = deq + 1;
    if (srs_hash(secret, ttbuf, dom, (size_t)(deq - dom), local, (size_t)(at - local),
                 want) < 0)
        return SRS_MALFORMED;
    /* CRYPTO_memcmp would be overkill for 4 characters an attacker sees
     * fail or pass anyway; compare without regard to case. */
    if (strncasecmp(want, h, 4) != 0)
        return SRS_BAD_HASH;
    unsigned stamp = (unsigned)(d1 * 32 + d0);
    unsigned age = (srs_day(now) + SRS_DAYS - stamp) % SRS_DAYS;
    if ((int)age > max_age_days)
        return SRS_EXPIRED;
    int n =
        snprintf(out, len, "%.*s@%.*s", (int)(at - local), local, (int)(deq - dom), dom);
    if (n < 0 || (size_t)n >= len)
        return SRS_MALFORMED;
    return SRS_OK;
}

static int make_key(int qfd, char *out, size_t len)
{
    unsigned char raw[32];
    if (len < 65 || RAND_bytes(raw, sizeof raw) != 1)
        return -1;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    int fd = openat(qfd, "srs.key", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1; /* made by another thread meanwhile: read it */
    int rc = write(fd, out, 64) == 64 && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

int srs_secret_load(int datadirfd, const char *configured, char *out, size_t len)
{
    if (configured && configured[0]) {
        snprintf(out, len, "%s", configured);
        return 0;
    }
    int qfd = openat(datadirfd, "queue", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (qfd < 0)
        return -1;
    int rc = -1;
    for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
        int fd = openat(qfd, "srs.key", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, out, len - 1);
            close(fd);
            if (n >= 16) {
                out[n] = '\0';
                rc = 0;
            }
        } else if (make_key(qfd, out, len) == 0) {
            rc = 0;
        }
    }
    close(qfd);
    return rc;
}
