/* downgrade: the 7-bit copy of an 8-bit message (see downgrade.h). Our own
 * signatures are the DKIM-Signature fields the queued file starts with
 * (load.c prepends them before the first attempt; what the receiver wrote
 * starts with its Received: field), so they are cut off, the rest is
 * converted, and the result is signed again. */
#include "relay/downgrade.h"

#include "core/loop.h"
#include "mime/compose.h"
#include "relay/dkim.h"
#include "relay/relay_int.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The end of the header field starting at msg[i] (after its last
 * continuation line's LF). */
static size_t field_end(const char *msg, size_t len, size_t i)
{
    while (i < len) {
        const char *nl = memchr(msg + i, '\n', len - i);
        if (!nl)
            return len;
        i = (size_t)(nl - msg) + 1;
        if (i >= len || (msg[i] != ' ' && msg[i] != '\t'))
            return i;
    }
    return len;
}

size_t relay_leading_dkim_len(const char *msg, size_t len)
{
    size_t i = 0;
    for (int guard = 0; guard < 16; guard++) {
        if (len - i < 15 || strncasecmp(msg + i, "DKIM-Signature:", 15) != 0)
            break;
        i = field_end(msg, len, i);
    }
    return i;
}

static char *read_all(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size > (off_t)MIME_COMPOSE_MAX)
        return NULL;
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        return NULL;
    ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
    if (n != st.st_size) {
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    return at ? at + 1 : "";
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* sig (may be "") then body into a new unnamed file of queue/. */
static int temp_copy(int qfd, const char *sig, const char *body, size_t len)
{
    int fd = openat(qfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (write_all(fd, sig, strlen(sig)) < 0 || write_all(fd, body, len) < 0 ||
        lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int relay_downgrade_fd(int qfd, int msgfd, const struct queue_env *env, char *why,
                       size_t whylen)
{
    size_t len = 0, outlen = 0;
    char *msg = read_all(msgfd, &len);
    if (!msg) {
        snprintf(why, whylen, "451 4.3.0 cannot read the queued message for conversion");
        return -1;
    }
    size_t skip = env->dkim_done ? relay_leading_dkim_len(msg, len) : 0;
    char *out = mime_to_7bit(msg + skip, len - skip, &outlen);
    free(msg);
    if (!out) {
        snprintf(why, whylen,
                 "451 4.6.3 the next hop does not offer 8BITMIME and the message could "
                 "not be converted to 7 bit (GMime module missing or unusable)");
        return -1;
    }
    char sig[DKIM_MAX_SIG] = "", dwhy[256] = "";
    if (skip > 0 && dkim_sign_message(runtime->datadir_fd, domain_of(env->from),
                                      relay->cfg->relay_dkim_ed25519, out, outlen, sig,
                                      sizeof sig, dwhy, sizeof dwhy) <= 0)
        sig[0] = '\0'; /* sent unsigned rather than with a broken signature */
    int fd = temp_copy(qfd, sig, out, outlen);
    free(out);
    if (fd < 0)
        snprintf(why, whylen, "451 4.3.0 cannot write the converted message");
    return fd;
}
