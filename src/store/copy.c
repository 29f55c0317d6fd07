/* copy: mailbox_copy, COPY and MOVE between folders of one account
 * (RFC 9051 6.4.7, RFC 6851 MOVE, RFC 4315 COPYUID). A copy is a hard link
 * under the same name (so it shares the EMAILID, as RFC 8474 5.1 allows)
 * or, where links are refused, a byte copy under a new name; a move renames
 * the file (never replacing one: renameat2 RENAME_NOREPLACE), keeping its
 * name and so its EMAILID. A name already taken in the destination gets a
 * ",C=<n>" field, which keeps the unique part. The whole call is one index
 * transaction; the directories are fsynced before it commits. */
#include "store/mailbox_internal.h"

#include "core/fileio.h"
#include "store/folder_name.h"
#include "store/index_internal.h"
#include "store/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COPY_MAX_SUFFIX 100 /* ",C=<n>" names tried before giving up */
#define COPY_CHUNK 65536

struct copy_job {
    struct mailbox *mb;
    bool move;
    char dest[MAIL_MAX_FOLDER + 1];
    int dstfd;
    struct index_folder f, g, *dst; /* source, destination (&f if the same) */
    bool dst_dirs[2], src_dirs[2];  /* new/, cur/ touched */
    struct placed *undo;            /* files placed so far, for a failure */
    size_t nundo, capundo;
};

/* A file placed in the destination: where it came from, where it went. */
struct placed {
    char from[MAIL_MAX_FILENAME + 8], to[MAIL_MAX_FILENAME + 8];
};

static int remember(struct copy_job *j, const char *from, const struct maildir_entry *e)
{
    if (j->nundo == j->capundo) {
        size_t cap = j->capundo ? j->capundo * 2 : 16;
        struct placed *v = realloc(j->undo, cap * sizeof *v);
        if (!v)
            return -1;
        j->undo = v;
        j->capundo = cap;
    }
    struct placed *p = &j->undo[j->nundo++];
    snprintf(p->from, sizeof p->from, "%s", from);
    return maildir_entry_path(e, p->to, sizeof p->to);
}

/* The call failed and its rows are rolled back: take the files back too,
 * so a retried COPY does not leave duplicates for the next sync to find. */
static void undo_files(struct copy_job *j)
{
    for (size_t i = 0; i < j->nundo; i++) {
        const struct placed *p = &j->undo[i];
        if (j->move)
            renameat2(j->dstfd, p->to, j->mb->folderfd, p->from, RENAME_NOREPLACE);
        else
            unlinkat(j->dstfd, p->to, 0);
    }
}

/* Bytes of the source file into the destination's tmp/, fsynced, then
 * renamed to e (a fresh name). */
static int copy_bytes(struct copy_job *j, const char *from, struct maildir_entry *e)
{
    char tmp[MAIL_MAX_FILENAME + 8], to[MAIL_MAX_FILENAME + 8], buf[COPY_CHUNK];
    int in = openat(j->mb->folderfd, from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0 || maildir_new_base(e->size, e->vsize, e->base, sizeof e->base) < 0)
        goto fail_in;
    snprintf(tmp, sizeof tmp, "tmp/%s", e->base);
    int out =
        openat(j->dstfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0)
        goto fail_in;
    ssize_t r;
    int rc = 0;
    off_t off = 0;
    while (rc == 0 && (r = pread(in, buf, sizeof buf, off)) > 0) {
        rc = fd_write_all(out, buf, (size_t)r);
        off += r;
    }
    if (rc == 0 && r < 0)
        rc = -1;
    if (rc == 0)
        rc = fsync(out);
    close(out);
    close(in);
    if (rc == 0 && maildir_entry_path(e, to, sizeof to) == 0 &&
        renameat2(j->dstfd, tmp, j->dstfd, to, RENAME_NOREPLACE) == 0)
        return 0;
    unlinkat(j->dstfd, tmp, 0);
    return -1;
fail_in:
    if (in >= 0)
        close(in);
    return -1;
}

/* Links or renames from into the destination as e, with ",C=<n>" if the
 * name is taken. Sets errno EXDEV etc. when neither can work. */
