/* index: mail/index.db. Owns its schema and its migrations, folder rows
 * (UIDVALIDITY, UIDNEXT, modseq, MAILBOXID), message rows and the merge of
 * a directory scan into them. Every
 * write runs in BEGIN IMMEDIATE so deliveries, syncs and expunges of the
 * same account on different threads serialise; the directory scan of a sync
 * happens inside that transaction, so it never races a delivery's insert. */
#include "store/index.h"

#include "core/log.h"
#include "store/index_internal.h"
#include "store/objectid.h"
#include "store/scan_ahead.h"

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

static const char pragmas[] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;";
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS folders(id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE, uidvalidity INTEGER NOT NULL,"
    " uidnext INTEGER NOT NULL, modseq INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS messages(folder_id INTEGER NOT NULL, uid INTEGER NOT "
    "NULL,"
    " base TEXT NOT NULL, in_cur INTEGER NOT NULL, flags TEXT NOT NULL,"
    " keywords TEXT NOT NULL DEFAULT '', modseq INTEGER NOT NULL,"
    " internaldate INTEGER NOT NULL, size INTEGER NOT NULL, vsize INTEGER NOT NULL,"
    " envelope TEXT, bodystructure TEXT,"
    " PRIMARY KEY(folder_id, uid), UNIQUE(folder_id, base));";

/* Schema version 1 (PRAGMA user_version): MAILBOXID per folder (RFC 8474),
 * the directory stamps of the last scan (index_sync's fast path), the
 * cached message summary (mime/summary.h), expunged UIDs with their modseq
 * (RFC 7162 3.2.5.2 VANISHED); it made the modseq index version 3 drops
 * (an index.db of version 1 or 2 has it). */
#define INDEX_SCHEMA_VERSION 3
#define TEXT_OF(n) #n
#define TEXT_OF_VALUE(n) TEXT_OF(n) /* "3" for 3 */
static const char migrate_v1[] =
    "ALTER TABLE folders ADD COLUMN mailboxid TEXT;"
    "ALTER TABLE folders ADD COLUMN stamp_new INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE folders ADD COLUMN stamp_cur INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE messages ADD COLUMN summary TEXT;"
    "CREATE TABLE IF NOT EXISTS expunged(folder_id INTEGER NOT NULL,"
    " uid INTEGER NOT NULL, modseq INTEGER NOT NULL, PRIMARY KEY(folder_id, uid));"
    "PRAGMA user_version = 1;";

/* Schema version 2: the cached summaries (1-2 KiB a message) leave the
 * message rows for a table of their own. A flag change rewrites its whole
 * row: with the summary inside, a STORE of every message after the first
 * ENVELOPE fetch rewrote the table (10,283 WAL writes instead of 734). */
static const char migrate_v2[] =
    "CREATE TABLE IF NOT EXISTS summaries(folder_id INTEGER NOT NULL,"
    " uid INTEGER NOT NULL, summary TEXT NOT NULL, PRIMARY KEY(folder_id, uid));"
    "INSERT OR IGNORE INTO summaries(folder_id, uid, summary)"
    " SELECT folder_id, uid, summary FROM messages WHERE summary IS NOT NULL;"
    "UPDATE messages SET summary = NULL WHERE summary IS NOT NULL;"
    "PRAGMA user_version = 2;";

/* Schema version 3: no index on (folder_id, modseq). It cost an index
 * insert per message a sync records (a fifth of the instructions of a
 * cold SELECT's 10,000 inserts) and a delete and an insert per flag
 * change (STORE 1:*), and it served only CHANGEDSINCE and QRESYNC
 * (RFC 7162), which now read the folder's rows in UID order (a few ms for
 * 10,000, once per such command). */
static const char migrate_v3[] = "DROP INDEX IF EXISTS messages_modseq;"
                                 "PRAGMA user_version = 3;";

/* A new index.db: the tables as the migrations above leave them (the
 * same columns in the same order, test_fresh_schema), made in one go:
 * the image index_create.c writes, or run here on an empty file SQLite
 * made. Running the migrations on an empty file parsed the schema again
 * after each ALTER TABLE, a tenth of a cold SELECT's index creation. */
const char idx_schema_fresh[] =
    "CREATE TABLE folders(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " uidvalidity INTEGER NOT NULL, uidnext INTEGER NOT NULL, modseq INTEGER NOT NULL,"
    " mailboxid TEXT, stamp_new INTEGER NOT NULL DEFAULT 0,"
    " stamp_cur INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE messages(folder_id INTEGER NOT NULL, uid INTEGER NOT NULL,"
    " base TEXT NOT NULL, in_cur INTEGER NOT NULL, flags TEXT NOT NULL,"
    " keywords TEXT NOT NULL DEFAULT '', modseq INTEGER NOT NULL,"
    " internaldate INTEGER NOT NULL, size INTEGER NOT NULL, vsize INTEGER NOT NULL,"
    " envelope TEXT, bodystructure TEXT, summary TEXT,"
    " PRIMARY KEY(folder_id, uid), UNIQUE(folder_id, base));"
    "CREATE TABLE expunged(folder_id INTEGER NOT NULL,"
    " uid INTEGER NOT NULL, modseq INTEGER NOT NULL, PRIMARY KEY(folder_id, uid));"
    "CREATE TABLE summaries(folder_id INTEGER NOT NULL,"
    " uid INTEGER NOT NULL, summary TEXT NOT NULL, PRIMARY KEY(folder_id, uid));"
    "PRAGMA user_version = 3;";

/* A directory stamp is trusted only once it is this old: a change in the
 * same clock tick as the scan would not move it (Dovecot's rule too). */
#define INDEX_STAMP_TRUST_NS 2000000000LL

int idx_exec(struct mail_index *idx, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(idx->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    log_error(0, "store index sql_error=\"%s\"", msg ? msg : "?");
    sqlite3_free(msg);
    return -1;
}

sqlite3_stmt *idx_prep(struct mail_index *idx, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(idx->db, sql, -1, &st, NULL) != SQLITE_OK) {
        log_error(0, "store index prepare_error=\"%s\"", sqlite3_errmsg(idx->db));
        return NULL;
    }
    return st;
}

sqlite3_stmt *idx_prep_cached(struct mail_index *idx, sqlite3_stmt **slot,
                              const char *sql)
{
    if (!*slot)
        *slot = idx_prep(idx, sql);
    if (*slot) {
        sqlite3_reset(*slot);
        sqlite3_clear_bindings(*slot);
    }
    return *slot;
}

int idx_txn_begin(struct mail_index *idx)
{
    return idx_exec(idx, "BEGIN IMMEDIATE");
}

int idx_txn_end(struct mail_index *idx, int rc)
{
    if (rc == 0 && idx_exec(idx, "COMMIT") == 0)
        return 0;
    idx_exec(idx, "ROLLBACK");
    return -1;
}

/* SQLite changes `synchronous' only outside a transaction. */
int idx_txn_begin_unsynced(struct mail_index *idx, bool unsynced)
{
    if (unsynced && idx_exec(idx, "PRAGMA synchronous=NORMAL") < 0)
        return -1;
    if (idx_txn_begin(idx) == 0)
        return 0;
    if (unsynced)
        idx_exec(idx, "PRAGMA synchronous=FULL");
    return -1;
}

int idx_txn_end_unsynced(struct mail_index *idx, bool unsynced, int rc)
{
    rc = idx_txn_end(idx, rc);
    if (unsynced && idx_exec(idx, "PRAGMA synchronous=FULL") < 0)
        return -1;
    return rc;
}

/* The first column of the first row of sql (a count, a pragma); -1. */
static int query_int(struct mail_index *idx, const char *sql)
{
    sqlite3_stmt *st = idx_prep(idx, sql);
    int v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int user_version(struct mail_index *idx)
{
    return query_int(idx, "PRAGMA user_version");
}

/* Creates the tables and brings an older index.db up to
 * INDEX_SCHEMA_VERSION, in one write transaction (another thread may be
 * doing the same): a new index costs one commit, not one per statement. */
static int migrate(struct mail_index *idx)
{
    int v = user_version(idx);
    if (v < 0)
        return -1;
    if (v >= INDEX_SCHEMA_VERSION)
        return 0;
    if (idx_txn_begin(idx) < 0)
        return -1;
    int tables = query_int(idx, "SELECT count(*) FROM sqlite_master");
    if (tables == 0)
        return idx_txn_end(idx, idx_exec(idx, idx_schema_fresh));
    int rc = tables < 0 ? -1 : idx_exec(idx, schema);
    v = rc == 0 ? user_version(idx) : -1;
    if (v < 0)
        rc = -1;
    if (rc == 0 && v < 1)
        rc = idx_exec(idx, migrate_v1);
    if (rc == 0 && v < 2)
        rc = idx_exec(idx, migrate_v2);
    if (rc == 0 && v < 3)
        rc = idx_exec(idx, migrate_v3);
    return idx_txn_end(idx, rc);
}

/* A new index.db's WAL is made at once, by a write of nothing new: its
 * header's fsync and the directory's come now, while the scan ahead
 * runs, and not in the first sync's commit. Unsynced: a WAL lost with
 * this write in it loses nothing. */
static int make_wal(struct mail_index *idx)
{
    if (idx_txn_begin_unsynced(idx, true) < 0)
        return -1;
    int rc = idx_exec(idx, "PRAGMA user_version = " TEXT_OF_VALUE(INDEX_SCHEMA_VERSION));
    return idx_txn_end_unsynced(idx, true, rc);
}

struct mail_index *index_open(int mailfd)
{
    struct mail_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return NULL;
    idx->mailfd = fcntl(mailfd, F_DUPFD_CLOEXEC, 3);
    char path[64];
    /* SQLite wants a path: the account's directory through our own fd.
     * NOMUTEX: a handle is used by one thread at a time (index_cache.h), so
     * SQLite's own per-call locking is pure cost. */
    snprintf(path, sizeof path, "/proc/self/fd/%d/index.db", idx->mailfd);
    int made = idx->mailfd >= 0 ? idx_create(idx->mailfd) : -1;
    int fd = -1;
    if (made >= 0)
        fd = openat(idx->mailfd, "index.db", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
                    0600);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        idx->dev = st.st_dev;
        idx->ino = st.st_ino;
    }
    if (fd >= 0)
        close(fd);
    if (fd < 0 ||
        sqlite3_open_v2(path, &idx->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        index_close(idx);
        return NULL;
    }
    sqlite3_busy_timeout(idx->db, INDEX_BUSY_MS);
    if (idx_exec(idx, pragmas) < 0 || migrate(idx) < 0 ||
        (made == 1 && make_wal(idx) < 0)) {
        index_close(idx);
        return NULL;
    }
    return idx;
}

void index_close(struct mail_index *idx)
{
    if (!idx)
        return;
    sqlite3_finalize(idx->find_st);
    sqlite3_finalize(idx->summary_st);
    sqlite3_finalize(idx->summary_set_st);
    sqlite3_finalize(idx->vsize_set_st);
    sqlite3_finalize(idx->summary_del_st);
    sqlite3_finalize(idx->insert_st);
    sqlite3_finalize(idx->move_st);
    sqlite3_finalize(idx->batch_st);
    sqlite3_finalize(idx->batch_one_st);
    sqlite3_finalize(idx->fill_st);
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
 * larger of now and last + 1. 0 when it could not be recorded durably:
 * the folder is not indexed rather than given a value a rebuild might
 * issue again. */
static uint32_t next_uidvalidity(int mailfd)
{
    char buf[32] = "";
    uint64_t now = (uint64_t)time(NULL);
    int fd =
        openat(mailfd, UIDVALIDITY_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error(0, "store uidvalidity_open_failed errno=%d", errno);
        return 0;
    }
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    uint64_t last = strtoull(buf, NULL, 10);
    uint64_t v = now > last ? now : last + 1;
    if (v == 0 || v > UINT32_MAX)
        v = 1;
    int len = snprintf(buf, sizeof buf, "%" PRIu64 "\n", v);
    bool saved =
        ftruncate(fd, 0) == 0 && pwrite(fd, buf, (size_t)len, 0) == len && fsync(fd) == 0;
    int err = errno;
    close(fd);
    if (!saved) {
        log_error(0, "store uidvalidity_save_failed errno=%d", err);
        return 0;
    }
    return (uint32_t)v;
}

static void folder_fill(sqlite3_stmt *st, struct index_folder *f)
{
    memset(f, 0, sizeof *f);
    f->id = sqlite3_column_int64(st, 0);
    f->uidvalidity = (uint32_t)sqlite3_column_int64(st, 1);
    f->uidnext = (uint32_t)sqlite3_column_int64(st, 2);
    f->highest_modseq = (uint64_t)sqlite3_column_int64(st, 3);
    const unsigned char *id = sqlite3_column_text(st, 4);
    if (id)
        snprintf(f->mailboxid, sizeof f->mailboxid, "%s", (const char *)id);
    f->stamp_new = sqlite3_column_int64(st, 5);
    f->stamp_cur = sqlite3_column_int64(st, 6);
}

int index_folder_read(struct mail_index *idx, const char *name, struct index_folder *f)
{
    sqlite3_stmt *st =
        idx_prep(idx, "SELECT id, uidvalidity, uidnext, modseq, mailboxid,"
                      " stamp_new, stamp_cur FROM folders WHERE name = ?1");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        folder_fill(st, f);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The MAILBOXID of a folder from its directory's file (RFC 8474: it must
 * outlive the index); a random one if the directory cannot be opened. */
static int folder_mailboxid(struct mail_index *idx, const char *name, char *out)
{
    int fd = maildir_folder_open(idx->mailfd, name, false);
    int rc = fd >= 0 ? objectid_mailbox(fd, out) : objectid_mailbox_new(out);
    if (fd >= 0)
        close(fd);
    return rc;
}

static int folder_set_mailboxid(struct mail_index *idx, struct index_folder *f,
                                const char *name)
{
    if (folder_mailboxid(idx, name, f->mailboxid) < 0)
        return -1;
    sqlite3_stmt *st = idx_prep(idx, "UPDATE folders SET mailboxid = ?2 WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, f->id);
    sqlite3_bind_text(st, 2, f->mailboxid, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int idx_folder_get(struct mail_index *idx, const char *name, struct index_folder *f)
{
    int r = index_folder_read(idx, name, f);
    if (r < 0)
        return -1;
    if (r == 0) {
        sqlite3_stmt *st = idx_prep(idx, "INSERT INTO folders(name, uidvalidity, uidnext,"
                                         " modseq) VALUES(?1, ?2, 1, 1)");
        if (!st)
            return -1;
        uint32_t uidvalidity = next_uidvalidity(idx->mailfd);
        if (uidvalidity == 0) {
            sqlite3_finalize(st);
            return -1;
        }
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, uidvalidity);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE || index_folder_read(idx, name, f) != 1)
            return -1;
    }
    /* A new row, or one from before schema version 1. */
    if (!f->mailboxid[0])
        return folder_set_mailboxid(idx, f, name);
    return 0;
}

int idx_folder_store(struct mail_index *idx, const struct index_folder *f)
{
    sqlite3_stmt *st = idx_prep(idx, "UPDATE folders SET uidnext = ?2, modseq = ?3,"
                                     " stamp_new = ?4, stamp_cur = ?5 WHERE id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, f->id);
    sqlite3_bind_int64(st, 2, f->uidnext);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)f->highest_modseq);
    sqlite3_bind_int64(st, 4, f->stamp_new);
    sqlite3_bind_int64(st, 5, f->stamp_cur);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- rows ---- */

/* A text column (n bytes, NULL for SQL NULL) into out, cut to fit. */
static void copy_text(char *out, size_t outlen, const unsigned char *text, int n)
{
    size_t len = text && n > 0 ? (size_t)n : 0;
    if (len >= outlen)
        len = outlen - 1;
    if (len)
        memcpy(out, text, len);
    out[len] = '\0';
}

void idx_row_fill(sqlite3_stmt *st, struct index_row *r)
{
    memset(r, 0, sizeof *r);
    r->uid = (uint32_t)sqlite3_column_int64(st, 0);
    const unsigned char *base = sqlite3_column_text(st, 1);
    const unsigned char *flags = sqlite3_column_text(st, 3);
    const unsigned char *kw = sqlite3_column_text(st, 8);
    copy_text(r->e.base, sizeof r->e.base, base, sqlite3_column_bytes(st, 1));
    r->e.in_cur = sqlite3_column_int(st, 2) != 0;
    copy_text(r->e.flags, sizeof r->e.flags, flags, sqlite3_column_bytes(st, 3));
    r->modseq = (uint64_t)sqlite3_column_int64(st, 4);
    r->internaldate = sqlite3_column_int64(st, 5);
    r->e.size = (uint64_t)sqlite3_column_int64(st, 6);
    r->e.vsize = (uint64_t)sqlite3_column_int64(st, 7);
    r->keywords = kw ? (const char *)kw : "";
}

static int row_insert(struct mail_index *idx, struct index_folder *f,
                      const struct maildir_entry *e, int64_t idate, const char *envelope,
                      const char *keywords, uint32_t *uid)
{
    sqlite3_stmt *st =
        idx_prep_cached(idx, &idx->insert_st,
                        "INSERT OR IGNORE INTO messages(folder_id, uid, base,"
                        " in_cur, flags, modseq, internaldate, size, vsize,"
                        " envelope, keywords)"
                        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
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
    sqlite3_bind_text(st, 11, keywords ? keywords : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
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
    if (idx_txn_begin(idx) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (!have || strcmp(have, rows[i].folder) != 0) {
            rc = have ? idx_folder_store(idx, &f) : 0;
            if (rc == 0)
                rc = idx_folder_get(idx, rows[i].folder, &f);
            have = rows[i].folder;
        }
        rows[i].uid = 0;
        rows[i].uidvalidity = f.uidvalidity;
        if (rc == 0)
            rc = row_insert(idx, &f, rows[i].e, rows[i].internaldate, rows[i].envelope,
                            rows[i].keywords, &rows[i].uid);
    }
    if (rc == 0 && have)
        rc = idx_folder_store(idx, &f);
    return idx_txn_end(idx, rc);
}

int index_add(struct mail_index *idx, const char *folder, const struct maildir_entry *e,
              int64_t internaldate, const char *envelope, uint32_t *uid)
{
    struct index_new row = {folder, e, internaldate, envelope, NULL, 0, 0};
    int rc = index_add_many(idx, &row, 1);
    if (rc == 0 && uid && row.uid)
        *uid = row.uid;
    return rc;
}

/* ---- sync ---- */

int idx_row_delete(struct mail_index *idx, int64_t folder_id, uint32_t uid)
{
    sqlite3_stmt *st =
        idx_prep(idx, "DELETE FROM messages WHERE folder_id = ?1 AND uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    sqlite3_bind_int64(st, 2, uid);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return -1;
    /* Its cached summary goes with it. */
    st = idx_prep_cached(idx, &idx->summary_del_st,
                         "DELETE FROM summaries WHERE folder_id = ?1 AND uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    sqlite3_bind_int64(st, 2, uid);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int idx_record_expunged(struct mail_index *idx, int64_t folder_id, uint32_t uid,
                        uint64_t modseq)
{
    sqlite3_stmt *st =
        idx_prep(idx, "INSERT OR REPLACE INTO expunged(folder_id, uid, modseq)"
                      " VALUES(?1, ?2, ?3)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    sqlite3_bind_int64(st, 2, uid);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)modseq);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* One sync's merge: where it writes and who hears the rows it keeps. */
struct sync_merge {
    struct mail_index *idx;
    int folderfd;
    struct index_folder *f;
    int (*cb)(void *arg, const struct index_row *row);
    void *arg;
    bool scanned;
    struct idx_batch batch;   /* discovered rows not yet inserted */
    struct scan_ahead *ahead; /* a first sync's scan, started before it */
};

/* A file another program removed: the row goes, its UID is VANISHED. */
static int row_gone(struct mail_index *idx, struct index_folder *f, uint32_t uid)
{
    if (idx_row_delete(idx, f->id, uid) < 0)
        return -1;
    return idx_record_expunged(idx, f->id, uid, ++f->highest_modseq);
}

static int row_move(struct mail_index *idx, struct index_folder *f, uint32_t uid,
                    const struct maildir_file *e)
{
    sqlite3_stmt *st = idx_prep_cached(idx, &idx->move_st,
                                       "UPDATE messages SET in_cur = ?3, flags = ?4,"
                                       " modseq = ?5 WHERE folder_id = ?1 AND uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, f->id);
    sqlite3_bind_int64(st, 2, uid);
    sqlite3_bind_int(st, 3, e->in_cur);
    sqlite3_bind_text(st, 4, e->flags, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)++f->highest_modseq);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* A file another program dropped in, recorded from its name alone: no
 * file is stat'd or opened (a cold SELECT of 10,000 files reads two
 * directories). Its internal date (0: not stat'd yet), the size a name
 * without S= lacks and the CRLF size a name without W= lacks are learned
 * by the first reader that needs them (index_fill.c); the summary at the
 * first FETCH that needs it. The row takes the next UID and modseq now
 * and goes in with its batch; the merge's collector, if any, hears it at
 * once, in the merge's order. */
static int row_discover(struct sync_merge *m, const struct maildir_file *found)
{
    uint32_t uid = m->f->uidnext++;
    uint64_t modseq = ++m->f->highest_modseq;
    if (idx_batch_add(&m->batch, found, uid, modseq) < 0)
        return -1;
    if (!m->cb)
        return 0;
    /* Field by field: zeroing the whole row (its name arrays) first was
     * a tenth of the merge. */
    struct index_row r;
    r.uid = uid;
    r.modseq = modseq;
    r.internaldate = 0;
    r.keywords = "";
    copy_text(r.e.base, sizeof r.e.base, (const unsigned char *)found->base,
              found->base_len);
    copy_text(r.e.flags, sizeof r.e.flags, (const unsigned char *)found->flags,
              found->flags_len);
    r.e.in_cur = found->in_cur;
    r.e.size = found->size;
    r.e.vsize = found->vsize;
    return m->cb(m->arg, &r);
}

/* One row the merge keeps (unchanged or updated) goes to its collector. */
static int row_keep(struct sync_merge *m, const struct index_row *r)
{
    return m->cb ? m->cb(m->arg, r) : 0;
}

/* A second file of the same base as the one before it in the sorted
 * scan (the same message in new/ and cur/): the first one is the row. */
static bool same_base_as_previous(const struct maildir_file *const *disk, size_t i)
{
    return i > 0 && disk[i]->base_len == disk[i - 1]->base_len &&
           memcmp(disk[i]->base, disk[i - 1]->base, disk[i]->base_len) == 0;
}

#define MERGE_PREFETCH 8

/* Merges the sorted scan (disk) with the rows sorted by base (st). */
static int sync_merge(struct sync_merge *m, sqlite3_stmt *st,
                      const struct maildir_file *const *disk, size_t n)
{
    size_t i = 0;
    int rc = sqlite3_step(st), ret = 0;
    while (ret == 0 && (rc == SQLITE_ROW || i < n)) {
        /* The files are read in sorted order, not memory order: asking
         * ahead for a file, then for the name of one asked for before,
         * hides the cache misses. Asking for the name alone waited on
         * the file (most of the merge's own time). */
        if (i + 2 * MERGE_PREFETCH < n)
            __builtin_prefetch(disk[i + 2 * MERGE_PREFETCH]);
        if (i + MERGE_PREFETCH < n)
            __builtin_prefetch(disk[i + MERGE_PREFETCH]->base);
        if (i < n && same_base_as_previous(disk, i)) {
            i++;
            continue;
        }
        struct index_row r;
        int cmp = 1;
        if (rc == SQLITE_ROW) {
            idx_row_fill(st, &r);
            cmp = i >= n ? -1 : strcmp(r.e.base, disk[i]->base);
        }
        if (cmp < 0) {
            ret = row_gone(m->idx, m->f, r.uid);
        } else if (cmp > 0) {
            ret = row_discover(m, disk[i++]);
            continue;
        } else {
            const struct maildir_file *d = disk[i];
            if (r.e.in_cur != d->in_cur || strcmp(r.e.flags, d->flags) != 0) {
                ret = row_move(m->idx, m->f, r.uid, d);
                r.e.in_cur = d->in_cur;
                snprintf(r.e.flags, sizeof r.e.flags, "%s", d->flags);
                r.modseq = m->f->highest_modseq;
            }
            if (ret == 0)
                ret = row_keep(m, &r);
            i++;
        }
        rc = sqlite3_step(st);
    }
    if (ret == 0)
        ret = idx_batch_flush(&m->batch);
    return ret == 0 && (rc == SQLITE_DONE || rc == SQLITE_ROW) ? 0 : -1;
}

static int64_t stamp_of(int folderfd, const char *sub)
{
    struct stat st;
    if (fstatat(folderfd, sub, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

/* A stamp that is not old enough to trust is stored as 0 (never equal). */
static int64_t trusted(int64_t stamp)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t n = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
    return stamp < n - INDEX_STAMP_TRUST_NS ? stamp : 0;
}

static bool stamps_match(const struct index_folder *f, int64_t sn, int64_t sc)
{
    return f->stamp_new != 0 && f->stamp_cur != 0 && f->stamp_new == sn &&
           f->stamp_cur == sc && f->mailboxid[0];
}

void index_stamps_take(int folderfd, struct index_stamps *st)
{
    st->new_dir = stamp_of(folderfd, "new");
    st->cur_dir = stamp_of(folderfd, "cur");
}

/* The folder's files and the stamps taken before they were read: from
 * the scan started ahead (m->ahead, a first sync's), or read now. 1 read,
 * 0 unchanged since the last scan (the stamps match), -1. */
static int scan_files(struct sync_merge *m, struct maildir_list *disk,
                      struct index_stamps *st, size_t *n)
{
    long got = -1;
    memset(disk, 0, sizeof *disk);
    index_stamps_take(m->folderfd, st);
    if (m->ahead) {
        /* Used only if the directories did not change since it began. */
        struct index_stamps before;
        got = scan_ahead_take(m->ahead, disk, &before);
        m->ahead = NULL;
        if (got < 0 || before.new_dir != st->new_dir || before.cur_dir != st->cur_dir) {
            maildir_list_free(disk);
            got = -1;
        }
    } else if (stamps_match(m->f, st->new_dir, st->cur_dir)) {
        return 0;
    }
    if (got < 0)
        got = maildir_scan(m->folderfd, disk);
    if (got < 0)
        return -1;
    *n = (size_t)got;
    return 1;
}

/* The scan and merge; m->cb (may be NULL) hears every row kept. The
 * statements are prepared first: a first sync's scan ahead may still be
 * running, and its batch statement takes about a millisecond. */
static int sync_scan(struct sync_merge *m)
{
    sqlite3_stmt *st =
        idx_prep(m->idx, IDX_ROW_COLS " WHERE folder_id = ?1 ORDER BY base");
    if (!st || (m->ahead && idx_batch_prepare(m->idx) < 0)) {
        sqlite3_finalize(st);
        return -1;
    }
    struct maildir_list disk;
    struct index_stamps stamps; /* a change during the scan moves them again */
    size_t n = 0;
    int r = scan_files(m, &disk, &stamps, &n);
    if (r <= 0) {
        sqlite3_finalize(st);
        maildir_list_free(&disk);
        return r;
    }
    sqlite3_bind_int64(st, 1, m->f->id);
    m->batch.idx = m->idx;
    m->batch.folder_id = m->f->id;
    m->batch.n = 0;
    int rc = sync_merge(m, st, disk.sorted, n);
    sqlite3_finalize(st);
    maildir_list_free(&disk);
    m->f->stamp_new = trusted(stamps.new_dir);
    m->f->stamp_cur = trusted(stamps.cur_dir);
    m->scanned = true;
    return rc == 0 ? idx_folder_store(m->idx, m->f) : -1;
}

int idx_sync_locked(struct mail_index *idx, const char *folder, int folderfd,
                    struct index_folder *f)
{
    struct sync_merge m = {.idx = idx, .folderfd = folderfd, .f = f};
    if (idx_folder_get(idx, folder, f) < 0)
        return -1;
    return sync_scan(&m);
}

#define SYNC_AGAIN 1 /* sync_txn: the folder appeared meanwhile, sync again */

/* One sync in its transaction. first: the folder had no row before it.
 * The commit of a folder's first sync is not fsynced: every UID it gives
 * is under a UIDVALIDITY just taken from the uidvalidity file, which was
 * fsynced. If the machine loses the commit, the next sync makes the folder
 * again under a higher UIDVALIDITY, and a client that saw these UIDs drops
 * them (RFC 9051 2.3.1.1). A process crash loses nothing (WAL), and the
 * next fsynced commit makes these rows durable too. The fsync of 10,000
 * rows was a sixth of a cold SELECT. The setting is chosen before BEGIN:
 * if the folder got its row in between, this one is rolled back and the
 * caller syncs again, fsynced. */
static int sync_txn(struct sync_merge *m, const char *folder, bool first)
{
    if (idx_txn_begin_unsynced(m->idx, first) < 0)
        return -1;
    int rc = 0;
    if (first && index_folder_read(m->idx, folder, m->f) != 0)
        rc = SYNC_AGAIN;
    if (rc == 0)
        rc = idx_folder_get(m->idx, folder, m->f);
    if (rc == 0)
        rc = sync_scan(m);
    int again = rc == SYNC_AGAIN;
    rc = idx_txn_end_unsynced(m->idx, first, rc);
    return again ? SYNC_AGAIN : rc;
}

int index_sync_rows(struct mail_index *idx, const char *folder, int folderfd,
                    struct index_folder *f,
                    int (*cb)(void *arg, const struct index_row *row), void *arg,
                    struct scan_ahead *ahead)
{
    /* The warm path: a read, no write transaction, no scan. */
    int had = index_folder_read(idx, folder, f);
    if (had == 1 &&
        stamps_match(f, stamp_of(folderfd, "new"), stamp_of(folderfd, "cur"))) {
        scan_ahead_free(ahead);
        return 0;
    }
    struct sync_merge m = {
        .idx = idx, .folderfd = folderfd, .f = f, .cb = cb, .arg = arg};
    if (had == 0)
        m.ahead = ahead;
    else
        scan_ahead_free(ahead);
    int rc = sync_txn(&m, folder, had == 0);
    /* The folder got its row meanwhile: a scan inside the transaction. */
    scan_ahead_free(m.ahead);
    m.ahead = NULL;
    if (rc == SYNC_AGAIN)
        rc = sync_txn(&m, folder, false);
    if (rc < 0)
        return -1;
    return m.scanned ? 1 : 0;
}

int index_sync(struct mail_index *idx, const char *folder, int folderfd,
               struct index_folder *f)
{
    return index_sync_rows(idx, folder, folderfd, f, NULL, NULL, NULL) < 0 ? -1 : 0;
}

/* ---- reads ---- */

static int list_rows(sqlite3_stmt *st, int (*cb)(void *arg, const struct index_row *row),
                     void *arg)
{
    int rc;
    struct index_row r;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        idx_row_fill(st, &r);
        if (cb(arg, &r) < 0)
            break;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int index_list(struct mail_index *idx, const char *folder,
               int (*cb)(void *arg, const struct index_row *row), void *arg)
{
    sqlite3_stmt *st =
        idx_prep(idx, IDX_ROW_COLS " WHERE folder_id = (SELECT id FROM folders"
                                   " WHERE name = ?1) ORDER BY uid");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    return list_rows(st, cb, arg);
}

int index_list_range(struct mail_index *idx, const char *folder, uint32_t lo, uint32_t hi,
                     int (*cb)(void *arg, const struct index_row *row), void *arg)
{
    sqlite3_stmt *st = idx_prep(
        idx, IDX_ROW_COLS " WHERE folder_id = (SELECT id FROM folders"
                          " WHERE name = ?1) AND uid BETWEEN ?2 AND ?3 ORDER BY uid");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, lo);
    sqlite3_bind_int64(st, 3, hi);
    return list_rows(st, cb, arg);
}

int index_list_since(struct mail_index *idx, const char *folder, uint64_t since,
                     struct index_folder *f,
                     int (*cb)(void *arg, const struct index_row *row), void *arg)
{
    if (idx_exec(idx, "BEGIN") < 0)
        return -1;
    int rc = index_folder_read(idx, folder, f) == 1 ? 0 : -1;
    sqlite3_stmt *st = NULL;
    if (rc == 0)
        st = idx_prep(idx,
                      IDX_ROW_COLS " WHERE folder_id = ?1 AND modseq > ?2 ORDER BY uid");
    if (st) {
        sqlite3_bind_int64(st, 1, f->id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)since);
        rc = list_rows(st, cb, arg);
    } else {
        rc = -1;
    }
    idx_exec(idx, "COMMIT");
    return rc;
}

int index_find(struct mail_index *idx, const char *folder, uint32_t uid,
               struct index_row *out)
{
    sqlite3_stmt *st =
        idx_prep_cached(idx, &idx->find_st,
                        IDX_ROW_COLS " WHERE folder_id = (SELECT id FROM folders"
                                     " WHERE name = ?1) AND uid = ?2");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, folder, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, uid);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        idx_row_fill(st, out);
        out->keywords = NULL;
    }
    sqlite3_reset(st);
    if (rc == SQLITE_ROW)
        return 1;
    return rc == SQLITE_DONE ? 0 : -1;
}

int index_usage(struct mail_index *idx, uint64_t *bytes, uint64_t *messages)
{
    sqlite3_stmt *st =
        idx_prep(idx, "SELECT coalesce(sum(size), 0), count(*) FROM messages");
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
