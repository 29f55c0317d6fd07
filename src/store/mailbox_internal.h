/* mailbox_internal: the mailbox handle's state, shared by the files that
 * implement its calls (mailbox_handle.c, flags_store.c, append.c, copy.c).
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
    struct mail_index *idx; /* from the index cache, for the handle's life */
};

/* The handle's index, replaced first if index.db was deleted (rebuild). */
struct mail_index *mb_index(struct mailbox *mb);
/* Publishes a change of folder of mb's account. */
void mb_publish(const struct mailbox *mb, const char *folder, enum bus_kind kind,
                uint32_t uid);
/* Appends one row to a snapshot being built (cap: its allocated length). */
int mb_snapshot_push(struct mailbox_snapshot *s, size_t *cap, const struct index_row *r);
void mb_snapshot_head(struct mailbox_snapshot *s, const struct index_folder *f);
