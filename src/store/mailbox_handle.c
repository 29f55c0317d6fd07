/* mailbox_handle: the mailbox handle's life (open, close, name) and its
 * reads: snapshot, changes since a modseq (RFC 7162), opening a message,
 * the cached summary; and its expunge. The handle keeps the account's
 * mail/ and folder directories open until it is closed, so a session's
 * calls cost no open; its index connection is checked out of the cache
 * per call (3-13 us) or per batch of reads, never held while idle (a
 * connection's page cache is megabytes, docs/PERFORMANCE.md). */
#include "store/mailbox_internal.h"

#include "mime/summary.h"
#include "store/flags.h"
#include "store/folder_name.h"
#include "store/index_cache.h"
#include "store/index_internal.h"
#include "store/maildir.h"
#include "store/objectid.h"
#include "store/scan_ahead.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void summary_flush_locked(struct mailbox *mb);

struct mail_index *mb_index(struct mailbox *mb)
{
    if (mb->idx && index_is_current(mb->idx))
        return mb->idx;
    index_close(mb->idx);
    mb->idx = index_cache_get(mb->mailfd);
    return mb->idx;
}

void mb_lock(struct mailbox *mb)
{
    pthread_mutex_lock(&mb->mu);
}

static void index_release(struct mailbox *mb)
{
    index_cache_put(mb->idx);
    mb->idx = NULL;
}

void mb_unlock(struct mailbox *mb)
{
    index_release(mb);
    pthread_mutex_unlock(&mb->mu);
}

void mb_publish(const struct mailbox *mb, const char *folder, enum bus_kind kind,
                uint32_t uid)
{
    struct bus_event ev = {.kind = kind, .uid = uid};
    snprintf(ev.account, sizeof ev.account, "%s", mb->acct.address);
    snprintf(ev.folder, sizeof ev.folder, "%s", folder);
    bus_publish(&ev);
}

struct mailbox *mailbox_open(int datadirfd, const struct account *a, const char *folder)
{
    struct mailbox *mb = calloc(1, sizeof *mb);
    if (!mb)
        return NULL;
    pthread_mutex_init(&mb->mu, NULL);
    mb->acct = *a;
    mb->datadirfd = datadirfd;
    mb->mailfd = mb->folderfd = -1;
    int ok = folder_name_canon(folder, mb->name, sizeof mb->name) == 0;
    if (ok)
        mb->mailfd = maildir_open(datadirfd, a);
    if (ok && mb->mailfd >= 0)
        mb->folderfd = maildir_folder_open(mb->mailfd, mb->name, false);
    /* No index yet: the folder's scan runs while the index is made. */
    if (ok && mb->folderfd >= 0 && faccessat(mb->mailfd, "index.db", F_OK, 0) < 0 &&
        errno == ENOENT)
        mb->ahead = scan_ahead_start(mb->folderfd);
    /* The index must open now (a bad one is an error here, not later). */
    if (ok && mb->folderfd >= 0)
        mb->idx = index_cache_get(mb->mailfd);
    if (!mb->idx) {
        int e = errno;
        mailbox_close(mb);
        errno = e;
        return NULL;
    }
    index_release(mb);
    return mb;
}

void mailbox_close(struct mailbox *mb)
{
    if (!mb)
        return;
    summary_flush_locked(mb);
    mb_names_drop(mb);
    scan_ahead_free(mb->ahead); /* before the folder's fd closes */
    index_release(mb);
    if (mb->folderfd >= 0)
        close(mb->folderfd);
    if (mb->mailfd >= 0)
        close(mb->mailfd);
    pthread_mutex_destroy(&mb->mu);
    free(mb);
}

const char *mailbox_name(const struct mailbox *mb)
{
    return mb->name;
}

void mailbox_snapshot_free(struct mailbox_snapshot *snap)
{
    if (!snap)
        return;
    for (size_t i = 0; i < snap->n; i++)
        free(snap->msgs[i].keywords);
    free(snap->msgs);
    snap->msgs = NULL;
    snap->n = 0;
}

long mailbox_snapshot_find(const struct mailbox_snapshot *s, uint32_t uid)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->msgs[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < s->n && s->msgs[lo].uid == uid)
        return (long)lo;
    return -1;
}

