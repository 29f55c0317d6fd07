/* disk: the files of the disk tier under data_dir/cache/. One file per
 * entry, named KEYHASH-VARIANT (64 + 16 hex digits: the SHA-256 of the
 * cache key and the variant id), holding the entry's blob (entry.h).
 * A file is written under a temporary name (tmp.*) and renamed into place;
 * nothing is fsynced: the cache is droppable, and a torn file fails its
 * checksum when read and is removed. `purged` is a stamp whose mtime
 * changes when `portico cache purge` removes files, so a running server
 * drops its memory copies of them. Plain blocking calls: run them where
 * blocking is allowed (the work pool) or accept page-cache latency. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "httpmsg/request.h"

#define CACHE_DISK_NAME_LEN 81 /* 64 + '-' + 16 */
#define CACHE_PURGED_STAMP "purged"

/* Opens (creating, mode 0700) the directory and removes leftover
 * temporary files. Returns a directory descriptor or -1. */
int cache_disk_open(const char *dir);

/* The file name of an entry: out[CACHE_DISK_NAME_LEN + 1]. */
void cache_disk_name(const uint8_t keyhash[32], uint64_t variant, char *out);
/* Parses a file name back; false if it is not an entry's. */
bool cache_disk_parse_name(const char *name, uint8_t keyhash[32], uint64_t *variant);

/* Writes blob under a temporary name and renames it to `name`. 0 or -1.
 * keep non-NULL: the file stays open (readable) in *keep on success. */
int cache_disk_write(int dfd, const char *name, const uint8_t *blob, size_t len,
                     int *keep);

/* Opens an entry file for reading: the descriptor (its size in *size), or
 * -1 when missing or not a regular file. */
int cache_disk_open_entry(int dfd, const char *name, uint64_t *size);

/* Reads a whole file of at most max bytes into a malloc'd buffer. NULL if
 * missing, unreadable or larger. */
uint8_t *cache_disk_read(int dfd, const char *name, size_t max, size_t *len);

/* Calls fn for each entry file (name, size, mtime); the oldest first is
 * not guaranteed. */
int cache_disk_scan(int dfd,
                    void (*fn)(const char *name, uint64_t size, int64_t mtime, void *arg),
                    void *arg);

/* Bumps the purge stamp's mtime; reads it (0 if absent). */
void cache_disk_touch_purged(int dfd);
int64_t cache_disk_purged_mtime(int dfd);

/* For `portico cache purge` on a directory (server running or not):
 * removes every variant of GET and HEAD of uri, or every entry. Return
 * the count of files removed, or -1 (the directory cannot be opened, or
 * uri is not an absolute http(s) URI). */
int cache_disk_purge_uri(const char *dir, struct http_str uri);
int cache_disk_purge_all(const char *dir);
