/* mailbox_internal: the mailbox handle's state, shared by the files that
 * implement its calls (mailbox_handle.c, mailbox_version.c, flags_store.c,
 * append.c, copy.c).
 * Not for use outside store/. */
#pragma once
#include <pthread.h>

#include "store/bus.h"
#include "store/index.h"
#include "store/mailbox.h"

struct mailbox {
    pthread_mutex_t mu; /* one call at a time on a handle */
    struct account acct;
    int datadirfd;                  /* borrowed */
    char name[MAIL_MAX_FOLDER + 1]; /* canonical (store/folder_name.h) */
    int mailfd, folderfd;
    /* Checked out of the index cache by mb_index, given back by mb_unlock
     * (one-shot calls) or mailbox_summary_flush (batches of reads): an
     * idle handle holds no SQLite connection and no page cache. */
    struct mail_index *idx;
    /* Summaries computed but not yet written (mailbox_summary_flush). */
    struct {
        struct mail_known k; /* what the parse learned: 0 where nothing */
        char *text;
    } pending[MAILBOX_SUMMARY_PENDING];
    size_t npending;
    /* The file names of the batch being opened (mailbox_names.c), NULL
     * outside one; dropped with the batch's flush. */
    struct mb_names *names;
    /* The folder's scan, started by mailbox_open when the account had no
     * index.db (store/scan_ahead.c); the first sync takes it. */
    struct scan_ahead *ahead;
};

/* mailbox_names.c (mb->mu held): the open of uid by the batch's names, or
 * MB_NAMES_UNKNOWN when they do not know it (the caller looks it up). */
#define MB_NAMES_UNKNOWN (-2)
int mb_names_open(struct mailbox *mb, struct mail_index *idx, uint32_t uid);
void mb_names_drop(struct mailbox *mb);

/* One call at a time: mb_lock takes mb->mu; mb_unlock gives the index
 * connection back to the cache and releases mb->mu. */
void mb_lock(struct mailbox *mb);
void mb_unlock(struct mailbox *mb);
/* The handle's index (checked out if it holds none), replaced first if
 * index.db was deleted (rebuild). mb->mu held. */
struct mail_index *mb_index(struct mailbox *mb);
/* Publishes a change of folder of mb's account. */
void mb_publish(const struct mailbox *mb, const char *folder, enum bus_kind kind,
                uint32_t uid);
/* Appends one row to a snapshot being built (cap: its allocated length). */
int mb_snapshot_push(struct mailbox_snapshot *s, size_t *cap, const struct index_row *r);
/* The path of uid in the batch's names ("cur/<base>:2,..."), NULL when
 * they do not know it (mailbox_names.c, mb->mu held). */
const char *mb_names_path(struct mailbox *mb, struct mail_index *idx, uint32_t uid);
void mb_snapshot_head(struct mailbox_snapshot *s, const struct index_folder *f);
/* After a change made by this handle (STORE) in one transaction that began
 * at folder state before: if the table's current version of the folder
 * shows before, publishes the next one, that version with the rows of
 * changes (uid order; flags, keywords, modseq) and changes' header, so
 * the next SELECT or refresh lists nothing. Otherwise nothing: the next
 * mailbox_version_get lists the folder as before. */
void mb_version_advance(struct mailbox *mb, const struct index_folder *before,
                        const struct mailbox_snapshot *changes);
