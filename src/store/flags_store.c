/* flags_store: mailbox_store_flags, the STORE command's store side
 * (RFC 9051 6.4.6, RFC 7162 3.1.3 UNCHANGEDSINCE). The whole call is one
 * index transaction: every file is renamed to its new info part (new/ ->
 * cur/ too), then cur/ (and new/, if a file left it) is fsynced once, then
 * the rows and modseqs are committed. A crash before the commit leaves
 * renamed files whose rows the next sync updates: files are the truth.
 *
 * A STORE of STORE_PIPE_MIN messages or more renames on a helper thread
 * (rename_pipe.c) while this one updates the rows: for STORE 1:* of
 * 10,000 the kernel's renames are three quarters of the time, the index
 * the rest. If a rename fails there (a file renamed or removed by another
 * program meanwhile), the whole transaction is rolled back and the STORE
 * runs again without the helper, which resyncs and retries at the file
 * that was gone. */
#include "store/mailbox_internal.h"

#include "store/flags.h"
#include "store/index_internal.h"
#include "store/maildir.h"
#include "store/rename_pipe.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_PIPE_MIN 128
#define STORE_RETRY 1 /* run's result: a piped rename failed, run it again */

/* One call's state. */
struct store_job {
    struct mailbox *mb;
    const struct mailbox_flag_change *ch;
    unsigned ch_flags;
    char ch_kw[MAIL_MAX_KEYWORDS_LEN + 1];
    struct index_folder f, before; /* now, and when the transaction began */
    sqlite3_stmt *find, *update;
    struct rename_pipe *pipe; /* NULL: rename here, one by one */
    bool pipe_failed;
    bool left_new, renamed, changed, resynced;
    uint32_t last_changed;
    struct mailbox_snapshot *out;
    size_t cap;
    uint32_t *modified;
    size_t nmodified, modcap;
};

/* The row of uid and its rowid (the update goes straight to it, without
 * a second primary-key lookup: a tenth of STORE 1:*). */
static int find_row(struct store_job *j, uint32_t uid, struct index_row *r, char *kw,
                    size_t kwlen, sqlite3_int64 *rowid)
{
    sqlite3_reset(j->find);
    sqlite3_bind_int64(j->find, 1, j->f.id);
    sqlite3_bind_int64(j->find, 2, uid);
    int rc = sqlite3_step(j->find);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? 0 : -1;
    idx_row_fill(j->find, r);
    *rowid = sqlite3_column_int64(j->find, 9);
    snprintf(kw, kwlen, "%s", r->keywords);
    r->keywords = kw;
    return 1;
}

static int push_modified(struct store_job *j, uint32_t uid)
{
    if (j->nmodified == j->modcap) {
        size_t cap = j->modcap ? j->modcap * 2 : 16;
        uint32_t *v = realloc(j->modified, cap * sizeof *v);
        if (!v)
            return -1;
        j->modified = v;
        j->modcap = cap;
    }
    j->modified[j->nmodified++] = uid;
    return 0;
}

/* Renames r's file to cur/<base>:2,<info>, or queues the rename on the
 * pipe. 1 done (or queued), 0 file gone, -1 error. */
static int rename_file(struct store_job *j, const struct index_row *r, const char *info)
{
    char from[MAIL_MAX_FILENAME + 8], to[MAIL_MAX_FILENAME + 8];
    struct maildir_entry e = r->e;
    if (maildir_entry_path(&e, from, sizeof from) < 0)
        return -1;
    e.in_cur = true;
    snprintf(e.flags, sizeof e.flags, "%s", info);
    if (maildir_entry_path(&e, to, sizeof to) < 0)
        return -1;
    if (strcmp(from, to) == 0)
        return 1;
    if (j->pipe) {
        if (rename_pipe_add(j->pipe, from, to) < 0)
            j->pipe_failed = true; /* rename_pipe_finish says so too */
    } else if (renameat(j->mb->folderfd, from, j->mb->folderfd, to) < 0) {
        return errno == ENOENT ? 0 : -1;
    }
    j->left_new |= !r->e.in_cur;
    j->renamed = true;
    return 1;
}

