/* index_write: the index's side of expunges (files unlinked and made
 * durable before their rows go; each UID recorded with its modseq for
 * VANISHED, RFC 7162 3.2.5.2), the VANISHED query, keyword updates and the
 * summary cache column. */
#include "store/index.h"

#include "store/index_internal.h"
#include "store/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct uid_list {
    uint32_t *v;
    size_t n, cap;
};

static int uid_push(struct uid_list *l, uint32_t uid)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint32_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = uid;
    return 0;
}

static int uid_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The rows of f flagged T (\Deleted, RFC 9051 6.4.3), in UID order. */
static int deleted_uids(struct mail_index *idx, int64_t folder_id, struct uid_list *l)
{
    sqlite3_stmt *st = idx_prep(idx, "SELECT uid FROM messages WHERE folder_id = ?1"
                                     " AND instr(flags, 'T') > 0 ORDER BY uid");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (uid_push(l, (uint32_t)sqlite3_column_int64(st, 0)) < 0)
            break;
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Unlinks the files of the uids that exist; those go to gone. */
static int unlink_files(struct mail_index *idx, int64_t folder_id, int folderfd,
                        const uint32_t *uids, size_t n, struct uid_list *gone)
{
    sqlite3_stmt *st = idx_prep(idx, IDX_ROW_COLS " WHERE folder_id = ?1 AND uid = ?2");
    if (!st)
        return -1;
    int ret = 0;
    for (size_t i = 0; ret == 0 && i < n; i++) {
        struct index_row r;
        char path[MAIL_MAX_FILENAME + 8];
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, folder_id);
        sqlite3_bind_int64(st, 2, uids[i]);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
            ret = rc == SQLITE_DONE ? 0 : -1;
            continue;
        }
        idx_row_fill(st, &r);
        if (maildir_entry_path(&r.e, path, sizeof path) < 0)
            continue;
        if (unlinkat(folderfd, path, 0) < 0 && errno != ENOENT)
            ret = -1;
        else
            ret = uid_push(gone, r.uid);
    }
    sqlite3_finalize(st);
    return ret;
}

static int expunge_locked(struct mail_index *idx, const char *folder, int folderfd,
                          const uint32_t *uids, size_t n, struct uid_list *gone)
{
    struct index_folder f;
    struct uid_list flagged = {0};
    int rc = idx_folder_get(idx, folder, &f);
    if (rc == 0 && !uids) {
        rc = deleted_uids(idx, f.id, &flagged);
        uids = flagged.v;
        n = flagged.n;
    }
    if (rc == 0)
        rc = unlink_files(idx, f.id, folderfd, uids, n, gone);
    free(flagged.v);
    /* The unlinks are durable before the rows go (DESIGN.md "Storage"). */
    if (rc == 0 && gone->n > 0 &&
        (maildir_fsync_dir(folderfd, "new") < 0 ||
         maildir_fsync_dir(folderfd, "cur") < 0))
        rc = -1;
    for (size_t i = 0; rc == 0 && i < gone->n; i++) {
        rc = idx_row_delete(idx, f.id, gone->v[i]);
        if (rc == 0)
            rc = idx_record_expunged(idx, f.id, gone->v[i], ++f.highest_modseq);
    }
    if (rc == 0 && gone->n > 0)
        rc = idx_folder_store(idx, &f);
    return rc;
}

int index_expunge(struct mail_index *idx, const char *folder, int folderfd,
                  const uint32_t *uids, size_t n, uint32_t **out, size_t *nout)
{
    struct uid_list gone = {0};
    if (out) {
        *out = NULL;
        *nout = 0;
    }
    if (idx_txn_begin(idx) < 0)
        return -1;
    int rc = idx_txn_end(idx, expunge_locked(idx, folder, folderfd, uids, n, &gone));
    if (rc == 0 && out && gone.n > 0) {
        qsort(gone.v, gone.n, sizeof *gone.v, uid_cmp);
        *out = gone.v;
        *nout = gone.n;
        return 0;
    }
    free(gone.v);
    return rc;
}

int index_vanished(struct mail_index *idx, int64_t folder_id, uint64_t since,
                   uint32_t **out, size_t *n)
{
    struct uid_list l = {0};
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = idx_prep(idx, "SELECT uid FROM expunged WHERE folder_id = ?1"
                                     " AND modseq > ?2 ORDER BY uid");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (uid_push(&l, (uint32_t)sqlite3_column_int64(st, 0)) < 0)
            break;
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(l.v);
        return -1;
    }
    *out = l.v;
    *n = l.n;
    return 0;
}

