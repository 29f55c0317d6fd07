/* dkim: signs a queued message with libopendkim (see dkim.h). The queue
 * keeps LF line ends; DKIM hashes the wire form, so header fields and the
 * body are fed with CRLF (RFC 6376 3.4: canonicalisation of CRLF lines).
 * Only the usual author-facing fields are signed (RFC 6376 5.4.1), never
 * the trace fields that later hops add to. */
#include "relay/dkim.h"

#include <fcntl.h>
#include <opendkim/dkim.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define DKIM_KEY_MAX 16384

static const char *sign_headers[] = {
    "from",     "to",           "cc",           "subject",
    "date",     "message-id",   "in-reply-to",  "references",
    "reply-to", "mime-version", "content-type", "content-transfer-encoding",
    NULL};

/* Reads data_dir/dkim/<domain>.<kind>.pem; NULL when there is none. */
static char *read_key(int datadirfd, const char *domain, const char *kind)
{
    char path[400];
    snprintf(path, sizeof path, "dkim/%s.%s.pem", domain, kind);
    if (strchr(domain, '/') || domain[0] == '.')
        return NULL;
    int fd = openat(datadirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(DKIM_KEY_MAX);
    ssize_t n = buf ? read(fd, buf, DKIM_KEY_MAX - 1) : -1;
    close(fd);
    if (n <= 0) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Feeds buf (LF form) with CRLF line ends to fn. */
static DKIM_STAT feed_crlf(DKIM *d, const char *p, size_t n)
{
    char chunk[8192];
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (used + 2 > sizeof chunk) {
            DKIM_STAT st = dkim_body(d, (u_char *)chunk, used);
            if (st != DKIM_STAT_OK)
                return st;
            used = 0;
        }
        if (p[i] == '\n')
            chunk[used++] = '\r';
        chunk[used++] = p[i];
    }
    if (used == 0)
        return DKIM_STAT_OK;
    return dkim_body(d, (u_char *)chunk, used);
}

/* One header field (with its continuation lines, LF form) in CRLF form. */
static DKIM_STAT feed_header(DKIM *d, const char *p, size_t n)
{
    char field[8192];
    size_t used = 0;
    for (size_t i = 0; i < n && used + 2 < sizeof field; i++) {
        if (p[i] == '\n')
            field[used++] = '\r';
        field[used++] = p[i];
    }
    return dkim_header(d, (u_char *)field, used);
}

/* The headers, then the body; *body_at is where the body begins. */
static DKIM_STAT feed(DKIM *d, const char *msg, size_t len)
{
    size_t pos = 0;
    while (pos < len && msg[pos] != '\n') {
        size_t end = pos;
        for (;;) { /* one field: up to a LF not followed by WSP */
            const char *nl = memchr(msg + end, '\n', len - end);
            if (!nl) {
                end = len;
                break;
            }
            end = (size_t)(nl - msg) + 1;
            if (end >= len || (msg[end] != ' ' && msg[end] != '\t'))
                break;
        }
        size_t flen = end - pos;
        if (flen > 0 && msg[pos + flen - 1] == '\n')
            flen--;
        DKIM_STAT st = feed_header(d, msg + pos, flen);
        if (st != DKIM_STAT_OK)
            return st;
        pos = end;
    }
    DKIM_STAT st = dkim_eoh(d);
    if (st != DKIM_STAT_OK)
        return st;
    if (pos < len)
        pos++; /* the empty line */
    st = feed_crlf(d, msg + pos, len - pos);
    if (st != DKIM_STAT_OK)
        return st;
    return dkim_eom(d, NULL);
}

/* "DKIM-Signature: ..." for one key, appended to out in LF form. */
static int sign_one(DKIM_LIB *lib, const char *key, const char *selector,
                    const char *domain, dkim_alg_t alg, const char *msg, size_t len,
                    char *out, size_t outlen, char *why, size_t whylen)
{
    DKIM_STAT st;
    DKIM *d = dkim_sign(lib, (const u_char *)"portico", NULL, (dkim_sigkey_t)key,
                        (const u_char *)selector, (const u_char *)domain,
                        DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, alg, -1, &st);
    if (!d) {
        snprintf(why, whylen, "dkim_sign failed (status %d, bad key?)", (int)st);
        return -1;
    }
    u_char *sig = NULL;
    size_t siglen = 0;
    const char *prefix = "DKIM-Signature: ";
    st = feed(d, msg, len);
    if (st == DKIM_STAT_OK)
        st = dkim_getsighdr_d(d, strlen(prefix), &sig, &siglen);
    int rc = -1;
    size_t used = strlen(out);
    if (st == DKIM_STAT_OK && used + strlen(prefix) + siglen + 2 < outlen) {
        /* opendkim folds with "\r\n\t" in the value; the queue is LF form */
        size_t o = used;
        o += (size_t)snprintf(out + o, outlen - o, "%s", prefix);
        for (size_t i = 0; i < siglen; i++)
            if (sig[i] != '\r')
                out[o++] = (char)sig[i];
        out[o++] = '\n';
        out[o] = '\0';
        rc = 0;
    } else {
        const char *e = dkim_geterror(d);
        if (!e || !*e)
            e = "signing failed";
        snprintf(why, whylen, "%s (status %d)", e, (int)st);
    }
    dkim_free(d);
    return rc;
}

/* RFC 6376 5.4: From is always signed; a header without it is not signed
 * at all (libopendkim would fail, and leak the loaded key doing so). */
static bool has_from(const char *msg, size_t len)
{
    for (size_t pos = 0; pos < len && msg[pos] != '\n';) {
        if (len - pos > 5 && strncasecmp(msg + pos, "From:", 5) == 0)
            return true;
        const char *nl = memchr(msg + pos, '\n', len - pos);
        if (!nl)
            break;
        pos = (size_t)(nl - msg) + 1;
    }
    return false;
}

int dkim_sign_message(int datadirfd, const char *domain, bool ed25519, const char *msg,
                      size_t len, char *out, size_t outlen, char *why, size_t whylen)
{
    out[0] = '\0';
    if (!has_from(msg, len))
        return 0;
    char *rsa = read_key(datadirfd, domain, "rsa");
    char *ed = NULL;
    if (ed25519)
        ed = read_key(datadirfd, domain, "ed25519");
    out[0] = '\0';
    if (!rsa && !ed)
        return 0;
    DKIM_LIB *lib = dkim_init(NULL, NULL);
    int rc = -1;
    snprintf(why, whylen, "dkim_init failed");
    if (lib && dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, (void *)sign_headers,
                            sizeof(char **)) == DKIM_STAT_OK) {
        rc = 0;
        if (ed)
            rc = sign_one(lib, ed, DKIM_SELECTOR_ED25519, domain, DKIM_SIGN_ED25519SHA256,
                          msg, len, out, outlen, why, whylen);
        if (rc == 0 && rsa)
            rc = sign_one(lib, rsa, DKIM_SELECTOR_RSA, domain, DKIM_SIGN_RSASHA256, msg,
                          len, out, outlen, why, whylen);
    }
    if (lib)
        dkim_close(lib);
    free(rsa);
    free(ed);
    if (rc < 0)
        return -1;
    return 1;
}