static int update_row(struct store_job *j, sqlite3_int64 rowid, const char *info,
                      const char *kw)
{
    sqlite3_reset(j->update);
    sqlite3_bind_int64(j->update, 1, rowid);
    sqlite3_bind_text(j->update, 2, info, -1, SQLITE_STATIC);
    sqlite3_bind_text(j->update, 3, kw, -1, SQLITE_STATIC);
    sqlite3_bind_int64(j->update, 4, (sqlite3_int64)++j->f.highest_modseq);
    int rc = sqlite3_step(j->update);
    sqlite3_reset(j->update); /* info and kw are the caller's */
    return rc == SQLITE_DONE ? 0 : -1;
}

/* New flags, keywords and info part of r; whether anything changes. */
static int compute(struct store_job *j, const struct index_row *r, char *info, char *kw,
                   bool *same)
{
    unsigned flags = mail_flags_from_info(r->e.in_cur ? r->e.flags : "");
    if (mail_flags_apply(j->ch->op, j->ch_flags, j->ch_kw, &flags, r->keywords, kw,
                         MAIL_MAX_KEYWORDS_LEN + 1) < 0)
        return -1;
    if (mail_flags_to_info(flags, r->e.in_cur ? r->e.flags : "", info, MAIL_MAX_INFO) < 0)
        return -1;
    *same = r->e.in_cur && strcmp(info, r->e.flags) == 0 && strcmp(kw, r->keywords) == 0;
    return 0;
}

/* One UID: 0 done (or skipped), 1 its file was gone (resync and retry). */
static int store_one(struct store_job *j, uint32_t uid)
{
    struct index_row r;
    char oldkw[MAIL_MAX_KEYWORDS_LEN + 1], kw[MAIL_MAX_KEYWORDS_LEN + 1];
    char info[MAIL_MAX_INFO];
    bool same;
    sqlite3_int64 rowid = 0;
    int found = find_row(j, uid, &r, oldkw, sizeof oldkw, &rowid);
    if (found <= 0)
        return found;
    /* RFC 7162 3.1.3: changed since the client's modseq: not stored. */
    if (j->ch->unchangedsince && r.modseq > j->ch->unchangedsince) {
        if (push_modified(j, uid) < 0)
            return -1;
        return mb_snapshot_push(j->out, &j->cap, &r);
    }
    if (compute(j, &r, info, kw, &same) < 0)
        return -1;
    if (!same) {
        int rc = rename_file(j, &r, info);
        if (rc <= 0)
            return rc < 0 ? -1 : 1;
        if (update_row(j, rowid, info, kw) < 0)
            return -1;
        j->changed = true;
        j->last_changed = uid;
        r.e.in_cur = true;
        snprintf(r.e.flags, sizeof r.e.flags, "%s", info);
        r.keywords = kw;
        r.modseq = j->f.highest_modseq;
    }
    return mb_snapshot_push(j->out, &j->cap, &r);
}

/* A file was renamed by someone else meanwhile: rescan inside this
 * transaction (the modseqs bumped so far are stored first). */
static int resync(struct store_job *j)
{
    struct mail_index *idx = j->mb->idx;
    j->resynced = true; /* the version cannot be advanced from before */
    if (idx_folder_store(idx, &j->f) < 0)
        return -1;
    return idx_sync_locked(idx, j->mb->name, j->mb->folderfd, &j->f);
}

/* The renames still on the pipe are done: 0, or STORE_RETRY if one failed. */
static int pipe_drain(struct store_job *j)
{
    if (!j->pipe)
        return 0;
    int rc = rename_pipe_finish(j->pipe);
    j->pipe = NULL;
    return rc < 0 ? STORE_RETRY : 0;
}

static int store_all(struct store_job *j, const uint32_t *uids, size_t n)
{
    for (size_t i = 0; i < n && !j->pipe_failed; i++) {
        int rc = store_one(j, uids[i]);
        if (rc == 1 && resync(j) == 0)
            rc = store_one(j, uids[i]) < 0 ? -1 : 0; /* still gone: expunged */
        if (rc < 0)
            return -1;
    }
    int rc = pipe_drain(j);
    if (rc != 0)
        return rc;
    /* One fsync per directory makes every rename above durable. */
    if (j->renamed && maildir_fsync_dir(j->mb->folderfd, "cur") < 0)
        return -1;
    if (j->left_new && maildir_fsync_dir(j->mb->folderfd, "new") < 0)
        return -1;
    return idx_folder_store(j->mb->idx, &j->f);
}

