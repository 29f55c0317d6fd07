/* entry: one stored response (head, the request fields its Vary selected,
 * body), immutable once built and reference-counted, so a reader on one
 * loop thread keeps streaming it while another thread replaces or evicts
 * it. Its bytes are one blob in the format the disk tier writes:
 *
 *   0  "PCE1"          magic and format version
 *   4  u32 header size (64)
 *   8  u32 key length      12  u32 meta length      16  u64 body length
 *   24 u8[32] SHA-256 of every other byte of the blob (0..24, 56..end)
 *   56 u64 variant id (from the Vary-selected request fields)
 *   64 key | meta | body
 *
 * meta = i64 request_time, i64 response_time, u32 status, u32 response
 * field count, u32 request field count, then each field as u32 name
 * length, u32 value length, name, value. Integers are little-endian. A
 * blob whose lengths do not add up or whose checksum differs is refused,
 * so a torn or truncated file is never served. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/cache/policy.h"

#define CACHE_ENTRY_HEADER 64
#define CACHE_ENTRY_MAX_FIELDS 128 /* response fields kept per entry */

struct cache_entry;

/* Accessors; the pointers live as long as the caller's reference. */
const struct cache_response *cache_entry_response(const struct cache_entry *e);
const uint8_t *cache_entry_body(const struct cache_entry *e, uint64_t *len);
struct http_str cache_entry_key(const struct cache_entry *e);
/* The request fields the response's Vary named, normalised (vary.c). */
const struct http_header *cache_entry_request_fields(const struct cache_entry *e,
                                                     size_t *n);
uint64_t cache_entry_variant(const struct cache_entry *e);
/* The serialised blob (what the disk tier writes) and its size. */
const uint8_t *cache_entry_blob(const struct cache_entry *e, size_t *len);

/* Reference counting (atomic): whoever holds a reference releases it. */
void cache_entry_ref(struct cache_entry *e);
void cache_entry_release(struct cache_entry *e); /* NULL is a no-op */

/* Checks and parses a blob; on success the entry owns blob (malloc'd) and
 * holds one reference; on failure returns NULL and the caller still owns
 * blob. */
struct cache_entry *cache_entry_from_blob(uint8_t *blob, size_t len);

/* Builds an entry from a response head and body chunks. */
struct entry_builder {
    uint8_t *buf;
    size_t len, cap;
    size_t meta_off, body_off;
    uint64_t max_body;
    uint64_t variant;
    bool failed; /* over max_body or out of memory */
};

/* Starts an entry for key with response r (its fields taken as they are:
 * filter them first, fields.h) and the Vary-selected fields of req. 0, or
 * -1 (Vary: *, a field too long, no memory). */
int entry_builder_init(struct entry_builder *b, struct http_str key,
                       const struct cache_response *r, const struct http_header *req,
                       size_t nreq, uint64_t max_body);
/* Appends body bytes; -1 once the body exceeds max_body (then it stays
 * failed). */
int entry_builder_append(struct entry_builder *b, const void *p, size_t n);
/* Finishes the blob (lengths, checksum) and returns the entry (one
 * reference), or NULL if the builder failed. The builder is emptied. */
struct cache_entry *entry_builder_finish(struct entry_builder *b);
void entry_builder_discard(struct entry_builder *b);

/* SHA-256 of a key, and its 64 hex digits plus NUL. The _md form takes a
 * SHA-256 fetched once (EVP_MD_fetch), which spares OpenSSL 3's implicit
 * fetch on every call (the store's lookups). */
struct evp_md_st;
void cache_key_hash(struct http_str key, uint8_t out[32]);
void cache_key_hash_md(const struct evp_md_st *md, struct http_str key, uint8_t out[32]);
void cache_key_hex(const uint8_t hash[32], char out[65]);