static int place(struct copy_job *j, const char *from, struct maildir_entry *e)
{
    char to[MAIL_MAX_FILENAME + 8], orig[MAIL_MAX_FILENAME + 1];
    snprintf(orig, sizeof orig, "%s", e->base);
    for (int n = 0; n <= COPY_MAX_SUFFIX; n++) {
        if (n > 0 &&
            snprintf(e->base, sizeof e->base, "%s,C=%d", orig, n) >= (int)sizeof e->base)
            return -1;
        if (maildir_entry_path(e, to, sizeof to) < 0)
            return -1;
        int rc = j->move
                     ? renameat2(j->mb->folderfd, from, j->dstfd, to, RENAME_NOREPLACE)
                     : linkat(j->mb->folderfd, from, j->dstfd, to, 0);
        if (rc == 0)
            return 0;
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

/* The source's cached summary, if any, for the destination's new UID. */
static int copy_summary(struct copy_job *j, uint32_t src_uid)
{
    sqlite3_stmt *st =
        idx_prep(j->mb->idx, "INSERT OR REPLACE INTO summaries(folder_id, uid, summary)"
                             " SELECT ?1, ?2, summary FROM summaries"
                             " WHERE folder_id = ?3 AND uid = ?4");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, j->dst->id);
    sqlite3_bind_int64(st, 2, j->dst->uidnext);
    sqlite3_bind_int64(st, 3, j->f.id);
    sqlite3_bind_int64(st, 4, src_uid);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The destination row: the source's flags, keywords, date, sizes and
 * caches, under the new name, UID and modseq. */
static int insert_row(struct copy_job *j, uint32_t src_uid, const struct maildir_entry *e)
{
    sqlite3_stmt *st =
        idx_prep(j->mb->idx, "INSERT INTO messages(folder_id, uid, base, in_cur, flags,"
                             " keywords, modseq, internaldate, size, vsize, envelope,"
                             " bodystructure) SELECT ?1, ?2, ?3, in_cur, flags,"
                             " keywords, ?4, internaldate, size, vsize, envelope,"
                             " bodystructure FROM messages"
                             " WHERE folder_id = ?5 AND uid = ?6");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, j->dst->id);
    sqlite3_bind_int64(st, 2, j->dst->uidnext);
    sqlite3_bind_text(st, 3, e->base, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)j->dst->highest_modseq + 1);
    sqlite3_bind_int64(st, 5, j->f.id);
    sqlite3_bind_int64(st, 6, src_uid);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE || sqlite3_changes(j->mb->idx->db) != 1)
        return -1;
    if (copy_summary(j, src_uid) < 0)
        return -1;
    j->dst->uidnext++;
    j->dst->highest_modseq++;
    return 0;
}

/* One message. 0 (with *dst_uid 0 if it did not exist) or -1. */
static int copy_one(struct copy_job *j, uint32_t uid, uint32_t *dst_uid)
{
    struct index_row r;
    char from[MAIL_MAX_FILENAME + 8];
    *dst_uid = 0;
    int found = index_find(j->mb->idx, j->mb->name, uid, &r);
    if (found <= 0)
        return found;
    if (maildir_entry_path(&r.e, from, sizeof from) < 0)
        return -1;
    /* The new name carries S= and W=, the new row the source's date
     * (COPY keeps INTERNALDATE, RFC 9051 6.4.7): learn what a sync left
     * unknown now, into the source row the copy's is made from. A file
     * not found is left to place() (gone meanwhile: skipped). */
    if (index_fill_row_locked(j->mb->idx, j->f.id, j->mb->folderfd, &r, MAIL_NEED_ALL) ==
        -2)
        return -1;
    struct maildir_entry e = r.e;
    if (place(j, from, &e) < 0) {
        if (errno == ENOENT) /* gone meanwhile: the next sync expunges it */
            return 0;
        if (j->move || (errno != EXDEV && errno != EPERM && errno != EMLINK) ||
            copy_bytes(j, from, &e) < 0)
            return -1;
    }
    j->dst_dirs[e.in_cur] = true;
    j->src_dirs[r.e.in_cur] |= j->move;
    if (remember(j, from, &e) < 0)
        return -1;
    uint32_t new_uid = j->dst->uidnext;
    if (insert_row(j, uid, &e) < 0)
        return -1;
    if (j->move &&
        (idx_row_delete(j->mb->idx, j->f.id, uid) < 0 ||
         idx_record_expunged(j->mb->idx, j->f.id, uid, ++j->f.highest_modseq) < 0))
        return -1;
    *dst_uid = new_uid;
    return 0;
}

static int fsync_dirs(int fd, const bool dirs[2])
{
    if (dirs[0] && maildir_fsync_dir(fd, "new") < 0)
        return -1;
    if (dirs[1] && maildir_fsync_dir(fd, "cur") < 0)
        return -1;
    return 0;
}

