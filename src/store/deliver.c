/* deliver: tmp/ -> fsync -> new/ -> fsync(new/) for one message and one
 * account (cur/ with its flags for an IMAP APPEND), then the index row and
 * the bus event. The file gets its unique
 * Maildir++ name with S= and W= once its size is known (rename from tmp/).
 * Commits are grouped across pool threads (store/commit.h): the renames of
 * every delivery that is ready go first, then one fsync per new/ directory,
 * then one index transaction per account; a copy counts as safe only when
 * the fsync of its directory after its rename succeeded. */
#include "store/deliver.h"

#include "core/fileio.h"
#include "core/log.h"
#include "mime/envelope.h"
#include "store/bus.h"
#include "store/commit.h"
#include "store/folder_name.h"
#include "store/index.h"
#include "store/index_cache.h"
#include "store/mailbox.h"
#include "store/maildir.h"

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
    bool staged, committed; /* written to tmp/; renamed into new/ */
    bool synced, safe;      /* new/ fsynced after the rename; it succeeded */
    bool indexed;
    uint64_t size, vsize;
    char *envelope;
    struct maildir_entry entry; /* the name in new/ */
    dev_t dev;                  /* the folder directory, to fsync it once */
    ino_t ino;
    uint32_t uid, uidvalidity;
    char info[32]; /* mailbox_append: flags, the file goes to cur/ */
    bool to_cur;
    char *keywords;       /* mailbox_append: the index row's keywords */
    int64_t internaldate; /* mailbox_append: 0 for now */
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

/* Writes message bytes, counting size and vsize (each LF sent as CRLF). */
static int write_counted(int fd, const char *p, size_t n, struct store_delivery *d)
{
    for (size_t i = 0; i < n; i++)
        d->vsize += p[i] == '\n';
    d->size += n;
    d->vsize += n;
    return fd_write_all(fd, p, n);
}

/* prefix + normalised copy of srcfd into fd. */
static int copy_message(int fd, const char *prefix, int srcfd, struct store_delivery *d)
{
    static const size_t cap = DELIVER_CHUNK;
    char *in = malloc(cap), *out = malloc(cap + 1);
    struct lf_norm st = {0};
    int rc = in && out && prefix ? write_counted(fd, prefix, strlen(prefix), d)
             : in && out         ? 0
                                 : -1;
    off_t off = 0;
    ssize_t r = 0;
    while (rc == 0 && (r = pread(srcfd, in, cap, off)) > 0) {
        off += r;
        rc = write_counted(fd, out, lf_normalise(&st, in, (size_t)r, out), d);
    }
    if (rc == 0 && r < 0)
        rc = -1;
    if (rc == 0)
        rc = write_counted(fd, out, lf_normalise_end(&st, out), d);
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
    int fd = openat(d->folderfd, path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    if (fd < 0)
        return -1;
    d->staged = true;
    int rc = copy_message(fd, prefix, srcfd, d);
    /* The internal date is the file's mtime too (as Dovecot keeps it), so a
     * rebuilt index finds the same date. */
    struct timespec t[2] = {{(time_t)d->internaldate, 0}, {(time_t)d->internaldate, 0}};
    if (rc == 0 && d->internaldate)
        rc = futimens(fd, t);
    if (rc == 0)
        rc = fsync(fd);
    if (rc == 0)
        d->envelope = mime_envelope_fd(fd); /* reads from offset 0 */
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
    d->mailfd = -1;
    if (folder_name_canon(folder, d->folder, sizeof d->folder) < 0) {
        store_delivery_free(d);
        return NULL;
    }
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
    return store_delivery_stage_meta(datadirfd, a, folder, prefix, srcfd, quota, NULL,
                                     out);
}

static int delivery_set_meta(struct store_delivery *d, const struct delivery_meta *meta)
{
    if (!meta)
        return 0;
    d->to_cur = true;
    snprintf(d->info, sizeof d->info, "%s", meta->info ? meta->info : "");
    d->internaldate = meta->internaldate;
    if (meta->keywords && meta->keywords[0] && !(d->keywords = strdup(meta->keywords)))
        return -1;
    return 0;
}

enum store_result store_delivery_stage_meta(int datadirfd, const struct account *a,
                                            const char *folder, const char *prefix,
                                            int srcfd, const struct store_quota *quota,
                                            const struct delivery_meta *meta,
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
    if (delivery_set_meta(d, meta) < 0 || stage_file(d, prefix, srcfd) < 0) {
        int err = errno;
        log_error(0, "store deliver stage_failed account=%s errno=%d", a->address, err);
        store_delivery_free(d);
        return err == ENOSPC || err == EDQUOT ? STORE_NO_SPACE : STORE_ERROR;
    }
    *out = d;
    return STORE_OK;
}

/* ---- commit: rename, fsync new/, index, bus; grouped across threads ---- */

static void commit_flush(struct commit_unit *batch);
static struct commit_group commits = COMMIT_GROUP_INIT(commit_flush);

/* One caller's copies of one message, committed together. */
struct commit_set {
    struct store_delivery **d;
    size_t n;
};

/* tmp/ -> new/ under its final name (S= and W= now known). */
static void commit_rename(struct store_delivery *d)
{
    char from[MAIL_MAX_FILENAME + 8], to[MAIL_MAX_FILENAME + 8];
    struct stat st;
    if (!d->staged || d->committed || fstat(d->folderfd, &st) < 0 ||
        maildir_new_base(d->size, d->vsize, d->entry.base, sizeof d->entry.base) < 0)
        return;
    d->dev = st.st_dev;
    d->ino = st.st_ino;
    d->entry.size = d->size;
    d->entry.vsize = d->vsize;
    d->entry.in_cur = d->to_cur;
    snprintf(d->entry.flags, sizeof d->entry.flags, "%s", d->info);
    snprintf(from, sizeof from, "tmp/%s", d->tmpname);
    if (maildir_entry_path(&d->entry, to, sizeof to) < 0)
        return;
    if (renameat(d->folderfd, from, d->folderfd, to) == 0)
        d->committed = true;
}

/* One fsync per new/ (or cur/, for appends) directory of the batch; it
 * makes every rename into that directory durable, so each copy renamed
 * there is now safe. */
static void commit_sync_dirs(struct store_delivery **all, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!all[i]->committed || all[i]->synced)
            continue;
        const char *sub = all[i]->to_cur ? "cur" : "new";
        bool ok = maildir_fsync_dir(all[i]->folderfd, sub) == 0;
        for (size_t k = i; k < n; k++) {
            struct store_delivery *o = all[k];
            if (o->committed && !o->synced && o->dev == all[i]->dev &&
                o->ino == all[i]->ino && o->to_cur == all[i]->to_cur) {
                o->synced = true;
                o->safe = ok;
            }
        }
    }
}

