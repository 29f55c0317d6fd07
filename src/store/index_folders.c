/* index_folders: the index's side of CREATE/DELETE/RENAME and STATUS: rows
 * dropped or renamed with their children, and the STATUS aggregate. */
#include "store/index.h"

#include "store/index_internal.h"

#include <stdio.h>
#include <string.h>

static int run_named(struct mail_index *idx, const char *sql, int64_t id)
{
    sqlite3_stmt *st = idx_prep(idx, sql);
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int index_folder_drop(struct mail_index *idx, const char *folder)
{
    struct index_folder f;
    int r = index_folder_read(idx, folder, &f);
    if (r <= 0)
        return r;
    if (run_named(idx, "DELETE FROM messages WHERE folder_id = ?1", f.id) < 0 ||
        run_named(idx, "DELETE FROM summaries WHERE folder_id = ?1", f.id) < 0 ||
        run_named(idx, "DELETE FROM expunged WHERE folder_id = ?1", f.id) < 0)
        return -1;
    return run_named(idx, "DELETE FROM folders WHERE id = ?1", f.id);
}

int index_folder_rename(struct mail_index *idx, const char *from, const char *to)
{
    char prefix[MAIL_MAX_FOLDER + 2];
    snprintf(prefix, sizeof prefix, "%s/", from);
    /* substr, not LIKE: '_' in a name is a LIKE wildcard. */
    sqlite3_stmt *st = idx_prep(idx, "UPDATE folders SET name = ?2 || substr(name, ?4)"
                                     " WHERE name = ?1 OR substr(name, 1, ?5) = ?3");
    if (!st)
        return -1;
    sqlite3_bind_text(st, 1, from, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, to, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)strlen(from) + 1);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)strlen(prefix));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int index_folder_status(struct mail_index *idx, int64_t folder_id,
                        struct index_status *out)
{
    sqlite3_stmt *st =
        idx_prep(idx, "SELECT count(*),"
                      " coalesce(sum(in_cur = 0 OR instr(flags, 'S') = 0), 0),"
                      " coalesce(sum(in_cur = 1 AND instr(flags, 'T') > 0), 0),"
                      " coalesce(sum(vsize), 0),"
                      " coalesce(sum(CASE WHEN in_cur = 1 AND instr(flags, 'T') > 0"
                      " THEN size ELSE 0 END), 0)"
                      " FROM messages WHERE folder_id = ?1");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, folder_id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->messages = (uint32_t)sqlite3_column_int64(st, 0);
        out->unseen = (uint32_t)sqlite3_column_int64(st, 1);
        out->deleted = (uint32_t)sqlite3_column_int64(st, 2);
        out->size = (uint64_t)sqlite3_column_int64(st, 3);
        out->deleted_size = (uint64_t)sqlite3_column_int64(st, 4);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}
