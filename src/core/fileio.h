/* fileio: small blocking file helpers shared by the store and the protocols
 * (run them on the work pool, or for small writes to page cache). */
#pragma once
#include <stddef.h>

/* Writes all n bytes, retrying short writes and EINTR. 0, or -1 with errno. */
int fd_write_all(int fd, const void *p, size_t n);

/* The durable publish (DESIGN.md "Durable writes"): creates tmp in dirfd
 * (0600), lets fill write it, fsyncs it, renames it to name and fsyncs
 * dirfd; on any failure tmp is removed and name is untouched. 0, or -1. */
int file_publish(int dirfd, const char *tmp, const char *name,
                 int (*fill)(int fd, void *arg), void *arg);
/* The same without the last step: the rename is not yet durable until the
 * caller fsyncs dirfd (once for several files, a group commit). 0, or -1. */
int file_publish_unsynced(int dirfd, const char *tmp, const char *name,
                          int (*fill)(int fd, void *arg), void *arg);
