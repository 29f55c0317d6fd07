/* index: mail/index.db. Owns its schema, folder rows (UIDVALIDITY, UIDNEXT,
 * modseq), message rows and the merge of a directory scan into them. Every
 * write runs in BEGIN IMMEDIATE so deliveries, syncs and expunges of the
 * same account on different threads serialise; the directory scan of a sync
 * happens inside that transaction, so it never races a delivery's insert. */
#include "store/index.h"

#include "core/log.h"
#include "mime/envelope.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INDEX_BUSY_MS 10000
#define UIDVALIDITY_FILE "uidvalidity" /* high-water mark across rebuilds */

struct mail_index {
    sqlite3 *db;
    int mailfd;
    dev_t dev; /* index.db as opened */
    ino_t ino;
};

static const char schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS folders(id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE, uidvalidity INTEGER NOT NULL,"
    " uidnext INTEGER NOT NULL, modseq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS messages(folder_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
    " base TEXT NOT NULL, in_cur INTEGER NOT NULL, flags TEXT NOT NULL,"
    " keywords TEXT NOT NULL DEFAULT '', modseq INTEGER NOT NULL,"
    " internaldate INTEGER NOT NULL, size INTEGER NOT NULL, vsize INTEGER NOT NULL,"
    " envelope TEXT, bodystructure TEXT,"
    " PRIMARY KEY(folder_id, uid), UNIQUE(folder_id, base));";

static int exec(struct mail_index *idx, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(idx->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    log_error(0, "store index sql_error=\"%s\"", msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
}

static sqlite3_stmt *prep(struct mail_index *idx, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error(0, "store index prepare_error=\"%s\"", sqlite3_errmsg(idx->db));
        return NULL;
    }
    return st;
}

struct mail_index *index_open(int mailfd)
{
    struct mail_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return NULL;
    idx->mailfd = fcntl(mailfd, F_DUPFD_CLOEXEC, 3);
    char path[64];
    /* SQLite wants a path: the account's directory through our own fd. */
    snprintf(path, sizeof path, "/proc/self/fd/%d/index.db", idx->mailfd);
    int fd = idx->mailfd >= 0 ? openat(idx->mailfd, "index.db",
                                       O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)
                              : -1;
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        idx->dev = st.st_dev;
        idx->ino = st.st_ino;
    }
    if (fd >= 0)
        close(fd);
    if (fd < 0 || sqlite3_open_v2(path, &idx->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        index_close(idx);
        return NULL;
    }
    sqlite3_busy_timeout(idx->db, INDEX_BUSY_MS);
    if (exec(idx, schema) < 0) {
        index_close(idx);
        return NULL;
    }
    return idx;
}

void index_close(struct mail_index *idx)
{
    if (!idx)
        return;
    sqlite3_close(idx->db);
    if (idx->mailfd >= 0)
        close(idx->mailfd);
    free(idx);
}

bool index_is_current(const struct mail_index *idx)
{
    struct stat st;
    return fstatat(idx->mailfd, "index.db", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
           st.st_dev == idx->dev && st.st_ino == idx->ino;
}

/* RFC 9051 2.3.1.1: a rebuilt index must not reuse an old UIDVALIDITY. The
 * last one issued is kept in a file beside the index; the next is the
 * larger of now and last + 1. */
static uint32_t next_uidvalidity(int mailfd)
{
    char buf[32] = "";
    uint64_t last = 0, now = (uint64_t)time(NULL);
    int fd = openat(mailfd, UIDVALIDITY_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        buf[n > 0 ? n : 0] = '\0';
        last = strtoull(buf, NULL, 10);
    }
    uint64_t v = now > last ? now : last + 1;
    if (v == 0 || v > UINT32_MAX)
        v = 1;
    if (fd >= 0) {
        int n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", v);
        if (ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)n, 0) == n)
            fsync(fd);
        close(fd);
    }
    return (uint32_t)v;
}

static int folder_read(struct mail_index *idx, const char *name, struct index_folder *f)
{
    sqlite3_stmt *st = prep(idx, "SELECT id, uidvalidity, uidnext, modseq FROM folders"
                                 " WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        f->id = sqlite3_column_int64(st, 0);
        f->uidvalidity = (uint32_t)sqlite3_column_int64(st, 1);
        f->uidnext = (uint32_t)sqlite3_column_int64(st, 2);
        f->highest_modseq = (uint64_t)sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/* The folder's row, created with a fresh UIDVALIDITY. Inside a write txn. */
static int folder_get(struct mail_index *idx, const char *name, struct index_folder *f)
{
    int r = folder_read(idx, name, f);
    if (r != 0)
        return r < 0 ? -1 : 0;
    sqlite3_stmt *st = prep(idx, "INSERT INTO folders(name, uidvalidity, uidnext, modseq)"
                                 " VALUES(?1, ?2, 1, 1)");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, next_uidvalidity(idx->mailfd));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE && folder_read(idx, name, f) == 1 ? 0 : -1;
}

static int folder_store(struct mail_index *idx, const struct index_folder *f)
{
    sqlite3_stmt *st = prep(idx, "UPDATE folders SET uidnext = ?2, modseq = ?3 WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, f->id);
    sqlite3_bind_int64(st, 2, f->uidnext);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)f->highest_modseq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int txn_begin(struct mail_index *idx)
{
    return exec(idx, "BEGIN IMMEDIATE");
}

static int txn_end(struct mail_index *idx, int rc)
{
    if (rc == 0 && exec(idx, "COMMIT") == 0)
        return 0;
    exec(idx, "ROLLBACK");
    return -1;
}

/* ---- rows ---- */

static const char row_cols[] =
    "SELECT uid, base, in_cur, flags, modseq, internaldate, size, vsize FROM messages";

static void row_fill(sqlite3_stmt *st, struct index_row *r)
{
    memset(r, 0, sizeof *r);
    r->uid = (uint32_t)sqlite3_column_int64(st, 0);
    const unsigned char *base = sqlite3_column_text(st, 1);
    const unsigned char *flags = sqlite3_column_text(st, 3);
    snprintf(r->e.base, sizeof r->e.base, "%s", base ? (const char *)base : "");
    r->e.in_cur = sqlite3_column_int(st, 2) != 0;
    snprintf(r->e.flags, sizeof r->e.flags, "%s", flags ? (const char *)flags : "");
    r->modseq = (uint64_t)sqlite3_column_int64(st, 4);
    r->internaldate = sqlite3_column_int64(st, 5);
    r->e.size = (uint64_t)sqlite3_column_int64(st, 6);
    r->e.vsize = (uint64_t)sqlite3_column_int64(st, 7);
}

static int row_insert(struct mail_index *idx, struct index_folder *f,
                      const struct maildir_entry *e, int64_t idate, const char *envelope,
                      uint32_t *uid)
{
    sqlite3_stmt *st = prep(idx, "INSERT OR IGNORE INTO messages(folder_id, uid, base,"
                                 " in_cur, flags, modseq, internaldate, size, vsize, envelope)"
                                 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, f->id);
    sqlite3_bind_int64(st, 2, f->uidnext);
    sqlite3_bind_text(st, 3, e->base, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, e->in_cur);
    sqlite3_bind_text(st, 5, e->flags, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, (sqlite3_int64)f->highest_modseq + 1);
    sqlite3_bind_int64(st, 7, idate);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)e->size);
    sqlite3_bind_int64(st, 9, (sqlite3_int64)e->vsize);
    sqlite3_bind_text(st, 10, envelope, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    if (sqlite3_changes(idx->db) == 0)
        return 0; /* a sync saw the file first */
    if (uid)
        *uid = f->uidnext;
    f->uidnext++;
    f->highest_modseq++;
    return 0;
}

int index_add_many(struct mail_index *idx, struct index_new *rows, size_t n)
{
    struct index_folder f;
    const char *have = NULL; /* the folder f holds */
    if (txn_begin(idx) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!have || strcmp(have, rows[i].folder) != 0) {
            rc = have ? folder_store(idx, &f) : 0;
            if (rc == 0)
                rc = folder_get(idx, rows[i].folder, &f);
            have = rows[i].folder;
        }
        rows[i].uid = 0;
        if (rc == 0)
            rc = row_insert(idx, &f, rows[i].e, rows[i].internaldate, rows[i].envelope,
                            &rows[i].uid);
    }
    if (rc == 0 && have)
        rc = folder_store(idx, &f);
    return txn_end(idx, rc);
}

int index_add(struct mail_index *idx, const char *folder, const struct maildir_entry *e,
              int64_t internaldate, const char *envelope, uint32_t *uid)
{
    struct index_new row = {folder, e, internaldate, envelope, 0};
    int rc = index_add_many(idx, &row, 1);
    if (rc == 0 && uid && row.uid)
        *uid = row.uid;
    return rc;
}

/* ---- sync ---- */

static int row_delete(struct mail_index *idx, int64_t folder_id, uint32_t uid)
{
    sqlite3_stmt *st = prep(idx, "DELETE FROM messages WHERE folder_id = ?1 AND uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    sqlite3_bind_int64(st, 2, uid);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int row_move(struct mail_index *idx, struct index_folder *f, uint32_t uid,
                    const struct maildir_entry *e)
{
    sqlite3_stmt *st = prep(idx, "UPDATE messages SET in_cur = ?3, flags = ?4, modseq = ?5"
                                 " WHERE folder_id = ?1 AND uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, f->id);
    sqlite3_bind_int64(st, 2, uid);
    sqlite3_bind_int(st, 3, e->in_cur);
    sqlite3_bind_text(st, 4, e->flags, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)++f->highest_modseq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A file another program dropped in: its date, sizes (when its name lacks
 * S=/W=; measured once, here) and cached envelope. */
static int row_discover(struct mail_index *idx, int folderfd, struct index_folder *f,
                        const struct maildir_entry *found)
{
    char path[MAIL_MAX_FILENAME + 8];
    struct stat st;
    char *env = NULL;
    int64_t idate = (int64_t)time(NULL);
    struct maildir_entry e = *found;
    if (maildir_entry_path(&e, path, sizeof path) == 0) {
        int fd = openat(folderfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            if (fstat(fd, &st) == 0)
                idate = (int64_t)st.st_mtime;
            if (!e.size || !e.vsize)
                maildir_measure(fd, &e.size, &e.vsize);
            env = mime_envelope_fd(fd);
            close(fd);
        }
    }
    int rc = row_insert(idx, f, &e, idate, env, NULL);
    free(env);
    return rc;
}

/* Merges the sorted scan (disk) with the rows sorted by base (st). */
static int sync_merge(struct mail_index *idx, int folderfd, struct index_folder *f,
                      sqlite3_stmt *st, const struct maildir_entry *disk, size_t n)
{
    size_t i = 0;
    int rc = sqlite3_step(st), ret = 0;
    while (ret == 0 && (rc == SQLITE_ROW || i < n)) {
        struct index_row r;
        if (rc == SQLITE_ROW)
            row_fill(st, &r);
        int cmp = rc != SQLITE_ROW ? 1 : i >= n ? -1 : strcmp(r.e.base, disk[i].base);
        if (cmp < 0) {
            ret = row_delete(idx, f->id, r.uid);
            f->highest_modseq++;
        } else if (cmp > 0) {
            ret = row_discover(idx, folderfd, f, &disk[i++]);
            continue;
        } else {
            if (r.e.in_cur != disk[i].in_cur || strcmp(r.e.flags, disk[i].flags) != 0)
                ret = row_move(idx, f, r.uid, &disk[i]);
            i++;
        }
        rc = sqlite3_step(st);
    }
    return ret == 0 && (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

static int sync_locked(struct mail_index *idx, const char *folder, int folderfd,
                       struct index_folder *f)
{
    struct maildir_entry *disk = NULL;
    if (folder_get(idx, folder, f) < 0)
        return -1;
    long n = maildir_scan(folderfd, &disk);
    if (n < 0)
        return -1;
    char sql[160];
    snprintf(sql, sizeof sql, "%s WHERE folder_id = ?1 ORDER BY base", row_cols);
    sqlite3_stmt *st = prep(idx, sql);
    int rc = -1;
    if (st) {
        sqlite3_bind_int64(st, 1, f->id);
        rc = sync_merge(idx, folderfd, f, st, disk, (size_t)n);
        sqlite3_finalize(st);
    }
    free(disk);
    return rc == 0 ? folder_store(idx, f) : -1;
}

int index_sync(struct mail_index *idx, const char *folder, int folderfd,
               struct index_folder *f)
{
    if (txn_begin(idx) < 0)
        return -1;
    return txn_end(idx, sync_locked(idx, folder, folderfd, f));
}

/* ---- reads ---- */

int index_list(struct mail_index *idx, const char *folder,
               int (*cb)(void *arg, const struct index_row *row), void *arg)
{
    char sql[200];
    snprintf(sql, sizeof sql,
             "%s WHERE folder_id = (SELECT id FROM folders WHERE name = ?1) ORDER BY uid",
             row_cols);
    sqlite3_stmt *st = prep(idx, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    int rc;
    struct index_row r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_fill(st, &r);
        if (cb(arg, &r) < 0)
            break;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int index_find(struct mail_index *idx, const char *folder, uint32_t uid, struct index_row *out)
{
    char sql[220];
    snprintf(sql, sizeof sql,
             "%s WHERE folder_id = (SELECT id FROM folders WHERE name = ?1) AND uid = ?2",
             row_cols);
    sqlite3_stmt *st = prep(idx, sql);
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        row_fill(st, out);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int index_usage(struct mail_index *idx, uint64_t *bytes, uint64_t *messages)
{
    sqlite3_stmt *st = prep(idx, "SELECT coalesce(sum(size), 0), count(*) FROM messages");
    if (!st)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *bytes = (uint64_t)sqlite3_column_int64(st, 0);
        *messages = (uint64_t)sqlite3_column_int64(st, 1);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* ---- expunge ---- */

static int unlink_rows(struct mail_index *idx, const char *folder, int folderfd,
                       struct index_folder *f, const uint32_t *uids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct index_row r;
        char path[MAIL_MAX_FILENAME + 8];
        int found = index_find(idx, folder, uids[i], &r);
        if (found < 0)
            return -1;
        if (found == 0 || maildir_entry_path(&r.e, path, sizeof path) < 0)
            continue;
        if (unlinkat(folderfd, path, 0) < 0 && errno != ENOENT)
            return -1;
        if (row_delete(idx, f->id, uids[i]) < 0)
            return -1;
        f->highest_modseq++;
    }
    /* The unlinks are durable before the rows go (DESIGN.md "Storage"). */
    if (maildir_fsync_dir(folderfd, "new") < 0 || maildir_fsync_dir(folderfd, "cur") < 0)
        return -1;
    return folder_store(idx, f);
}

int index_expunge(struct mail_index *idx, const char *folder, int folderfd,
                  const uint32_t *uids, size_t n)
{
    struct index_folder f;
    if (txn_begin(idx) < 0)
        return -1;
    int rc = folder_get(idx, folder, &f);
    if (rc == 0)
        rc = unlink_rows(idx, folder, folderfd, &f, uids, n);
    return txn_end(idx, rc);
}
