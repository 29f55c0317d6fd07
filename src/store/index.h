/* index: the per-account mail index, mail/index.db (SQLite, WAL): per folder
 * UIDVALIDITY, UIDNEXT, the highest modseq and the MAILBOXID; per message
 * its UID, Maildir base name, flags, keywords, modseq (RFC 7162 CONDSTORE),
 * internal date, size, vsize and the envelope; the cached summary (its own
 * table, so a flag change rewrites a small row); expunged
 * UIDs with their modseq (VANISHED). A cache of the Maildir: deleted, it is
 * rebuilt by index_sync with a new UIDVALIDITY (MAILBOXIDs come back from
 * their files). Blocking; one handle per thread at a time (handles come
 * from store/index_cache.h). Internal to store/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "store/mailbox.h"
#include "store/maildir.h"

struct mail_index;

struct index_folder {
    int64_t id;
    uint32_t uidvalidity, uidnext;
    uint64_t highest_modseq;
    char mailboxid[40];
    int64_t stamp_new, stamp_cur; /* mtimes (ns) of new/ cur/ at the last scan */
};

struct index_row {
    uint32_t uid;
    struct maildir_entry e;
    uint64_t modseq;
    int64_t internaldate;
    const char *keywords; /* "" or space-separated; valid only in an index_list
                             callback (NULL from index_find) */
};

/* Opens (creating) index.db beneath the account's mail/ fd (kept dup'ed). */
struct mail_index *index_open(int mailfd);
void index_close(struct mail_index *idx); /* NULL is a no-op */
/* Whether mail/index.db is still the file idx has open (a handle kept
 * across calls must not write to an index that was deleted for rebuild). */
bool index_is_current(const struct mail_index *idx);

/* Brings a folder's rows in line with its new/ and cur/ (files gone: rows
 * removed and recorded as expunged; files new: UIDs assigned; moved or
 * re-flagged: updated), all in one write transaction. Fills f. Fast path:
 * when the mtimes of new/ and cur/ are those of the last scan (and that
 * scan is old enough to trust them), nothing is scanned or written: one
 * query. folder is a canonical name (store/folder_name.h). 0 or -1. */
int index_sync(struct mail_index *idx, const char *folder, int folderfd,
               struct index_folder *f);
/* index_sync that, when it scans, hands cb every row the folder has after
 * the merge (in base order, keywords valid during the call only), so the
 * caller can build its list without reading it back. 1 scanned (every
 * row heard, the transaction committed), 0 fast path (none), -1. */
struct scan_ahead;
/* ahead (NULL: none): a scan started before (store/scan_ahead.h), used if
 * this is the folder's first sync, and freed either way. */
int index_sync_rows(struct mail_index *idx, const char *folder, int folderfd,
                    struct index_folder *f,
                    int (*cb)(void *arg, const struct index_row *row), void *arg,
                    struct scan_ahead *ahead);
/* The mtimes (ns) of a folder's new/ and cur/, taken before a scan. */
struct index_stamps {
    int64_t new_dir, cur_dir;
};
void index_stamps_take(int folderfd, struct index_stamps *st);

/* The folder's row without creating it: 1, 0 (none yet), -1. */
int index_folder_read(struct mail_index *idx, const char *folder, struct index_folder *f);

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
    const char *keywords; /* may be NULL */
    uint32_t uid;         /* out: its UID, 0 if a sync saw it first */
    uint32_t uidvalidity; /* out: the folder's */
};
/* index_add for n files in one write transaction (one commit, one WAL
 * sync, however many). 0 or -1 (then none is recorded). */
int index_add_many(struct mail_index *idx, struct index_new *rows, size_t n);

/* Every row of a folder in UID order, to cb; stops if cb returns -1. */
int index_list(struct mail_index *idx, const char *folder,
               int (*cb)(void *arg, const struct index_row *row), void *arg);
/* The rows of a folder with UIDs lo..hi in UID order, to cb (as index_list). */
int index_list_range(struct mail_index *idx, const char *folder, uint32_t lo, uint32_t hi,
                     int (*cb)(void *arg, const struct index_row *row), void *arg);
/* The rows of folder f whose modseq is > since, in UID order, with f
 * re-read in the same read transaction (a consistent picture). */
int index_list_since(struct mail_index *idx, const char *folder, uint64_t since,
                     struct index_folder *f,
                     int (*cb)(void *arg, const struct index_row *row), void *arg);
int index_find(struct mail_index *idx, const char *folder, uint32_t uid,
               struct index_row *out); /* 1 found, 0 not, -1 error */

/* Bytes and messages of every folder (for quotas): a row whose size is
 * unknown counts 0, so index_fill_sizes first. */
int index_usage(struct mail_index *idx, uint64_t *bytes, uint64_t *messages);

