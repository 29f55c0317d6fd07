/* summary_fill: the summaries a FETCH batch lacks (first FETCH of a
 * mailbox), computed on two threads at once (the caller's and a pool
 * helper), outside the mailbox handle's lock, then cached through
 * mailbox_summary_put. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct mailbox;

/* For each i < n with texts[i] NULL: texts[i] = the summary text of
 * uids[i] (malloc'd; stays NULL if the message cannot be read). */
void summary_fill(struct mailbox *mb, const uint32_t *uids, char **texts, size_t n);
