/* fileio: the write loop every writer of files needs, and the durable
 * publish of a new file under its final name (with or without the fsync of
 * its directory, for callers that group that fsync). */
#include "core/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int fd_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int file_publish_unsynced(int dirfd, const char *tmp, const char *name,
                          int (*fill)(int fd, void *arg), void *arg)
{
    int fd =
        openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = fill(fd, arg);
    if (rc == 0)
        rc = fsync(fd);
    close(fd);
    if (rc == 0)
        rc = renameat(dirfd, tmp, dirfd, name);
    if (rc < 0) {
        unlinkat(dirfd, tmp, 0);
        return -1;
    }
    return 0;
}

int file_publish(int dirfd, const char *tmp, const char *name,
                 int (*fill)(int fd, void *arg), void *arg)
{
    if (file_publish_unsynced(dirfd, tmp, name, fill, arg) < 0)
        return -1;
    return fsync(dirfd);
}
