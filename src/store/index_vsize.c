/* index_vsize: RFC822.SIZE (the size with CRLF line ends, "vsize") of
 * messages whose file name did not carry W= (files another program put
 * in the Maildir, e.g. Dovecot's or a generator's). A sync records such
 * a file from its name and one stat (size from st_size, vsize 0 meaning
 * "not measured": a message of size > 0 never has vsize 0), so SELECT of
 * a folder opens no file; the LFs are counted once, here, when a client
 * first asks for a size (FETCH RFC822.SIZE, SEARCH LARGER, SORT SIZE,
 * STATUS SIZE, POP3, COPY) and the result is kept in the row. */
#include "store/index.h"

#include "store/index_internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

bool index_vsize_unknown(uint64_t size, uint64_t vsize)
{
    return vsize == 0 && size > 0;
}

int index_measure_entry(int folderfd, const struct maildir_entry *e, uint64_t *size,
                        uint64_t *vsize)
{
    char path[MAIL_MAX_FILENAME + 8];
    if (maildir_entry_path(e, path, sizeof path) < 0)
        return -1;
    int fd = openat(folderfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = maildir_measure(fd, size, vsize);
    close(fd);
    return rc;
}

static int store_vsize(sqlite3_stmt *up, int64_t folder_id, uint32_t uid, uint64_t size,
                       uint64_t vsize)
{
    sqlite3_reset(up);
    sqlite3_bind_int64(up, 1, folder_id);
    sqlite3_bind_int64(up, 2, uid);
    sqlite3_bind_int64(up, 3, (sqlite3_int64)size);
    sqlite3_bind_int64(up, 4, (sqlite3_int64)vsize);
    if (sqlite3_step(up) != SQLITE_DONE)
        return -1;
    return 0;
}

/* Measures the unmeasured rows the query st yields (bound by the caller)
 * and stores them with up; cb (may be NULL) hears each uid and vsize. */
static int measure_rows(sqlite3_stmt *st, sqlite3_stmt *up, int64_t folder_id,
                        int folderfd, void (*cb)(void *, uint32_t, uint64_t), void *arg)
{
    struct index_row r;
    int rc = 0, s;
    while (rc == 0 && (s = sqlite3_step(st)) == SQLITE_ROW) {
        idx_row_fill(st, &r);
        uint64_t size = r.e.size, vsize = r.e.vsize;
        if (index_vsize_unknown(size, vsize) &&
            index_measure_entry(folderfd, &r.e, &size, &vsize) == 0)
            rc = store_vsize(up, folder_id, r.uid, size, vsize);
        if (cb && rc == 0)
            cb(arg, r.uid, vsize);
    }
    return rc;
}

static int fill(struct mail_index *idx, int64_t folder_id, int folderfd,
                const char *where, uint32_t lo, uint32_t hi,
                void (*cb)(void *, uint32_t, uint64_t), void *arg)
{
    char sql[256];
    snprintf(sql, sizeof sql, IDX_ROW_COLS " WHERE folder_id = ?1 %s", where);
    sqlite3_stmt *st = idx_prep(idx, sql);
    sqlite3_stmt *up = idx_prep(idx, "UPDATE messages SET size = ?3, vsize = ?4"
                                     " WHERE folder_id = ?1 AND uid = ?2");
    int rc = -1;
    if (st && up) {
        sqlite3_bind_int64(st, 1, folder_id);
        sqlite3_bind_int64(st, 2, lo);
        sqlite3_bind_int64(st, 3, hi);
        rc = measure_rows(st, up, folder_id, folderfd, cb, arg);
    }
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    return rc;
}

int index_vsize_fill_locked(struct mail_index *idx, int64_t folder_id, int folderfd)
{
    /* ?2 and ?3 are not in this query: binding them is a harmless no-op. */
    return fill(idx, folder_id, folderfd, "AND vsize = 0 AND size > 0", 0, 0, NULL, NULL);
}

int index_vsize_fill(struct mail_index *idx, int64_t folder_id, int folderfd)
{
    if (idx_txn_begin(idx) < 0)
        return -1;
    return idx_txn_end(idx, index_vsize_fill_locked(idx, folder_id, folderfd));
}

int index_vsize_range(struct mail_index *idx, int64_t folder_id, int folderfd,
                      uint32_t lo, uint32_t hi, void (*cb)(void *, uint32_t, uint64_t),
                      void *arg)
{
    /* Deferred: a batch whose sizes are all known already (the usual
     * case after the first fetch) reads and commits nothing. If the
     * upgrade to a write is refused, the caller counts from the file. */
    if (idx_exec(idx, "BEGIN") < 0)
        return -1;
    int rc = fill(idx, folder_id, folderfd, "AND uid BETWEEN ?2 AND ?3 ORDER BY uid", lo,
                  hi, cb, arg);
    return idx_txn_end(idx, rc);
}
