/* scan_ahead: a folder's directory scan started on a helper thread before
 * its first sync needs it (see scan_ahead.c). */
#pragma once

#include "store/index.h"
#include "store/maildir.h"

struct scan_ahead;

/* NULL if no thread could start (the sync scans by itself then). */
struct scan_ahead *scan_ahead_start(int folderfd);
/* Waits for the scan and frees s: the list (the caller's to free), the
 * stamps taken before it, and maildir_scan's result (-1: failed). */
long scan_ahead_take(struct scan_ahead *s, struct maildir_list *out,
                     struct index_stamps *stamps);
/* Waits and frees s and its list, unused. NULL: nothing. */
void scan_ahead_free(struct scan_ahead *s);
