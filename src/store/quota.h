/* quota: bytes used by a file area, for [ftp] quota (FTP, HTTP and SFTP
 * uploads). A walk of the tree (blocking: run it off the loops); symlinks are not
 * followed. */
#pragma once
#include <stdint.h>

/* Sum of the sizes of the regular files beneath dirfd (not closed). */
uint64_t quota_usage(int dirfd);
