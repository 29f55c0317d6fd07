/* index: the per-account mail index, mail/index.db (SQLite, WAL): per folder
 * UIDVALIDITY, UIDNEXT and the highest modseq; per message its UID, Maildir
 * base name, flags, keywords, modseq (RFC 7162 CONDSTORE), internal date,
 * size, vsize and the cached envelope / body structure. A cache of the
 * Maildir: deleted, it is rebuilt by index_sync with a new UIDVALIDITY.
 * Blocking; one handle per thread at a time. Internal to store/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/maildir.h"

struct mail_index;

struct index_folder {
    int64_t id;
    uint32_t uidvalidity, uidnext;
    uint64_t highest_modseq;
};

struct index_row {
    uint32_t uid;
    struct maildir_entry e;
    uint64_t modseq;
    int64_t internaldate;
};

/* Opens (creating) index.db beneath the account's mail/ fd (kept dup'ed). */
struct mail_index *index_open(int mailfd);
void index_close(struct mail_index *idx); /* NULL is a no-op */
/* Whether mail/index.db is still the file idx has open (a handle kept
 * across calls must not write to an index that was deleted for rebuild). */
bool index_is_current(const struct mail_index *idx);

/* Brings a folder's rows in line with its new/ and cur/ (files gone: rows
 * removed; files new: UIDs assigned; moved or re-flagged: updated), all in
 * one write transaction. Fills f. 0 or -1. */
int index_sync(struct mail_index *idx, const char *folder, int folderfd,
               struct index_folder *f);

/* Records one delivered file (no-op if sync already saw it). *uid gets its
 * UID. envelope may be NULL. 0 or -1. */
int index_add(struct mail_index *idx, const char *folder, const struct maildir_entry *e,
              int64_t internaldate, const char *envelope, uint32_t *uid);

/* One delivered file for index_add_many. */
struct index_new {
    const char *folder;
    const struct maildir_entry *e;
    int64_t internaldate;
    const char *envelope; /* may be NULL */
    uint32_t uid;         /* out: its UID, 0 if a sync saw it first */
};
/* index_add for n files in one write transaction (one commit, one WAL
 * sync, however many). 0 or -1 (then none is recorded). */
int index_add_many(struct mail_index *idx, struct index_new *rows, size_t n);

/* Every row of a folder in UID order, to cb; stops if cb returns -1. */
int index_list(struct mail_index *idx, const char *folder,
               int (*cb)(void *arg, const struct index_row *row), void *arg);
int index_find(struct mail_index *idx, const char *folder, uint32_t uid,
               struct index_row *out); /* 1 found, 0 not, -1 error */

/* Bytes and messages of every folder (for quotas). */
int index_usage(struct mail_index *idx, uint64_t *bytes, uint64_t *messages);

/* Unlinks the files of uids, fsyncs the directories, then removes the rows
 * and bumps the folder's modseq, in one transaction. 0 or -1. */
int index_expunge(struct mail_index *idx, const char *folder, int folderfd,
                  const uint32_t *uids, size_t n);
