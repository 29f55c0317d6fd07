/* pool: spent queue files kept for reuse (DECISIONS.md "Queue files are
 * reused"). When the pool is on (the running server's scheduler turns it
 * on), a finished entry's files (its .msg, and its .env if it has one) are
 * renamed to free.<name> instead of being unlinked, and a new file of the
 * queue is written into a free one, fsynced and renamed to its real name,
 * instead of being created. On an ext4 without a journal every new inode
 * scans past the inodes freed in the last minute, and a mail queue frees
 * one a message at least: reuse takes that cost (a fifth of a relay's CPU
 * here) away.
 *
 * The rule that keeps this safe: a free file is written again only after
 * an fsync of queue/ that began after its rename (sync.c counts them).
 * Until then a crash could bring the old name back, and the old entry
 * would then hold the new entry's bytes. Free names come from queue ids,
 * which are never reused, so they never collide.
 *
 * Bounded: at most POOL_MAX files and POOL_BYTES bytes, none over
 * POOL_FILE_MAX (others are unlinked), so the pool's disk use stays small.
 * Blocking: pool threads only. Without the pool (the CLI, unit tests)
 * every function here falls back to plain creation and unlinking. */
#include "queue/queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define POOL_MAX 4096
#define POOL_FILE_MAX (64 * 1024)
#define POOL_BYTES (32 * 1024 * 1024)
#define POOL_NAME_MAX (QUEUE_ID_MAX + 16)
#define FREE_PREFIX "free."

struct free_file {
    char name[POOL_NAME_MAX];
    uint64_t mark; /* ready once a queue/ fsync numbered >= mark is done */
    off_t size;
};