/* One transaction over every UID; with_pipe: the renames on a helper
 * thread. 0, -1, or STORE_RETRY (rolled back). */
static int run_once(struct store_job *j, const uint32_t *uids, size_t n, bool with_pipe)
{
    struct mail_index *idx = mb_index(j->mb);
    if (!idx || idx_txn_begin(idx) < 0)
        return -1;
    int rc = idx_folder_get(idx, j->mb->name, &j->f);
    j->before = j->f;
    if (rc == 0) {
        j->find = idx_prep(idx, "SELECT " IDX_ROW_LIST ", rowid FROM messages"
                                " WHERE folder_id = ?1 AND uid = ?2");
        j->update =
            idx_prep(idx, "UPDATE messages SET in_cur = 1, flags = ?2, keywords = ?3,"
                          " modseq = ?4 WHERE rowid = ?1");
        if (with_pipe)
            j->pipe = rename_pipe_start(j->mb->folderfd);
        rc = j->find && j->update ? store_all(j, uids, n) : -1;
        pipe_drain(j); /* store_all failed before it drained: wait for the helper */
    }
    sqlite3_finalize(j->find);
    sqlite3_finalize(j->update);
    if (idx_txn_end(idx, rc) < 0)
        return rc == STORE_RETRY ? STORE_RETRY : -1;
    mb_snapshot_head(j->out, &j->f);
    return 0;
}

/* Forgets what a rolled-back run collected. */
static void job_reset(struct store_job *j)
{
    mailbox_snapshot_free(j->out);
    memset(j->out, 0, sizeof *j->out);
    free(j->modified);
    j->modified = NULL;
    j->cap = j->nmodified = j->modcap = 0;
    j->pipe_failed = j->left_new = j->renamed = j->changed = j->resynced = false;
    j->last_changed = 0;
}

static int run(struct store_job *j, const uint32_t *uids, size_t n)
{
    if (n >= STORE_PIPE_MIN) {
        int rc = run_once(j, uids, n, true);
        if (rc != STORE_RETRY)
            return rc;
        job_reset(j);
    }
    return run_once(j, uids, n, false);
}

static int msg_cmp(const void *a, const void *b)
{
    uint32_t x = ((const struct mailbox_msg *)a)->uid,
             y = ((const struct mailbox_msg *)b)->uid;
    return (x > y) - (x < y);
}

static int uid_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int mailbox_store_flags(struct mailbox *mb, const uint32_t *uids, size_t n,
                        const struct mailbox_flag_change *ch,
                        struct mailbox_snapshot *out, uint32_t **modified,
                        size_t *nmodified)
{
    struct store_job j = {.mb = mb, .ch = ch, .out = out};
    memset(out, 0, sizeof *out);
    *modified = NULL;
    *nmodified = 0;
    unsigned extra = 0;
    if (mail_keywords_normalise(ch->keywords, j.ch_kw, sizeof j.ch_kw, &extra) < 0)
        return -1;
    j.ch_flags = ch->flags | extra;
    pthread_mutex_lock(&mb->mu);
    int rc = run(&j, uids, n);
    mb_unlock(mb);
    if (rc < 0) {
        mailbox_snapshot_free(out);
        free(j.modified);
        return -1;
    }
    if (out->n > 1)
        qsort(out->msgs, out->n, sizeof *out->msgs, msg_cmp);
    if (j.nmodified > 1)
        qsort(j.modified, j.nmodified, sizeof *j.modified, uid_cmp);
    *modified = j.modified;
    *nmodified = j.nmodified;
    /* The next version is this one's rows over the last: no listing. */
    if (j.changed && !j.resynced)
        mb_version_advance(mb, &j.before, out);
    if (j.changed)
        mb_publish(mb, mb->name, BUS_FLAGS, out->n == 1 ? j.last_changed : 0);
    return 0;
}