int mb_snapshot_push(struct mailbox_snapshot *s, size_t *cap, const struct index_row *r)
{
    if (s->n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        struct mailbox_msg *v = realloc(s->msgs, c * sizeof *v);
        if (!v)
            return -1;
        s->msgs = v;
        *cap = c;
    }
    struct mailbox_msg *m = &s->msgs[s->n];
    memset(m, 0, sizeof *m);
    if (r->keywords && r->keywords[0] && !(m->keywords = strdup(r->keywords)))
        return -1;
    m->uid = r->uid;
    m->flags = mail_flags_from_info(r->e.in_cur ? r->e.flags : "");
    m->modseq = r->modseq;
    m->internaldate = r->internaldate;
    m->size = r->e.size;
    m->vsize = r->e.vsize;
    s->n++;
    return 0;
}

void mb_snapshot_head(struct mailbox_snapshot *s, const struct index_folder *f)
{
    s->uidvalidity = f->uidvalidity;
    s->uidnext = f->uidnext;
    s->highest_modseq = f->highest_modseq;
    snprintf(s->mailboxid, sizeof s->mailboxid, "%s", f->mailboxid);
}

struct push_ctx {
    struct mailbox_snapshot *s;
    size_t cap;
};

static int push_row(void *arg, const struct index_row *r)
{
    struct push_ctx *c = arg;
    return mb_snapshot_push(c->s, &c->cap, r);
}

/* Sync, then the rows with modseq > since and the folder in one read. */
static int list_since(struct mailbox *mb, uint64_t since, struct mailbox_snapshot *out,
                      struct index_folder *f)
{
    struct push_ctx c = {out, 0};
    struct mail_index *idx = mb_index(mb);
    memset(out, 0, sizeof *out);
    int rc = idx ? index_sync(idx, mb->name, mb->folderfd, f) : -1;
    if (rc == 0)
        rc = index_list_since(idx, mb->name, since, f, push_row, &c);
    if (rc < 0) {
        mailbox_snapshot_free(out);
        return -1;
    }
    mb_snapshot_head(out, f);
    return 0;
}

int mailbox_snapshot(struct mailbox *mb, struct mailbox_snapshot *out)
{
    struct index_folder f;
    mb_lock(mb);
    int rc = list_since(mb, 0, out, &f);
    mb_unlock(mb);
    return rc;
}

int mailbox_changes_since(struct mailbox *mb, uint64_t since,
                          struct mailbox_snapshot *out, uint32_t **vanished,
                          size_t *nvanished)
{
    struct index_folder f;
    *vanished = NULL;
    *nvanished = 0;
    mb_lock(mb);
    int rc = list_since(mb, since, out, &f);
    if (rc == 0 && index_vanished(mb->idx, f.id, since, vanished, nvanished) < 0) {
        mailbox_snapshot_free(out);
        rc = -1;
    }
    mb_unlock(mb);
    return rc;
}

