/* index_batch: the rows a sync discovers (files another program put in the
 * Maildir, every file of a folder on its first SELECT), inserted
 * IDX_BATCH_ROWS per statement. A single-row INSERT spends most of its
 * instructions on the statement itself (step, halt, reset), not on the
 * b-trees: 10,000 rows cost 195 M instructions one per statement and
 * 111 M 32 per statement (docs/PERFORMANCE.md "imapbatch").
 *
 * The caller runs inside the sync's write transaction, after reading every
 * row of the folder: a base already in the index cannot reach the batch,
 * so the statements are plain INSERTs and a conflict is an error. */
#include "store/index_internal.h"

#include <stdio.h>
#include <string.h>

/* The columns a discovered row has (internal date 0, no envelope and no
 * keywords until a reader fills them, index_fill.c); ?1 is the folder. */
#define BATCH_PREFIX                                                                     \
    "INSERT INTO messages(folder_id, uid, base, in_cur, flags, modseq,"                  \
    " internaldate, size, vsize, envelope, keywords) VALUES"
#define BATCH_PARAMS 7 /* per row: uid, base, in_cur, flags, modseq, size, vsize */

/* The statement for n rows. */
static sqlite3_stmt *batch_prepare(struct mail_index *idx, size_t n)
{
    char sql[sizeof BATCH_PREFIX + IDX_BATCH_ROWS * 64];
    size_t len = snprintf(sql, sizeof sql, "%s", BATCH_PREFIX);
    for (size_t i = 0; i < n; i++) {
        int p = 2 + (int)i * BATCH_PARAMS;
        len += snprintf(sql + len, sizeof sql - len,
                        "%s(?1, ?%d, ?%d, ?%d, ?%d, ?%d, 0, ?%d, ?%d, NULL, '')",
                        i ? "," : "", p, p + 1, p + 2, p + 3, p + 4, p + 5, p + 6);
    }
    return idx_prep(idx, sql);
}

static void bind_row(sqlite3_stmt *st, int p, const struct idx_batch_row *r)
{
    sqlite3_bind_int64(st, p, r->uid);
    sqlite3_bind_text(st, p + 1, r->e->base, r->e->base_len, SQLITE_STATIC);
    sqlite3_bind_int(st, p + 2, r->e->in_cur);
    sqlite3_bind_text(st, p + 3, r->e->flags, r->e->flags_len, SQLITE_STATIC);
    sqlite3_bind_int64(st, p + 4, (sqlite3_int64)r->modseq);
    sqlite3_bind_int64(st, p + 5, (sqlite3_int64)r->e->size);
    sqlite3_bind_int64(st, p + 6, (sqlite3_int64)r->e->vsize);
}

/* Inserts rows[0..n) with the statement kept in *slot for that count. */
static int insert_rows(struct idx_batch *b, sqlite3_stmt **slot,
                       const struct idx_batch_row *rows, size_t n)
{
    if (!*slot && !(*slot = batch_prepare(b->idx, n)))
        return -1;
    sqlite3_stmt *st = *slot;
    sqlite3_bind_int64(st, 1, b->folder_id);
    for (size_t i = 0; i < n; i++)
        bind_row(st, 2 + (int)i * BATCH_PARAMS, &rows[i]);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int idx_batch_prepare(struct mail_index *idx)
{
    if (!idx->batch_st)
        idx->batch_st = batch_prepare(idx, IDX_BATCH_ROWS);
    return idx->batch_st ? 0 : -1;
}

int idx_batch_add(struct idx_batch *b, const struct maildir_file *e, uint32_t uid,
                  uint64_t modseq)
{
    b->rows[b->n++] = (struct idx_batch_row){e, uid, modseq};
    if (b->n < IDX_BATCH_ROWS)
        return 0;
    b->n = 0;
    return insert_rows(b, &b->idx->batch_st, b->rows, IDX_BATCH_ROWS);
}

int idx_batch_flush(struct idx_batch *b)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        rc = insert_rows(b, &b->idx->batch_one_st, &b->rows[i], 1);
    b->n = 0;
    return rc;
}
