/* deliver: tmp/ -> fsync -> new/ -> fsync(new/) for one message and one
 * account, then the index row and the bus event. The file gets its unique
 * Maildir++ name with S= and W= once its size is known (rename from tmp/). */
#include "store/deliver.h"

#include "core/log.h"
#include "mime/envelope.h"
#include "store/bus.h"
#include "store/index.h"
#include "store/maildir.h"
#include "store/mailbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DELIVER_CHUNK 65536

struct store_delivery {
    struct account acct;
    char folder[MAIL_MAX_FOLDER + 1];
    int mailfd, folderfd;
    char tmpname[MAIL_MAX_FILENAME + 1];
    bool staged, committed;
    uint64_t size, vsize;
    char *envelope;
};

size_t lf_normalise(struct lf_norm *st, const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (st->cr) {
            st->cr = false;
            out[o++] = '\n';
            if (c == '\n')
                continue;
        }
        if (c == '\r')
            st->cr = true;
        else
            out[o++] = c;
    }
    return o;
}

size_t lf_normalise_end(struct lf_norm *st, char *out)
{
    if (!st->cr)
        return 0;
    st->cr = false;
    out[0] = '\n';
    return 1;
}

static int write_all(int fd, const char *p, size_t n, struct store_delivery *d)
{
    for (size_t i = 0; i < n; i++)
        d->vsize += p[i] == '\n';
    d->size += n;
    d->vsize += n;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* prefix + normalised copy of srcfd into fd. */
static int copy_message(int fd, const char *prefix, int srcfd, struct store_delivery *d)
{
    static const size_t cap = DELIVER_CHUNK;
    char *in = malloc(cap), *out = malloc(cap + 1);
    struct lf_norm st = {0};
    int rc = in && out && prefix ? write_all(fd, prefix, strlen(prefix), d) : in && out ? 0 : -1;
    off_t off = 0;
    ssize_t r = 0;
    while (rc == 0 && (r = pread(srcfd, in, cap, off)) > 0) {
        off += r;
        rc = write_all(fd, out, lf_normalise(&st, in, (size_t)r, out), d);
    }
    if (rc == 0 && r < 0)
        rc = -1;
    if (rc == 0)
        rc = write_all(fd, out, lf_normalise_end(&st, out), d);
    free(in);
    free(out);
    return rc;
}

static int stage_file(struct store_delivery *d, const char *prefix, int srcfd)
{
    char path[MAIL_MAX_FILENAME + 8];
    if (maildir_new_base(0, 0, d->tmpname, sizeof d->tmpname) < 0)
        return -1;
    snprintf(path, sizeof path, "tmp/%s", d->tmpname);
    int fd = openat(d->folderfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return -1;
    d->staged = true;
    int rc = copy_message(fd, prefix, srcfd, d);
    if (rc == 0)
        rc = fsync(fd);
    if (rc == 0) {
        int rfd = openat(d->folderfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        d->envelope = rfd >= 0 ? mime_envelope_fd(rfd) : NULL;
        if (rfd >= 0)
            close(rfd);
    }
    close(fd);
    return rc;
}

static struct store_delivery *delivery_new(int datadirfd, const struct account *a,
                                           const char *folder)
{
    struct store_delivery *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->acct = *a;
    d->folderfd = -1;
    snprintf(d->folder, sizeof d->folder, "%s", folder);
    d->mailfd = maildir_open(datadirfd, a);
    if (d->mailfd >= 0)
        d->folderfd = maildir_folder_open(d->mailfd, folder, true);
    if (d->folderfd < 0) {
        store_delivery_free(d);
        return NULL;
    }
    return d;
}

enum store_result store_delivery_stage(int datadirfd, const struct account *a,
                                       const char *folder, const char *prefix, int srcfd,
                                       const struct store_quota *quota,
                                       struct store_delivery **out)
{
    *out = NULL;
    struct stat st;
    if (fstat(srcfd, &st) < 0)
        return STORE_ERROR;
    int q = quota ? store_quota_check(datadirfd, a, (uint64_t)st.st_size, quota->bytes,
                                      quota->messages)
                  : 0;
    if (q != 0)
        return q > 0 ? STORE_OVER_QUOTA : STORE_ERROR;
    struct store_delivery *d = delivery_new(datadirfd, a, folder);
    if (!d)
        return STORE_ERROR;
    if (stage_file(d, prefix, srcfd) < 0) {
        log_error(0, "store deliver stage_failed account=%s errno=%d", a->address, errno);
        store_delivery_free(d);
        return STORE_ERROR;
    }
    *out = d;
    return STORE_OK;
}

static void record(struct store_delivery *d, const struct maildir_entry *e)
{
    uint32_t uid = 0;
    struct mail_index *idx = index_open(d->mailfd);
    /* The index is a cache: if this fails the next sync finds the file. */
    if (!idx || index_add(idx, d->folder, e, (int64_t)time(NULL), d->envelope, &uid) < 0)
        log_warn(0, "store index add_failed account=%s", d->acct.address);
    index_close(idx);
    struct bus_event ev = {.kind = BUS_DELIVERED, .uid = uid};
    snprintf(ev.account, sizeof ev.account, "%s", d->acct.address);
    snprintf(ev.folder, sizeof ev.folder, "%s", d->folder);
    bus_publish(&ev);
}

int store_delivery_commit(struct store_delivery *d)
{
    struct maildir_entry e = {0};
    char from[MAIL_MAX_FILENAME + 8], to[MAIL_MAX_FILENAME + 8];
    if (!d->staged || d->committed)
        return -1;
    if (maildir_new_base(d->size, d->vsize, e.base, sizeof e.base) < 0)
        return -1;
    e.size = d->size;
    e.vsize = d->vsize;
    snprintf(from, sizeof from, "tmp/%s", d->tmpname);
    snprintf(to, sizeof to, "new/%s", e.base);
    if (renameat(d->folderfd, from, d->folderfd, to) < 0)
        return -1;
    d->committed = true;
    if (maildir_fsync_dir(d->folderfd, "new") < 0)
        return -1;
    record(d, &e);
    return 0;
}

void store_delivery_free(struct store_delivery *d)
{
    if (!d)
        return;
    if (d->staged && !d->committed) {
        char path[MAIL_MAX_FILENAME + 8];
        snprintf(path, sizeof path, "tmp/%s", d->tmpname);
        unlinkat(d->folderfd, path, 0);
    }
    if (d->folderfd >= 0)
        close(d->folderfd);
    if (d->mailfd >= 0)
        close(d->mailfd);
    free(d->envelope);
    free(d);
}
