/* index_fill: what a sync leaves unknown about a message, learned from its
 * file the first time a reader needs it and kept in the row. A sync
 * records a file another program put in the Maildir (Dovecot's, a
 * generator's, an index rebuilt) from its name alone: a cold SELECT of
 * 10,000 files reads the two directories and stats none, as Dovecot does.
 * Such a row has internaldate 0 ("not stat'd yet"), size from S= or 0,
 * vsize from W= or 0 ("not counted": a message of size > 0 never has
 * vsize 0). The date and the size come from one fstatat; the CRLF size
 * from reading the file, which gives them all. Every reader of these
 * figures comes here: IMAP FETCH, SEARCH, SORT and THREAD (through
 * mailbox_fill, per batch), STATUS SIZE, POP3, COPY/MOVE, the quota's
 * sum. A file whose mtime is 0 stays "not stat'd" and is stat'd again
 * by each reader: it costs a stat, it is never wrong. */
#include "store/index.h"

#include "store/index_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned index_unknown(int64_t internaldate, uint64_t size, uint64_t vsize)
{
    unsigned u = 0;
    if (internaldate == 0)
        u |= MAIL_NEED_DATE;
    if (internaldate == 0 && size == 0)
        u |= MAIL_NEED_SIZE;
    if (vsize == 0 && (size > 0 || internaldate == 0))
        u |= MAIL_NEED_VSIZE;
    return u;
}

/* Opens the file and counts it: date, size and CRLF size. */
static int learn_by_reading(int folderfd, const char *path, struct mail_known *k)
{
    struct stat st;
    uint64_t size, vsize;
    int fd = openat(folderfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fstat(fd, &st) == 0 ? maildir_measure(fd, &size, &vsize) : -1;
    close(fd);
    if (rc < 0)
        return -1;
    if (k->internaldate == 0)
        k->internaldate = (int64_t)st.st_mtime;
    k->size = size;
    k->vsize = vsize;
    return 1;
}

int index_learn(int folderfd, const struct maildir_entry *e, unsigned need,
                struct mail_known *k)
{
    char path[MAIL_MAX_FILENAME + 8];
    struct stat st;
    unsigned todo = need & index_unknown(k->internaldate, k->size, k->vsize);
    if (!todo)
        return 0;
    if (maildir_entry_path(e, path, sizeof path) < 0)
        return -1;
    if (todo & MAIL_NEED_VSIZE)
        return learn_by_reading(folderfd, path, k);
    if (fstatat(folderfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    if (k->internaldate == 0 && k->size == 0)
        k->size = (uint64_t)st.st_size;
    if (k->internaldate == 0)
        k->internaldate = (int64_t)st.st_mtime;
    return 1;
}

/* Keeps k in its row. A cache fill, not a change: no modseq. */
static int store_known(struct mail_index *idx, int64_t folder_id,
                       const struct mail_known *k)
{
    sqlite3_stmt *st = idx_prep_cached(idx, &idx->fill_st,
                                       "UPDATE messages SET internaldate = ?3, size = ?4,"
                                       " vsize = ?5 WHERE folder_id = ?1 AND uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    sqlite3_bind_int64(st, 2, k->uid);
    sqlite3_bind_int64(st, 3, k->internaldate);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)k->size);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)k->vsize);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static struct mail_known known_of(const struct index_row *r)
{
    struct mail_known k = {r->uid, r->internaldate, r->e.size, r->e.vsize};
    return k;
}

int index_fill_row_locked(struct mail_index *idx, int64_t folder_id, int folderfd,
                          struct index_row *r, unsigned need)
{
    struct mail_known k = known_of(r);
    int got = index_learn(folderfd, &r->e, need, &k);
    if (got <= 0)
        return got;
    if (store_known(idx, folder_id, &k) < 0)
        return -2;
    r->internaldate = k.internaldate;
    r->e.size = k.size;
    r->e.vsize = k.vsize;
    return 1;
}

/* The rows that lack something need asks, as index_unknown says: a folder
 * whose rows are all recorded from portico's own names (S=, W=) lacks
 * only dates, and POP3 or STATUS SIZE must not walk it for them. */
static void fill_where(unsigned need, char *out, size_t outlen)
{
    const char *date = "", *size = "", *vsize = "";
    if (need & MAIL_NEED_DATE)
        date = " OR internaldate = 0";
    if (need & MAIL_NEED_SIZE)
        size = " OR (internaldate = 0 AND size = 0)";
    if (need & MAIL_NEED_VSIZE)
        vsize = " OR (vsize = 0 AND (size > 0 OR internaldate = 0))";
    snprintf(out, outlen, " AND (0%s%s%s)", date, size, vsize);
}

int index_fill_folder_locked(struct mail_index *idx, int64_t folder_id, int folderfd,
                             unsigned need)
{
    char sql[512], where[160];
    fill_where(need, where, sizeof where);
    snprintf(sql, sizeof sql, "%s WHERE folder_id = ?1%s", IDX_ROW_COLS, where);
    sqlite3_stmt *st = idx_prep(idx, sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    struct index_row r;
    int rc = 0, s;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        idx_row_fill(st, &r);
        if (index_fill_row_locked(idx, folder_id, folderfd, &r, need) == -2)
            rc = -1;
    }
    sqlite3_finalize(st);
    return rc;
}

int index_fill_folder(struct mail_index *idx, int64_t folder_id, int folderfd,
                      unsigned need)
{
    if (idx_txn_begin(idx) < 0)
        return -1;
    return idx_txn_end(idx, index_fill_folder_locked(idx, folder_id, folderfd, need));
}

int index_fill_sizes_locked(struct mail_index *idx)
{
    sqlite3_stmt *st = idx_prep(idx, "SELECT DISTINCT f.id, f.name FROM folders f"
                                     " JOIN messages m ON m.folder_id = f.id"
                                     " WHERE m.internaldate = 0 AND m.size = 0");
    if (!st)
        return -1;
    int rc = 0, s;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 1);
        int fd = name ? maildir_folder_open(idx->mailfd, name, false) : -1;
        if (fd < 0)
            continue; /* a folder gone: its rows go at its next sync */
        rc = index_fill_folder_locked(idx, sqlite3_column_int64(st, 0), fd,
                                      MAIL_NEED_SIZE);
        close(fd);
    }
    sqlite3_finalize(st);
    return rc;
}

