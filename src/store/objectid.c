/* objectid: MAILBOXID files and EMAILID derivation (RFC 8474). The file
 * holds one line; it is written in tmp/ and hard-linked into place, so two
 * threads creating it at once agree on whichever came first. */
#include "store/objectid.h"

#include "core/digest.h"
#include "core/fileio.h"
#include "store/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

static void hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int objectid_mailbox_new(char out[OBJECTID_LEN])
{
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
        return -1;
    out[0] = 'F';
    hex(r, sizeof r, out + 1);
    return 0;
}

/* RFC 8474 4: objectid = 1*255(ALPHA / DIGIT / "_" / "-"). */
static int valid_id(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= OBJECTID_LEN)
        return 0;
    return strspn(s,
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
           n;
}

static int read_id(int folderfd, char out[OBJECTID_LEN])
{
    char buf[OBJECTID_LEN + 2];
    int fd = openat(folderfd, OBJECTID_MAILBOX_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!valid_id(buf))
        return -1;
    memcpy(out, buf, strlen(buf) + 1);
    return 0;
}

/* id into tmp/<unique>, fsynced; its name in tmpname. */
static int write_tmp(int folderfd, const char *id, char *tmpname, size_t len)
{
    char base[MAIL_MAX_FILENAME + 1];
    if (maildir_new_base(0, 0, base, sizeof base) < 0)
        return -1;
    snprintf(tmpname, len, "tmp/%s.mailboxid", base);
    int fd = openat(folderfd, tmpname,
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    char line[OBJECTID_LEN + 1];
    int n = snprintf(line, sizeof line, "%s\n", id);
    int rc = fd_write_all(fd, line, (size_t)n);
    if (rc == 0)
        rc = fsync(fd);
    close(fd);
    if (rc < 0)
        unlinkat(folderfd, tmpname, 0);
    return rc;
}

int objectid_mailbox_write(int folderfd, const char *id)
{
    char tmp[MAIL_MAX_FILENAME + 24];
    if (write_tmp(folderfd, id, tmp, sizeof tmp) < 0)
        return -1;
    if (renameat(folderfd, tmp, folderfd, OBJECTID_MAILBOX_FILE) < 0) {
        unlinkat(folderfd, tmp, 0);
        return -1;
    }
    return maildir_fsync_dir(folderfd, ".");
}

int objectid_mailbox(int folderfd, char out[OBJECTID_LEN])
{
    char tmp[MAIL_MAX_FILENAME + 24];
    if (read_id(folderfd, out) == 0)
        return 0;
    if (objectid_mailbox_new(out) < 0 || write_tmp(folderfd, out, tmp, sizeof tmp) < 0)
        return -1;
    /* linkat never replaces: whoever linked first wins, the rest read it. */
    int rc = linkat(folderfd, tmp, folderfd, OBJECTID_MAILBOX_FILE, 0);
    int e = errno;
    unlinkat(folderfd, tmp, 0);
    if (rc < 0 && e == EEXIST)
        return read_id(folderfd, out);
    if (rc < 0)
        return -1;
    return maildir_fsync_dir(folderfd, ".");
}

/* One digest context per thread, kept (freed when the thread ends): a
 * listing hashes every message, and making and freeing a context per
 * hash was most of its cost. */
static pthread_key_t ctx_key;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

static void ctx_free(void *ctx)
{
    EVP_MD_CTX_free(ctx);
}

static void ctx_key_make(void)
{
    pthread_key_create(&ctx_key, ctx_free);
}

static EVP_MD_CTX *thread_ctx(void)
{
    pthread_once(&ctx_once, ctx_key_make);
    EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
    if (!ctx && (ctx = EVP_MD_CTX_new()) && pthread_setspecific(ctx_key, ctx) != 0) {
        EVP_MD_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

void objectid_email(const char *base, char *out, size_t outlen)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    size_t n = strcspn(base, ",:");
    char h[17];
    EVP_MD_CTX *ctx = thread_ctx();
    if (!ctx || !EVP_DigestInit_ex2(ctx, digest_sha256(), NULL) ||
        !EVP_DigestUpdate(ctx, base, n) || !EVP_DigestFinal_ex(ctx, md, &mdlen) ||
        mdlen < 8) {
        snprintf(out, outlen, "M0");
        return;
    }
    /* "M" and 16 hex digits, written directly: a listing makes one per
     * message, and snprintf was a fifth of the cost. */
    if (outlen < sizeof h + 1) {
        hex(md, 8, h);
        snprintf(out, outlen, "M%s", h);
        return;
    }
    out[0] = 'M';
    hex(md, 8, out + 1);
}