/* Unlinks the files of uids (NULL: every row flagged T, \Deleted), fsyncs
 * the directories, then removes the rows, records them as expunged and
 * bumps the modseqs, in one transaction. The UIDs removed go to *out
 * (malloc'd, ascending) when out is not NULL. 0 or -1. */
int index_expunge(struct mail_index *idx, const char *folder, int folderfd,
                  const uint32_t *uids, size_t n, uint32_t **out, size_t *nout);

/* UIDs of folder_id expunged with a modseq > since (RFC 7162 3.2.5.2), in
 * *out (malloc'd, ascending, NULL when none). 0 or -1. */
int index_vanished(struct mail_index *idx, int64_t folder_id, uint64_t since,
                   uint32_t **out, size_t *n);
/* The row whose Maildir base name is base: 1, 0, -1. */
int index_find_base(struct mail_index *idx, const char *folder, const char *base,
                    struct index_row *out);
/* Sets a row's keywords (a new modseq). 0 or -1. */
int index_set_keywords(struct mail_index *idx, const char *folder, uint32_t uid,
                       const char *keywords);
/* The cached summary of a message (malloc'd) or NULL: *found says whether
 * the row exists. And its store. */
char *index_summary_get(struct mail_index *idx, const char *folder, uint32_t uid,
                        int *found);
/* The cached summaries of the folder's UIDs lo..hi in UID order, one
 * query: cb(arg, uid, summary) for each UID that has one (the others are
 * not reported); cb < 0 stops. */
int index_summary_range(struct mail_index *idx, const char *folder, uint32_t lo,
                        uint32_t hi,
                        int (*cb)(void *arg, uint32_t uid, const char *summary),
                        void *arg);
/* k (may be NULL): what the parse learned of the message (0 where
 * nothing: k->vsize its CRLF size, k->internaldate and k->size from the
 * file it read), kept where the row lacks it (index_fill.c). */
int index_summary_set(struct mail_index *idx, const char *folder, uint32_t uid,
                      const char *summary, const struct mail_known *k);

/* Folder operations' index side, inside the caller's write transaction
 * (idx_txn_begin in index_internal.h). Drop: the folder's row, messages
 * and expunged UIDs. Rename: the rows of from and of every folder below
 * it ("from/...") take the new names; UIDVALIDITY and MAILBOXID stay. */
int index_folder_drop(struct mail_index *idx, const char *folder);
int index_folder_rename(struct mail_index *idx, const char *from, const char *to);

/* STATUS figures of a synced folder (RFC 9051 6.3.11, RFC 8438 SIZE is
 * the sum of RFC822.SIZE): one aggregate query. */
struct index_status {
    uint32_t messages, unseen, deleted;
    uint64_t size;         /* RFC822.SIZE of all */
    uint64_t deleted_size; /* bytes on disk of those marked \Deleted */
};
int index_folder_status(struct mail_index *idx, int64_t folder_id,
                        struct index_status *out);

/* index_fill.c: what a sync leaves unknown (mailbox.h "mail_need"),
 * learned from the files when a reader needs it and kept in the rows.
 * Which of MAIL_NEED_* a row's figures lack. */
unsigned index_unknown(int64_t internaldate, uint64_t size, uint64_t vsize);
/* Learns what need asks and k lacks from the file of e (one fstatat, or a
 * read for the CRLF size) into k. 1 learned, 0 nothing to learn, -1 the
 * file is not there (k unchanged). */
int index_learn(int folderfd, const struct maildir_entry *e, unsigned need,
                struct mail_known *k);
/* index_learn for one row r (its figures updated) and kept in the index,
 * inside the caller's write transaction. 1, 0, -1 as index_learn; -2 on
 * an index error. */
int index_fill_row_locked(struct mail_index *idx, int64_t folder_id, int folderfd,
                          struct index_row *r, unsigned need);
/* Every row of the folder that lacks something need asks, learned and
 * kept (the _locked form inside the caller's write transaction). Files
 * not found are skipped. 0 or -1. */
int index_fill_folder_locked(struct mail_index *idx, int64_t folder_id, int folderfd,
                             unsigned need);
int index_fill_folder(struct mail_index *idx, int64_t folder_id, int folderfd,
                      unsigned need);
/* The sizes on disk of every folder's rows (the quota's sum), learned
 * and kept, inside the caller's write transaction; and in one of its own. */
int index_fill_sizes_locked(struct mail_index *idx);
int index_fill_sizes(struct mail_index *idx);
/* The rows of uids (n, ascending), in UID order, to cb, each with what
 * need asks learned first and kept, in one transaction. *missing counts
 * the files that were not where the rows say (reported with their
 * figures as they are). 0 or -1. */
int index_fill_uids(struct mail_index *idx, int64_t folder_id, int folderfd,
                    const uint32_t *uids, size_t n, unsigned need,
                    void (*cb)(void *arg, const struct mail_known *k), void *arg,
                    size_t *missing);