int index_fill_sizes(struct mail_index *idx)
{
    if (idx_txn_begin(idx) < 0)
        return -1;
    return idx_txn_end(idx, index_fill_sizes_locked(idx));
}

/* One index_fill_uids: the wanted UIDs and what became of them. */
struct fill_walk {
    struct mail_index *idx;
    int64_t folder_id;
    int folderfd;
    unsigned need;
    bool store_failed; /* a write refused: report the rest, store none */
    size_t missing;
};

static struct mail_known walk_row(struct fill_walk *w, const struct index_row *r)
{
    struct mail_known k = known_of(r);
    int got = index_learn(w->folderfd, &r->e, w->need, &k);
    if (got < 0)
        w->missing++;
    if (got > 0 && !w->store_failed && store_known(w->idx, w->folder_id, &k) < 0)
        w->store_failed = true;
    return k;
}

int index_fill_uids(struct mail_index *idx, int64_t folder_id, int folderfd,
                    const uint32_t *uids, size_t n, unsigned need,
                    void (*cb)(void *arg, const struct mail_known *k), void *arg,
                    size_t *missing)
{
    struct fill_walk w = {idx, folder_id, folderfd, need, false, 0};
    *missing = 0;
    if (n == 0)
        return 0;
    /* Deferred: a batch whose figures are all known already (the usual
     * case after the first reader) writes and commits nothing. If the
     * upgrade to a write is refused, the figures learned are still
     * reported, just not kept. */
    if (idx_exec(idx, "BEGIN") < 0)
        return -1;
    sqlite3_stmt *st =
        idx_prep(idx, IDX_ROW_COLS " WHERE folder_id = ?1"
                                   " AND uid BETWEEN ?2 AND ?3 ORDER BY uid");
    int rc = st ? 0 : -1, s;
    if (st) {
        sqlite3_bind_int64(st, 1, folder_id);
        sqlite3_bind_int64(st, 2, uids[0]);
        sqlite3_bind_int64(st, 3, uids[n - 1]);
    }
    size_t at = 0;
    struct index_row r;
    while (st && at < n && (s = sqlite3_step(st)) == SQLITE_ROW) {
        idx_row_fill(st, &r);
        while (at < n && uids[at] < r.uid)
            at++;
        if (at == n || uids[at] != r.uid)
            continue;
        struct mail_known k = walk_row(&w, &r);
        cb(arg, &k);
    }
    sqlite3_finalize(st);
    *missing = w.missing;
    if (rc < 0 || w.store_failed) {
        idx_txn_end(idx, -1); /* nothing kept; what was learned was reported */
        return rc;
    }
    return idx_txn_end(idx, 0);
}
