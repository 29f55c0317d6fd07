/* store: the shared cache's storage, keyed by cache key (policy.h
 * cache_key: method + normalised target URI) with several variants per key
 * (one per set of Vary-selected request values, 4.1). Two tiers: memory
 * (a byte limit, LRU) and disk under data_dir/cache/ (a byte limit, LRU,
 * disk.h), written through at commit and re-indexed at start. One store is
 * shared by every loop thread: one mutex guards the index and both LRU
 * lists; entries are immutable and reference-counted (entry.h), so a
 * reader streams a body without the lock while another thread replaces or
 * evicts it. Disk reads and writes happen outside the lock. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/cache/entry.h"

struct cache_store_config {
    const char *dir;     /* data_dir/cache; NULL: memory only */
    uint64_t memory_max; /* bytes of entries in memory; 0: no memory tier */
    uint64_t disk_max;   /* bytes of entry files; 0: no disk tier */
    uint64_t object_max; /* largest body stored; larger inserts are abandoned */
};

struct cache_store_stats {
    uint64_t memory_bytes, disk_bytes;
    size_t memory_entries, disk_entries;
};

struct cache_store;
struct cache_insert;

/* Opens the store: creates dir (0700), removes temporary files and indexes
 * the entry files there (oldest mtime evicted first), evicting down to
 * disk_max. NULL on failure (no memory, dir unusable). */
struct cache_store *cache_store_new(const struct cache_store_config *cfg);
void cache_store_free(struct cache_store *s); /* entries still referenced live on */

/* The stored response for a request: the variants of key whose Vary
 * matches req (4.1), the most recent of them; memory first, then disk (a
 * disk entry that is missing or fails its checksum is dropped, a miss).
 * Returns a reference (cache_entry_release it) or NULL. Freshness is the
 * caller's: cache_decide. */
struct cache_entry *cache_store_lookup(struct cache_store *s, struct http_str key,
                                       const struct http_header *req, size_t nreq);

/* Every stored variant of key (for cache_select_for_304 and If-None-Match
 * lists), up to cap references into out; returns the count. */
size_t cache_store_variants(struct cache_store *s, struct http_str key,
                            struct cache_entry **out, size_t cap);

/* Streaming insert: begin with the response head (its fields are filtered
 * by the storage rules, fields.h; the caller has checked cache_storable),
 * append body chunks, then commit or abort. NULL when nothing can be
 * stored (no tier, too many fields, Vary: *). */
struct cache_insert *cache_store_begin(struct cache_store *s, struct http_str key,
                                       const struct http_header *req, size_t nreq,
                                       const struct cache_response *r);
/* 0, or -1 once the body passed object_max: the insert is abandoned (the
 * caller still calls commit or abort, which then stores nothing). */
int cache_insert_append(struct cache_insert *ins, const void *p, size_t n);
/* Makes the entry visible (replacing the same variant) and writes it to
 * disk; returns a reference to it, or NULL if abandoned. Frees ins. */
struct cache_entry *cache_insert_commit(struct cache_insert *ins);
void cache_insert_abort(struct cache_insert *ins); /* NULL is a no-op */

/* 4.3.4: replaces `stored` by a copy with the 304's fields merged in
 * (cache_merge_304) and the new request/response times; returns a
 * reference to the new entry, or NULL (then `stored` is left as it is). */
struct cache_entry *cache_store_update(struct cache_store *s, struct cache_entry *stored,
                                       const struct http_header *h304, size_t n304,
                                       time_t request_time, time_t response_time);

/* Removes every variant of GET and HEAD for an absolute URI from both
 * tiers (4.4 invalidation and purge); returns the count removed. */
int cache_store_invalidate(struct cache_store *s, struct http_str uri);
/* Removes everything from both tiers (and every entry file in dir). */
void cache_store_purge_all(struct cache_store *s);

/* Drops memory copies whose disk file is gone after `portico cache purge`
 * (it bumps the purge stamp). Lookup runs this at most once a second; a
 * caller may run it from a timer. */
void cache_store_sync_purged(struct cache_store *s);

void cache_store_get_stats(struct cache_store *s, struct cache_store_stats *st);
