/* srs: SRS0 rewriting of forwarded mail's envelope sender (see srs.h). The
 * hash binds the address to our secret, so nobody can use the rewritten
 * form as an open bounce relay once reverse lookup exists. */
#include "queue/srs.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int srs_forward(const char *secret, const char *sender, const char *our_domain,
                int64_t now, char *out, size_t len)
{
    const char *at = strrchr(sender, '@');
    if (!at || at == sender || !at[1])
        return -1;
    unsigned day = (unsigned)((now / 86400) % 1024);
    char tt[3] = {base32[(day >> 5) & 31], base32[day & 31], '\0'};
    char data[700];
    int n =
        snprintf(data, sizeof data, "%s%s%.*s", tt, at + 1, (int)(at - sender), sender);
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
    for (int i = 0; i < 4; i++)
        if (b64[i] >= 'A' && b64[i] <= 'Z')
            b64[i] = (unsigned char)(b64[i] + 32);
    n = snprintf(out, len, "SRS0=%.4s=%s=%s=%.*s@%s", (char *)b64, tt, at + 1,
                 (int)(at - sender), sender, our_domain);
    if (n < 0 || (size_t)n >= len)
        return -1;
    return 0;
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
