/* index_cache: the one rule for index handles in store/. Opening index.db
 * checks the schema and closing its last handle checkpoints the WAL (about
 * 0.5-1 ms a pair, docs/DECISIONS.md), so nobody opens one per call: a
 * caller checks a handle out, uses it on its thread, and puts it back; idle
 * handles are kept per account, and a handle whose index.db was deleted
 * (for a rebuild) is never handed out again. Thread-safe. Internal to
 * store/. */
#pragma once
#include "store/index.h"

#define INDEX_CACHE_IDLE 16 /* idle handles kept over all accounts */

/* An index handle for the account whose mail/ directory is mailfd: an idle
 * one, or a new one. NULL on error. Only the caller uses it until put. */
struct mail_index *index_cache_get(int mailfd);
/* Gives a handle back (kept idle, or closed). NULL is a no-op. */
void index_cache_put(struct mail_index *idx);
/* Closes every idle handle (tests, shutdown). */
void index_cache_flush(void);
