/* index_create: a new mail/index.db, written whole from the image of an
 * empty index (the tables at the current version, already in WAL mode)
 * and linked into place once it is on disk. Left to SQLite, a new
 * index.db went from a rollback journal to WAL and then made its tables
 * in the WAL: eight fsyncs, the longest step of a cold SELECT (the scan
 * ahead waited for it; docs/PERFORMANCE.md "imapcreate"). Here it is one
 * fsync of the file; the WAL's first write then syncs its header and the
 * directory (SQLite), which makes the name durable too.
 *
 * The image is made once per process: index.c's schema run in an
 * in-memory database and sqlite3_serialize()d, with the header's file
 * format versions (offsets 18 and 19) set to 2, which is how a database
 * file says it is in WAL mode (https://www.sqlite.org/fileformat2.html
 * section 1.3.3). The file is an O_TMPFILE until linkat(2) names it, so a
 * crash leaves no index.db or a whole one.
 *
 * The link is made under an flock(2) of the mail directory, after a
 * second look that index.db is still missing: a -wal or -shm left by the
 * index.db that was removed is unlinked first (SQLite would replay that
 * WAL into the new file; it drops it itself only for an empty file), and
 * no other thread or process can have a live WAL there at that moment. */
#include "store/index_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define WAL_FORMAT_VERSION 2 /* a WAL database's file format versions */

static unsigned char *image; /* sqlite3_malloc'd, kept for the process's life */
static sqlite3_int64 image_len;
static pthread_once_t image_once = PTHREAD_ONCE_INIT;

static void image_make(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                        NULL) == SQLITE_OK &&
        sqlite3_exec(db, idx_schema_fresh, NULL, NULL, NULL) == SQLITE_OK)
        image = sqlite3_serialize(db, "main", &image_len, 0);
    sqlite3_close(db);
    if (image && image_len < 100) { /* not even a header */
        sqlite3_free(image);
        image = NULL;
    }
    if (image) {
        image[18] = WAL_FORMAT_VERSION;
        image[19] = WAL_FORMAT_VERSION;
    }
}

static bool index_missing(int mailfd)
{
    struct stat st;
    return fstatat(mailfd, "index.db", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT;
}

/* The image in an unnamed file of the mail directory, on disk; -1. */
static int image_file(int mailfd)
{
    int fd = openat(mailfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    sqlite3_int64 off = 0;
    while (off < image_len) {
        ssize_t n = pwrite(fd, image + off, (size_t)(image_len - off), (off_t)off);
        if (n <= 0)
            break;
        off += n;
    }
    if (off < image_len || fdatasync(fd) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Names fd index.db unless one appeared meanwhile: 1 linked, 0 not, -1. */
static int link_locked(int mailfd, int fd)
{
    if (!index_missing(mailfd))
        return 0;
    if ((unlinkat(mailfd, "index.db-wal", 0) < 0 && errno != ENOENT) ||
        (unlinkat(mailfd, "index.db-shm", 0) < 0 && errno != ENOENT))
        return -1;
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (linkat(AT_FDCWD, path, mailfd, "index.db", AT_SYMLINK_FOLLOW) == 0)
        return 1;
    return errno == EEXIST ? 0 : -1;
}

int idx_create(int mailfd)
{
    if (!index_missing(mailfd))
        return 0;
    pthread_once(&image_once, image_make);
    int fd = image ? image_file(mailfd) : -1;
    if (fd < 0)
        return 0; /* SQLite makes it, as for any empty file */
    int rc = -1;
    int lockfd = openat(mailfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lockfd >= 0 && flock(lockfd, LOCK_EX) == 0)
        rc = link_locked(mailfd, fd);
    if (lockfd >= 0)
        close(lockfd); /* and the lock with it */
    close(fd);
    return rc;
}