/* The rows of every safe copy for the account of all[first], in one index
 * transaction. The index is a cache: if this fails, the next sync finds
 * the files. */
static void commit_index_account(struct store_delivery **all, size_t n, size_t first)
{
    int64_t account = all[first]->acct.id, now = (int64_t)time(NULL);
    struct index_new *rows = calloc(n - first, sizeof *rows);
    struct store_delivery **who = calloc(n - first, sizeof *who);
    size_t k = 0;
    for (size_t i = first; i < n; i++) {
        struct store_delivery *d = all[i];
        if (!d->safe || d->indexed || d->acct.id != account)
            continue;
        d->indexed = true;
        if (rows && who) {
            int64_t idate = d->internaldate ? d->internaldate : now;
            rows[k] = (struct index_new){d->folder,   &d->entry, idate, d->envelope,
                                         d->keywords, 0,         0};
            who[k++] = d;
        }
    }
    struct mail_index *idx = rows && who ? index_cache_get(all[first]->mailfd) : NULL;
    if (!idx || index_add_many(idx, rows, k) < 0) {
        log_warn(0, "store index add_failed account=%s", all[first]->acct.address);
    } else {
        for (size_t i = 0; i < k; i++) {
            who[i]->uid = rows[i].uid;
            who[i]->uidvalidity = rows[i].uidvalidity;
        }
    }
    index_cache_put(idx);
    free(rows);
    free(who);
}

static void commit_publish(const struct store_delivery *d)
{
    struct bus_event ev = {.kind = BUS_DELIVERED, .uid = d->uid};
    snprintf(ev.account, sizeof ev.account, "%s", d->acct.address);
    snprintf(ev.folder, sizeof ev.folder, "%s", d->folder);
    bus_publish(&ev);
}

/* Every copy of the batch in one array, NULL entries left out. */
static struct store_delivery **batch_copies(struct commit_unit *batch, size_t *n)
{
    size_t cap = 0;
    for (struct commit_unit *u = batch; u; u = u->next)
        cap += ((struct commit_set *)u->item)->n;
    struct store_delivery **all = malloc((cap ? cap : 1) * sizeof *all);
    *n = 0;
    for (struct commit_unit *u = batch; all && u; u = u->next) {
        struct commit_set *cs = u->item;
        for (size_t i = 0; i < cs->n; i++)
            if (cs->d[i])
                all[(*n)++] = cs->d[i];
    }
    return all;
}

static void commit_flush(struct commit_unit *batch)
{
    size_t n = 0;
    struct store_delivery **all = batch_copies(batch, &n);
    for (size_t i = 0; all && i < n; i++)
        commit_rename(all[i]);
    if (all)
        commit_sync_dirs(all, n);
    for (size_t i = 0; all && i < n; i++)
        if (all[i]->safe && !all[i]->indexed)
            commit_index_account(all, n, i);
    free(all);
    for (struct commit_unit *u = batch; u; u = u->next) {
        struct commit_set *cs = u->item;
        u->rc = 0;
        for (size_t i = 0; i < cs->n; i++) {
            if (!cs->d[i])
                continue;
            if (cs->d[i]->safe)
                commit_publish(cs->d[i]);
            else
                u->rc++;
        }
    }
}

int store_delivery_commit_all(struct store_delivery **d, size_t n)
{
    struct commit_set cs = {d, n};
    struct commit_unit u = {.item = &cs};
    commit_group_join(&commits, &u);
    return u.rc;
}

int store_delivery_commit(struct store_delivery *d)
{
    return store_delivery_commit_all(&d, 1) == 0 ? 0 : -1;
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
    free(d->keywords);
    free(d);
}

void store_delivery_result(const struct store_delivery *d, uint32_t *uid,
                           uint32_t *uidvalidity, const char **base)
{
    *uid = d->uid;
    *uidvalidity = d->uidvalidity;
    *base = d->entry.base;
}