int index_find_base(struct mail_index *idx, const char *folder, const char *base,
                    struct index_row *out)
{
    sqlite3_stmt *st =
        idx_prep(idx, IDX_ROW_COLS " WHERE folder_id = (SELECT id FROM folders"
                                   " WHERE name = ?1) AND base = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, base, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        idx_row_fill(st, out);
        out->keywords = NULL;
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : -1;
}

static int set_keywords_locked(struct mail_index *idx, const char *folder, uint32_t uid,
                               const char *keywords)
{
    struct index_folder f;
    if (idx_folder_get(idx, folder, &f) < 0)
        return -1;
    sqlite3_stmt *st = idx_prep(idx, "UPDATE messages SET keywords = ?3, modseq = ?4"
                                     " WHERE folder_id = ?1 AND uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, f.id);
    sqlite3_bind_int64(st, 2, uid);
    sqlite3_bind_text(st, 3, keywords, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)++f.highest_modseq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? idx_folder_store(idx, &f) : -1;
}

int index_set_keywords(struct mail_index *idx, const char *folder, uint32_t uid,
                       const char *keywords)
{
    if (idx_txn_begin(idx) < 0)
        return -1;
    return idx_txn_end(idx, set_keywords_locked(idx, folder, uid, keywords));
}

char *index_summary_get(struct mail_index *idx, const char *folder, uint32_t uid,
                        int *found)
{
    *found = 0;
    sqlite3_stmt *st = idx_prep_cached(
        idx, &idx->summary_st,
        "SELECT s.summary FROM messages m LEFT JOIN summaries s"
        " ON s.folder_id = m.folder_id AND s.uid = m.uid WHERE m.folder_id ="
        " (SELECT id FROM folders WHERE name = ?1) AND m.uid = ?2");
    if (!st)
        return NULL;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uid);
    char *out = NULL;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *found = 1;
        const unsigned char *s = sqlite3_column_text(st, 0);
        out = s ? strdup((const char *)s) : NULL;
    }
    sqlite3_reset(st);
    return out;
}

int index_summary_range(struct mail_index *idx, const char *folder, uint32_t lo,
                        uint32_t hi,
                        int (*cb)(void *arg, uint32_t uid, const char *summary),
                        void *arg)
{
    /* One range of the summaries' primary key, not a join with messages
     * (a lookup per message): the caller merges by UID with its view. */
    sqlite3_stmt *st =
        idx_prep(idx, "SELECT uid, summary FROM summaries WHERE folder_id ="
                      " (SELECT id FROM folders WHERE name = ?1)"
                      " AND uid BETWEEN ?2 AND ?3 ORDER BY uid");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 1);
        if (cb(arg, (uint32_t)sqlite3_column_int64(st, 0), (const char *)text) < 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The parse counted the CRLF size and read the file: a row a sync left
 * without them (index_unknown) takes them. SET reads the old row's
 * values, so each test sees the figures as they were. */
static int known_from_parse(struct mail_index *idx, const char *folder, uint32_t uid,
                            const struct mail_known *k)
{
    if (!k || (k->vsize == 0 && k->internaldate == 0))
        return 0;
    sqlite3_stmt *st = idx_prep_cached(
        idx, &idx->vsize_set_st,
        "UPDATE messages SET"
        " vsize = CASE WHEN vsize = 0 AND ?3 > 0 THEN ?3 ELSE vsize END,"
        " size = CASE WHEN internaldate = 0 AND size = 0 AND ?4 != 0 THEN ?5"
        " ELSE size END,"
        " internaldate = CASE WHEN internaldate = 0 THEN ?4 ELSE internaldate END"
        " WHERE folder_id = (SELECT id FROM folders WHERE name = ?1) AND uid = ?2"
        " AND ((vsize = 0 AND ?3 > 0) OR (internaldate = 0 AND ?4 != 0))");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uid);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)k->vsize);
    sqlite3_bind_int64(st, 4, k->internaldate);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)k->size);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int index_summary_set(struct mail_index *idx, const char *folder, uint32_t uid,
                      const char *summary, const struct mail_known *k)
{
    /* A cache fill, not a change: no modseq, no transaction of its own.
     * Kept only for a message that still exists (not one expunged since). */
    sqlite3_stmt *st = idx_prep_cached(
        idx, &idx->summary_set_st,
        "INSERT OR REPLACE INTO summaries(folder_id, uid, summary)"
        " SELECT m.folder_id, m.uid, ?3 FROM messages m WHERE m.folder_id ="
        " (SELECT id FROM folders WHERE name = ?1) AND m.uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uid);
    sqlite3_bind_text(st, 3, summary, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return -1;
    return known_from_parse(idx, folder, uid, k);
}