/* RFC 9051 6.4.7: a copy that would not fit is refused as a whole. */
static int quota_ok(struct copy_job *j, const uint32_t *uids, size_t n,
                    const struct store_quota *q)
{
    uint64_t used = 0, count = 0, add = 0, addn = 0;
    if (!q || (q->bytes == 0 && q->messages == 0) || j->move)
        return 1;
    for (size_t i = 0; i < n; i++) {
        struct index_row r;
        if (index_find(j->mb->idx, j->mb->name, uids[i], &r) == 1) {
            if (index_fill_row_locked(j->mb->idx, j->f.id, j->mb->folderfd, &r,
                                      MAIL_NEED_SIZE) == -2)
                return -1;
            add += r.e.size;
            addn++;
        }
    }
    if (index_fill_sizes_locked(j->mb->idx) < 0 ||
        index_usage(j->mb->idx, &used, &count) < 0)
        return -1;
    if (q->bytes && used + add > q->bytes)
        return 0;
    if (q->messages && count + addn > q->messages)
        return 0;
    return 1;
}

static enum store_result copy_locked(struct copy_job *j, const uint32_t *uids, size_t n,
                                     const struct store_quota *quota, uint32_t *dst_uids)
{
    struct mail_index *idx = j->mb->idx;
    int rc = idx_folder_get(idx, j->mb->name, &j->f);
    j->dst = &j->f;
    if (rc == 0 && strcmp(j->dest, j->mb->name) != 0) {
        rc = idx_folder_get(idx, j->dest, &j->g);
        j->dst = &j->g;
    }
    int q = rc == 0 ? quota_ok(j, uids, n, quota) : -1;
    if (q <= 0)
        return q == 0 ? STORE_OVER_QUOTA : STORE_ERROR;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = copy_one(j, uids[i], &dst_uids[i]);
    if (rc == 0)
        rc = fsync_dirs(j->dstfd, j->dst_dirs);
    if (rc == 0)
        rc = fsync_dirs(j->mb->folderfd, j->src_dirs);
    if (rc == 0)
        rc = idx_folder_store(idx, &j->f);
    if (rc == 0 && j->dst != &j->f)
        rc = idx_folder_store(idx, &j->g);
    return rc == 0 ? STORE_OK : STORE_ERROR;
}

static enum store_result run(struct copy_job *j, const uint32_t *uids, size_t n,
                             const struct store_quota *quota, uint32_t *dst_uids,
                             uint32_t *dst_uidvalidity)
{
    struct mail_index *idx = mb_index(j->mb);
    if (!idx || idx_txn_begin(idx) < 0)
        return STORE_ERROR;
    enum store_result r = copy_locked(j, uids, n, quota, dst_uids);
    if (idx_txn_end(idx, r == STORE_OK ? 0 : -1) < 0) {
        undo_files(j);
        return r == STORE_OK ? STORE_ERROR : r;
    }
    *dst_uidvalidity = j->dst->uidvalidity;
    return STORE_OK;
}

enum store_result mailbox_copy(struct mailbox *mb, const uint32_t *uids, size_t n,
                               const char *dest, bool move,
                               const struct store_quota *quota, uint32_t *dst_uids,
                               uint32_t *dst_uidvalidity)
{
    struct copy_job j = {.mb = mb, .move = move};
    *dst_uidvalidity = 0;
    for (size_t i = 0; i < n; i++)
        dst_uids[i] = 0;
    if (folder_name_canon(dest, j.dest, sizeof j.dest) < 0)
        return STORE_ERROR;
    j.dstfd = maildir_folder_open(mb->mailfd, j.dest, false);
    if (j.dstfd < 0)
        return STORE_ERROR; /* errno ENOENT: no such destination */
    pthread_mutex_lock(&mb->mu);
    enum store_result r = run(&j, uids, n, quota, dst_uids, dst_uidvalidity);
    mb_unlock(mb);
    close(j.dstfd);
    free(j.undo);
    size_t copied = 0;
    uint32_t one = 0;
    for (size_t i = 0; r == STORE_OK && i < n; i++) {
        if (dst_uids[i]) {
            copied++;
            one = dst_uids[i];
        }
    }
    if (r != STORE_OK) {
        for (size_t i = 0; i < n; i++)
            dst_uids[i] = 0; /* rolled back: nothing was copied */
        return r;
    }
    if (copied == 0)
        return r;
    mb_publish(mb, j.dest, BUS_DELIVERED, copied == 1 ? one : 0);
    if (move)
        mb_publish(mb, mb->name, BUS_EXPUNGED, n == 1 ? uids[0] : 0);
    return STORE_OK;
}