static int open_uid(struct mailbox *mb, struct mail_index *idx, uint32_t uid)
{
    struct index_row r;
    char path[MAIL_MAX_FILENAME + 8];
    int found = index_find(idx, mb->name, uid, &r);
    if (found <= 0 || maildir_entry_path(&r.e, path, sizeof path) < 0) {
        errno = found < 0 ? EIO : ENOENT;
        return -1;
    }
    return openat(mb->folderfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

static int message_open_locked(struct mailbox *mb, uint32_t uid)
{
    struct index_folder f;
    struct mail_index *idx = mb_index(mb);
    if (!idx)
        return -1;
    int fd = mb_names_open(mb, idx, uid);
    if (fd != MB_NAMES_UNKNOWN)
        return fd;
    fd = open_uid(mb, idx, uid);
    /* Another program may have re-flagged the file: sync, retry once. */
    if (fd < 0 && errno == ENOENT && index_sync(idx, mb->name, mb->folderfd, &f) == 0)
        fd = open_uid(mb, idx, uid);
    return fd;
}

int mailbox_emailid(struct mailbox *mb, uint32_t uid, char *out, size_t outlen)
{
    struct index_row r;
    pthread_mutex_lock(&mb->mu);
    struct mail_index *idx = mb_index(mb);
    const char *path = idx ? mb_names_path(mb, idx, uid) : NULL;
    int found = 1;
    if (path)
        objectid_email(path + 4, out, outlen); /* after "cur/" or "new/" */
    else if (idx && (found = index_find(idx, mb->name, uid, &r)) == 1)
        objectid_email(r.e.base, out, outlen);
    pthread_mutex_unlock(&mb->mu);
    if (found == 1 && idx)
        return 0;
    errno = ENOENT;
    if (found < 0 || !idx)
        errno = EIO;
    return -1;
}

int mailbox_message_open(struct mailbox *mb, uint32_t uid)
{
    pthread_mutex_lock(&mb->mu);
    int fd = message_open_locked(mb, uid);
    int e = errno;
    pthread_mutex_unlock(&mb->mu);
    errno = e;
    return fd;
}

/* Writes the pending summaries in one transaction (mb->mu held). It is a
 * cache fill (the summaries, and dates and sizes learned from the files):
 * its commit is not fsynced, as a machine that loses it loses only work
 * the next reader does again. One fsync per 256 summaries was a tenth of
 * the CPU and 40 waits of a first ENVELOPE fetch of 10,000 messages. */
static void summary_flush_locked(struct mailbox *mb)
{
    if (mb->npending == 0)
        return;
    struct mail_index *idx = mb_index(mb);
    if (idx && idx_txn_begin_unsynced(idx, true) == 0) {
        for (size_t i = 0; i < mb->npending; i++)
            index_summary_set(idx, mb->name, mb->pending[i].k.uid, mb->pending[i].text,
                              &mb->pending[i].k);
        idx_txn_end_unsynced(idx, true, 0);
    }
    for (size_t i = 0; i < mb->npending; i++)
        free(mb->pending[i].text);
    mb->npending = 0;
}

/* What a parse of the file fd learned besides the summary: its CRLF size
 * and, from fd, the internal date and size (0 where nothing). */
static struct mail_known parse_known(uint32_t uid, uint64_t vsize, int fd)
{
    struct mail_known k = {uid, 0, 0, vsize};
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        k.internaldate = (int64_t)st.st_mtime;
        k.size = (uint64_t)st.st_size;
    }
    return k;
}

/* Queues text (owned) for the next flush (mb->mu held). A cache: written
 * in batches (summary_flush_locked), failure is fine. */
static void summary_queue(struct mailbox *mb, char *text, const struct mail_known *k)
{
    if (mb->npending == MAILBOX_SUMMARY_PENDING)
        summary_flush_locked(mb);
    mb->pending[mb->npending].k = *k;
    mb->pending[mb->npending].text = text;
    mb->npending++;
}

/* Parses the message with the mime module and caches the result (NULL
 * with EIO when the module is missing or the message cannot be read). */
static char *summary_compute(struct mailbox *mb, uint32_t uid)
{
    int fd = message_open_locked(mb, uid);
    if (fd < 0)
        return NULL;
    struct mime_summary *s = mime_summary_fd(fd);
    char *text = s ? mime_summary_serialise(s) : NULL;
    struct mail_known k = parse_known(uid, mime_summary_vsize(s), fd);
    close(fd);
    mime_summary_free(s);
    if (!text) {
        errno = EIO;
        return NULL;
    }
    char *copy = strdup(text);
    if (copy)
        summary_queue(mb, copy, &k);
    return text;
}

/* A summary computed but not written yet, copied; NULL if none. */
static char *summary_pending(const struct mailbox *mb, uint32_t uid)
{
    for (size_t i = 0; i < mb->npending; i++)
        if (mb->pending[i].k.uid == uid)
            return strdup(mb->pending[i].text);
    return NULL;
}

int mailbox_summary_range(struct mailbox *mb, uint32_t lo, uint32_t hi,
                          int (*cb)(void *arg, uint32_t uid, const char *summary),
                          void *arg)
{
    pthread_mutex_lock(&mb->mu);
    struct mail_index *idx = mb_index(mb);
    int rc = -1;
    if (idx)
        rc = index_summary_range(idx, mb->name, lo, hi, cb, arg);
    pthread_mutex_unlock(&mb->mu);
    return rc;
}

int mailbox_summary_put(struct mailbox *mb, uint32_t uid, const char *text)
{
    return mailbox_summary_put_file(mb, uid, text, 0, -1);
}

int mailbox_summary_put_file(struct mailbox *mb, uint32_t uid, const char *text,
                             uint64_t vsize, int fd)
{
    struct mail_known k = parse_known(uid, vsize, fd);
    char *copy = strdup(text);
    if (!copy)
        return -1;
    pthread_mutex_lock(&mb->mu);
    summary_queue(mb, copy, &k);
    pthread_mutex_unlock(&mb->mu);
    return 0;
}

void mailbox_summary_flush(struct mailbox *mb)
{
    mb_lock(mb);
    summary_flush_locked(mb);
    mb_names_drop(mb);
    mb_unlock(mb); /* the end of a batch: the connection goes back */
}

char *mailbox_summary(struct mailbox *mb, uint32_t uid)
{
    int found = 0;
    pthread_mutex_lock(&mb->mu);
    struct mail_index *idx = mb_index(mb);
    char *text = summary_pending(mb, uid);
    if (text)
        found = 1;
    else if (idx)
        text = index_summary_get(idx, mb->name, uid, &found);
    if (!text && found)
        text = summary_compute(mb, uid);
    else if (!text)
        errno = idx ? ENOENT : EIO;
    int e = errno;
    pthread_mutex_unlock(&mb->mu);
    errno = e;
    return text;
}

int mailbox_expunge(struct mailbox *mb, const uint32_t *uids, size_t n,
                    uint32_t **expunged, size_t *nexpunged)
{
    *expunged = NULL;
    *nexpunged = 0;
    pthread_mutex_lock(&mb->mu);
    struct mail_index *idx = mb_index(mb);
    int rc =
        idx ? index_expunge(idx, mb->name, mb->folderfd, uids, n, expunged, nexpunged)
            : -1;
    mb_unlock(mb);
    if (rc == 0 && *nexpunged > 0)
        mb_publish(mb, mb->name, BUS_EXPUNGED, *nexpunged == 1 ? (*expunged)[0] : 0);
    return rc;
}

unsigned mailbox_unknown(const struct mailbox_msg *m, unsigned need)
{
    return need & index_unknown(m->internaldate, m->size, m->vsize);
}

bool mailbox_vsize_unknown(const struct mailbox_msg *m)
{
    return mailbox_unknown(m, MAIL_NEED_VSIZE) != 0;
}

/* A file not found even after a sync: gone. Reported with now as its
 * date (what a sync whose stat failed recorded), not kept. */
struct fill_fallback {
    void (*cb)(void *arg, const struct mail_known *k);
    void *arg;
    int64_t now;
};

static void fill_report(void *arg, const struct mail_known *k)
{
    struct fill_fallback *f = arg;
    struct mail_known out = *k;
    if (out.internaldate == 0)
        out.internaldate = f->now;
    f->cb(f->arg, &out);
}

static int fill_locked(struct mailbox *mb, const uint32_t *uids, size_t n, unsigned need,
                       void (*cb)(void *arg, const struct mail_known *k), void *arg)
{
    struct index_folder f;
    struct mail_index *idx = mb_index(mb);
    struct fill_fallback fb = {cb, arg, (int64_t)time(NULL)};
    size_t missing = 0;
    if (!idx || index_folder_read(idx, mb->name, &f) != 1)
        return -1;
    if (index_fill_uids(idx, f.id, mb->folderfd, uids, n, need, fill_report, &fb,
                        &missing) < 0)
        return -1;
    if (missing == 0)
        return 0;
    /* A file another program re-flagged since the last sync is not where
     * the row says: one sync finds it (or expunges it), then once more. */
    if (index_sync(idx, mb->name, mb->folderfd, &f) < 0)
        return -1;
    return index_fill_uids(idx, f.id, mb->folderfd, uids, n, need, fill_report, &fb,
                           &missing);
}

int mailbox_fill(struct mailbox *mb, const uint32_t *uids, size_t n, unsigned need,
                 void (*cb)(void *arg, const struct mail_known *k), void *arg)
{
    mb_lock(mb);
    int rc = fill_locked(mb, uids, n, need, cb, arg);
    mb_unlock(mb);
    return rc;
}
