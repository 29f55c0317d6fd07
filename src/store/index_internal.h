/* index_internal: the parts of the mail index shared by its files
 * (index.c: schema, folders, sync; index_create.c: a new index.db;
 * index_write.c: flag changes, expunge, copies, changes since a modseq;
 * index_cache.c: the handle cache). Not for use outside those files. */
#pragma once
#include <sqlite3.h>
#include <stdbool.h>
#include <sys/types.h>

#include "store/index.h"

struct mail_index {
    sqlite3 *db;
    int mailfd;
    dev_t dev; /* index.db as opened */
    ino_t ino;
    /* Prepared once: the per-message lookups (FETCH/SEARCH of a whole
     * mailbox run them once per message). */
    sqlite3_stmt *find_st, *summary_st, *summary_set_st, *vsize_set_st, *summary_del_st;
    /* Per row of a sync (10,000 in a cold SELECT): parsed once. */
    sqlite3_stmt *insert_st, *move_st, *batch_st, *batch_one_st;
    /* Per row a reader learns the date or size of (index_fill.c). */
    sqlite3_stmt *fill_st;
};

/* The tables of a new index.db at the current version (index.c). */
extern const char idx_schema_fresh[];
/* Makes mailfd's index.db from the image of an empty index if there is
 * none (index_create.c): 1 made, 0 not (there already, or left to SQLite
 * where that cannot be done), -1 error. */
int idx_create(int mailfd);

int idx_exec(struct mail_index *idx, const char *sql);
sqlite3_stmt *idx_prep(struct mail_index *idx, const char *sql);
/* A statement kept in *slot (reset, bindings cleared); not finalised by
 * the caller: sqlite3_reset it after use. */
sqlite3_stmt *idx_prep_cached(struct mail_index *idx, sqlite3_stmt **slot,
                              const char *sql);
int idx_txn_begin(struct mail_index *idx);       /* BEGIN IMMEDIATE */
int idx_txn_end(struct mail_index *idx, int rc); /* COMMIT if rc == 0, else ROLLBACK */
/* The same whose commit is not fsynced when unsynced: for writes a lost
 * commit cannot make wrong (a cache fill, a folder's first sync). The
 * connection's commits are fsynced again after the end. */
int idx_txn_begin_unsynced(struct mail_index *idx, bool unsynced);
int idx_txn_end_unsynced(struct mail_index *idx, bool unsynced, int rc);

/* The folder's row, created (fresh UIDVALIDITY, its MAILBOXID file read or
 * made) if missing. Inside a write transaction. */
int idx_folder_get(struct mail_index *idx, const char *name, struct index_folder *f);
int idx_folder_store(struct mail_index *idx, const struct index_folder *f);
/* The scan-and-merge of index_sync, inside the caller's transaction. */
int idx_sync_locked(struct mail_index *idx, const char *folder, int folderfd,
                    struct index_folder *f);

/* Row columns, in the order idx_row_fill reads them. */
#define IDX_ROW_LIST                                                                     \
    "uid, base, in_cur, flags, modseq, internaldate, size, vsize, keywords"
#define IDX_ROW_COLS "SELECT " IDX_ROW_LIST " FROM messages"
void idx_row_fill(sqlite3_stmt *st, struct index_row *r);
int idx_row_delete(struct mail_index *idx, int64_t folder_id, uint32_t uid);
/* RFC 7162 3.2.5.2: an expunged UID and the modseq of its expunge. */
int idx_record_expunged(struct mail_index *idx, int64_t folder_id, uint32_t uid,
                        uint64_t modseq);

/* The rows a sync discovers, IDX_BATCH_ROWS per INSERT (index_batch.c);
 * inside the sync's transaction, each base new to the folder. */
#define IDX_BATCH_ROWS 32
struct idx_batch_row {
    const struct maildir_file *e; /* the scan's, alive until the flush */
    uint32_t uid;
    uint64_t modseq;
};
struct idx_batch {
    struct mail_index *idx;
    int64_t folder_id;
    size_t n;
    struct idx_batch_row rows[IDX_BATCH_ROWS];
};
int idx_batch_add(struct idx_batch *b, const struct maildir_file *e, uint32_t uid,
                  uint64_t modseq);
/* Prepares idx's statement of IDX_BATCH_ROWS rows now (it takes about a
 * millisecond): before a first sync waits for its scan ahead. 0 or -1. */
int idx_batch_prepare(struct mail_index *idx);
int idx_batch_flush(struct idx_batch *b); /* the rows not yet inserted */
