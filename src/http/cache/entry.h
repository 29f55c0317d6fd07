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
 * so a torn or truncated file is never served.
 *
 * A file-backed entry (a large body in the disk tier, store.c) keeps only
 * the head (header, key, meta) in memory and its entry file open: the body
 * is sent from the file (sendfile). Its whole-file checksum was verified
 * once, when the file was opened (reading the body through in pieces), or
 * the file is the one this process just wrote; the result belongs to the
 * open descriptor. Entry files are never rewritten in place (a new version
 * is a new file renamed over the old one, whose inode the descriptor keeps),
 * so the bytes verified are the bytes sent. DECISIONS.md "Cache: disk hits
 * from the file". */
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
/* The serialised blob (what the disk tier writes) and its size; for a
 * file-backed entry, its head only (what it holds in memory). */
const uint8_t *cache_entry_blob(const struct cache_entry *e, size_t *len);
/* The serialised size, head and body, wherever the body is. */
uint64_t cache_entry_size(const struct cache_entry *e);
/* A file-backed entry: its open file and the body's offset in it (the
 * descriptor lives as long as a reference); false when the body is in
 * memory (cache_entry_body). cache_entry_body gives NULL (and the length)
 * for a file-backed entry. */
bool cache_entry_file(const struct cache_entry *e, int *fd, uint64_t *off);
/* Copies body bytes [off, off + n) to buf, from memory or the file. 0, or
 * -1 (out of range, or the file could not be read). */
int cache_entry_read_body(const struct cache_entry *e, uint64_t off, void *buf, size_t n);

/* Reference counting (atomic): whoever holds a reference releases it. */
void cache_entry_ref(struct cache_entry *e);
void cache_entry_release(struct cache_entry *e); /* NULL is a no-op */

/* Checks and parses a blob; on success the entry owns blob (malloc'd) and
 * holds one reference; on failure returns NULL and the caller still owns
 * blob. */
struct cache_entry *cache_entry_from_blob(uint8_t *blob, size_t len);

/* An entry file opened as fd, of file_len bytes: the lengths checked, the
 * head (at most head_max bytes) read, the checksum of the whole file
 * verified by reading the body through in pieces. On success the entry is
 * file-backed and owns fd; on failure NULL and fd is still the caller's. */
struct cache_entry *cache_entry_from_file(int fd, uint64_t file_len, uint64_t head_max);
/* A file-backed copy of the in-memory entry mem whose blob was just
 * written, whole, to the file open as fd (owned on success). NULL on
 * failure (fd still the caller's). */
struct cache_entry *cache_entry_with_file(const struct cache_entry *mem, int fd);

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
