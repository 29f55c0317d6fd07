/* fileio: small blocking file helpers shared by the store and the protocols
 * (run them on the work pool, or for small writes to page cache). */
#pragma once
#include <stddef.h>

/* Writes all n bytes, retrying short writes and EINTR. 0, or -1 with errno. */
int fd_write_all(int fd, const void *p, size_t n);