static struct {
    pthread_mutex_t mu;
    atomic_bool on;
    dev_t dev;
    ino_t ino;
    uint64_t synced; /* the highest fsync of this queue/ that finished */
    off_t bytes;     /* the pooled files' sizes */
    struct free_file ring[POOL_MAX];
    size_t head, count; /* FIFO: the oldest (first ready) at head */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* True when st is the pool's directory. pool.mu held. */
static bool is_pool_dir(const struct stat *st)
{
    return pool.on && st->st_dev == pool.dev && st->st_ino == pool.ino;
}

/* True when a file of size bytes fits in the pool. pool.mu held. */
static bool has_room(off_t size)
{
    return pool.count < POOL_MAX && pool.bytes + size <= POOL_BYTES;
}

/* Adds a file already renamed to its free name. pool.mu held. */
static bool pool_push(const char *name, off_t size)
{
    if (!has_room(size))
        return false;
    struct free_file *f = &pool.ring[(pool.head + pool.count) % POOL_MAX];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->mark = queue_sync_next(); /* read after the rename: see above */
    f->size = size;
    pool.count++;
    pool.bytes += size;
    return true;
}

/* The oldest free file if it may be written, moved out of the pool. */
static bool pool_pop(int qfd, char *name, size_t size)
{
    struct stat st;
    bool got = false;
    if (!pool.on || fstat(qfd, &st) < 0)
        return false;
    pthread_mutex_lock(&pool.mu);
    struct free_file *f = &pool.ring[pool.head];
    if (pool.count && is_pool_dir(&st) && f->mark <= pool.synced) {
        snprintf(name, size, "%s", f->name);
        pool.bytes -= f->size;
        pool.head = (pool.head + 1) % POOL_MAX;
        pool.count--;
        got = true;
    }
    pthread_mutex_unlock(&pool.mu);
    return got;
}

void queue_pool_synced(const struct stat *dir, uint64_t seq)
{
    pthread_mutex_lock(&pool.mu);
    if (is_pool_dir(dir) && seq > pool.synced)
        pool.synced = seq;
    pthread_mutex_unlock(&pool.mu);
}

static bool has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

/* Renames name (in qfd) into the pool, or unlinks it when the pool is
 * off or full, or the file is large or has a second link. 0, or -1 with
 * errno (ENOENT: no such file). */
int queue_pool_remove(int qfd, const char *name)
{
    char fname[POOL_NAME_MAX + 8];
    struct stat dir, st;
    if (fstatat(qfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return -1;
    bool fits = pool.on && fstat(qfd, &dir) == 0 && S_ISREG(st.st_mode) &&
                st.st_nlink == 1 && st.st_size <= POOL_FILE_MAX;
    if (fits) {
        pthread_mutex_lock(&pool.mu);
        fits = is_pool_dir(&dir) && has_room(st.st_size);
        pthread_mutex_unlock(&pool.mu);
    }
    if (!fits)
        return unlinkat(qfd, name, 0);
    snprintf(fname, sizeof fname, "%s", name);
    if (!has_prefix(name, FREE_PREFIX)) {
        snprintf(fname, sizeof fname, FREE_PREFIX "%s", name);
        if (renameat(qfd, name, qfd, fname) < 0)
            return unlinkat(qfd, name, 0);
    }
    pthread_mutex_lock(&pool.mu);
    bool kept = is_pool_dir(&dir) && pool_push(fname, st.st_size);
    pthread_mutex_unlock(&pool.mu);
    if (!kept)
        unlinkat(qfd, fname, 0);
    return 0;
}

/* The file to fill: a ready free file (its name in tmp), or a new one
 * created under tmp. */
static int open_fill_target(int qfd, char *tmp, size_t size, const char *fallback)
{
    if (pool_pop(qfd, tmp, size)) {
        int fd = openat(qfd, tmp, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
            return fd;
        unlinkat(qfd, tmp, 0);
    }
    snprintf(tmp, size, "%s", fallback);
    return openat(qfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* Cuts a reused file to what fill wrote from offset 0. */
static int cut_to_written(int fd)
{
    off_t end = lseek(fd, 0, SEEK_CUR);
    if (end < 0)
        return -1;
    return ftruncate(fd, end);
}

int queue_pool_publish(int qfd, const char *name, bool noreplace,
                       int (*fill)(int fd, void *arg), void *arg)
{
    char tmp[POOL_NAME_MAX + 8], fallback[POOL_NAME_MAX + 8];
    snprintf(fallback, sizeof fallback, "tmp.%s", name);
    int fd = open_fill_target(qfd, tmp, sizeof tmp, fallback);
    if (fd < 0)
        return -1;
    int rc = fill(fd, arg);
    if (rc == 0)
        rc = cut_to_written(fd);
    if (rc == 0)
        rc = fsync(fd);
    close(fd);
    if (rc == 0)
        rc = renameat2(qfd, tmp, qfd, name, noreplace ? RENAME_NOREPLACE : 0);
    if (rc < 0) {
        int saved = errno;
        queue_pool_remove(qfd, tmp);
        errno = saved;
    }
    return rc;
}

/* ---- turning it on ---- */

/* True unless name's attribute is known to hold no record. */
static bool has_record_attr(int qfd, const char *name)
{
    int fd = openat(qfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return true;
    ssize_t n = fgetxattr(fd, QUEUE_ATTR, NULL, 0);
    bool none = n < 0 && (errno == ENODATA || errno == ENOTSUP);
    close(fd);
    return !none;
}

/* A file left by an earlier run that the pool may take: a free file, a
 * tmp. file, or a .msg without a record (neither a .env nor its attribute:
 * a write that never got its 250),
 * each last changed before the server started. */
static bool is_leftover(int qfd, const char *name, const struct stat *st, time_t before)
{
    if (!S_ISREG(st->st_mode) || st->st_mtime >= before)
        return false;
    if (has_prefix(name, FREE_PREFIX) || has_prefix(name, "tmp."))
        return true;
    size_t n = strlen(name);
    char env[POOL_NAME_MAX];
    if (n < 5 || n >= sizeof env || strcmp(name + n - 4, ".msg") != 0)
        return false;
    memcpy(env, name, n - 4);
    memcpy(env + n - 4, ".env", 5);
    if (faccessat(qfd, env, F_OK, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT)
        return false;
    return !has_record_attr(qfd, name);
}

/* The names in queue/ that may be leftovers (not entries' .env files),
 * read before any is renamed: a directory renamed into while it is read
 * may list a name twice. At most max; a malloc'd array of names. */
static char (*list_candidates(int qfd, size_t max, size_t *n))[POOL_NAME_MAX]
{
    int dfd = dup(qfd);
    DIR *d = NULL;
    if (dfd >= 0 && (d = fdopendir(dfd)) == NULL)
        close(dfd);
    if (!d)
        return NULL;
    rewinddir(d);
    char(*names)[POOL_NAME_MAX] = NULL;
    size_t cap = 0;
    struct dirent *e;
    *n = 0;
    while (*n < max && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len >= POOL_NAME_MAX ||
            (len > 4 && strcmp(e->d_name + len - 4, ".env") == 0 &&
             !has_prefix(e->d_name, FREE_PREFIX) && !has_prefix(e->d_name, "tmp.")))
            continue;
        if (*n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            void *p = realloc(names, ncap * sizeof *names);
            if (!p)
                break;
            names = p;
            cap = ncap;
        }
        memcpy(names[(*n)++], e->d_name, len + 1);
    }
    closedir(d);
    return names;
}

/* Takes in (or unlinks, past the bounds) the leftovers of earlier runs. A
 * free file seen here still waits for the next fsync of queue/: its name
 * may not be durable yet. A leftover with a second link (a crash of a
 * journal-less file system can leave a renamed file under both names) is
 * unlinked by queue_pool_remove, never reused: its other name may be a live entry. */
static void take_leftovers(int qfd, time_t before)
{
    size_t n = 0;
    char(*names)[POOL_NAME_MAX] = list_candidates(qfd, 10000000, &n);
    struct stat st;
    for (size_t i = 0; i < n; i++)
        if (fstatat(qfd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            is_leftover(qfd, names[i], &st, before))
            queue_pool_remove(qfd, names[i]);
    free(names);
}

int queue_pool_start(int qfd, time_t before)
{
    struct stat st;
    if (fstat(qfd, &st) < 0)
        return -1;
    pthread_mutex_lock(&pool.mu);
    pool.on = true;
    pool.dev = st.st_dev;
    pool.ino = st.st_ino;
    pool.head = pool.count = 0;
    pool.bytes = 0;
    pool.synced = 0;
    pthread_mutex_unlock(&pool.mu);
    take_leftovers(qfd, before);
    return 0;
}

void queue_pool_stop(void)
{
    pthread_mutex_lock(&pool.mu);
    pool.on = false;
    pool.count = 0;
    pool.bytes = 0;
    pthread_mutex_unlock(&pool.mu);
}

size_t queue_pool_ready(void)
{
    size_t n = 0;
    pthread_mutex_lock(&pool.mu);
    for (size_t i = 0; i < pool.count; i++)
        if (pool.ring[(pool.head + i) % POOL_MAX].mark <= pool.synced)
            n++;
    pthread_mutex_unlock(&pool.mu);
    return n;
}
