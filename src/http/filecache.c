/* filecache: per loop thread, the web root's descriptor and up to
 * HTTP_FILECACHE_ENTRIES of its files, kept open with their stat results.
 *
 * Never stale, never beside the sandbox:
 * - a path is cached only when openat2 resolves it beneath the web root
 *   with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (as every open) and
 *   RESOLVE_NO_SYMLINKS, so it names exactly the directories it spells; the
 *   key is that normalised path beneath this loop's root. A path through a
 *   symlink is opened the ordinary way, uncached;
 * - only regular files with one link are kept (no other name to change
 *   them through);
 * - inotify watches the root, every directory on the path (each watched
 *   before the next is opened) and the file: any write, attribute change,
 *   rename or removal there queues an event, inside the system call that
 *   made the change. http_filecache_root reads the inotify descriptor
 *   before every request (one non-blocking read, EAGAIN when nothing
 *   changed) and any event empties the whole cache and reopens the root.
 *   A request sent after a change returned therefore never sees the old
 *   file. */
#include "http/filecache.h"

#include "core/config.h"
#include "core/loop.h"
#include "http/http.h"
#include "store/sandbox.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* Watches added before the cache starts over (inotify watches are a
 * per-user kernel resource; evicted entries keep theirs until then). */
#define FILECACHE_MAX_WATCHES 1024
#define WATCH_DIR                                                                        \
    (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE |  \
     IN_DELETE_SELF | IN_MOVE_SELF)
#define WATCH_FILE                                                                       \
    (IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF)

struct entry {
    uint64_t hash;
    char *vpath;
    uint64_t used; /* the tick of its last hit (the least recent goes) */
    struct http_cached file;
};

struct filecache {
    int root_fd; /* data_dir/www, -1 until opened */
    int ifd;     /* inotify, -1 with the root */
    unsigned watches;
    uint64_t tick;
    int n;
    struct entry e[HTTP_FILECACHE_ENTRIES];
};

static struct filecache *state(struct loop *loop, bool create)
{
    struct filecache *fc = loop->svc_state[SVC_HTTP];
    if (fc || !create)
        return fc;
    fc = calloc(1, sizeof *fc);
    if (!fc)
        return NULL;
    fc->root_fd = fc->ifd = -1;
    loop->svc_state[SVC_HTTP] = fc;
    loop->svc_state_free[SVC_HTTP] = http_filecache_free;
    return fc;
}

static void entry_free(struct entry *e)
{
    if (e->file.seg)
        evbuffer_file_segment_free(e->file.seg); /* closes the fd after the last send */
    free(e->vpath);
    *e = (struct entry){0};
}

static void empty(struct filecache *fc)
{
    for (int i = 0; i < fc->n; i++)
        entry_free(&fc->e[i]);
    fc->n = 0;
    fc->watches = 0;
    if (fc->root_fd >= 0)
        close(fc->root_fd);
    if (fc->ifd >= 0)
        close(fc->ifd);
    fc->root_fd = fc->ifd = -1;
}

void http_filecache_free(void *p)
{
    struct filecache *fc = p;
    if (!fc)
        return;
    empty(fc);
    free(fc);
}

static int watch(struct filecache *fc, int fd, uint32_t mask)
{
    char path[32];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (inotify_add_watch(fc->ifd, path, mask) < 0)
        return -1;
    fc->watches++;
    return 0;
}

/* Anything queued on the watches (or a failing read) means a change. */
static bool changed(struct filecache *fc)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    ssize_t r = read(fc->ifd, buf, sizeof buf);
    return !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The root is watched first, then checked to still be data_dir/www (a
 * rename between the open and the watch would go unseen otherwise). */
static int open_root(struct filecache *fc)
{
    struct stat a, b;
    fc->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fc->ifd >= 0)
        fc->root_fd =
            openat(runtime->datadir_fd, "www", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fc->root_fd < 0 || watch(fc, fc->root_fd, WATCH_DIR | IN_ONLYDIR) < 0 ||
        fstat(fc->root_fd, &a) < 0 || fstatat(runtime->datadir_fd, "www", &b, 0) < 0 ||
        !same_file(&a, &b)) {
        empty(fc);
        return -1;
    }
    return 0;
}

int http_filecache_root(struct loop *loop)
{
    struct filecache *fc = runtime ? state(loop, true) : NULL;
    if (!fc)
        return -1;
    if (fc->ifd >= 0 && (changed(fc) || fc->watches > FILECACHE_MAX_WATCHES))
        empty(fc);
    if (fc->root_fd < 0 && open_root(fc) < 0)
        return -1;
    return fc->root_fd;
}

bool http_filecache_covers(struct loop *loop, int rootfd)
{
    struct filecache *fc = state(loop, false);
    return fc && rootfd >= 0 && fc->root_fd == rootfd;
}

static uint64_t path_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static struct entry *lookup(struct filecache *fc, const char *vpath, uint64_t hash)
{
    for (int i = 0; i < fc->n; i++)
        if (fc->e[i].hash == hash && strcmp(fc->e[i].vpath, vpath) == 0)
            return &fc->e[i];
    return NULL;
}

/* Every directory between the root and the leaf, outermost first, each
 * watched before the next is resolved. -1 when one cannot be (the plain
 * open then reports why). */
static int watch_dirs(struct filecache *fc, const char *vpath)
{
    char dir[STORE_MAX_PATH + 1];
    size_t len = strlen(vpath);
    if (len >= sizeof dir)
        return -1;
    for (size_t i = 1; i < len; i++) {
        if (vpath[i] != '/')
            continue;
        memcpy(dir, vpath, i);
        dir[i] = '\0';
        int fd = sandbox_open_nolinks(fc->root_fd, dir, O_PATH | O_DIRECTORY);
        if (fd < 0)
            return -1;
        int rc = watch(fc, fd, WATCH_DIR | IN_ONLYDIR);
        close(fd);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int http_open_plain(int rootfd, const char *vpath, struct http_open *o)
{
    o->hit = NULL;
    o->fd = sandbox_open(rootfd, vpath, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    if (o->fd < 0)
        return -1;
    if (fstat(o->fd, &o->st) < 0) {
        int e = errno;
        close(o->fd);
        o->fd = -1;
        errno = e;
        return -1;
    }
    return 0;
}

static struct entry *slot(struct filecache *fc)
{
    if (fc->n < HTTP_FILECACHE_ENTRIES)
        return &fc->e[fc->n++];
    struct entry *old = &fc->e[0];
    for (int i = 1; i < fc->n; i++)
        if (fc->e[i].used < old->used)
            old = &fc->e[i];
    entry_free(old);
    return old;
}

/* Small files are mapped (the head and body leave in one writev), larger
 * ones sent with sendfile; the segment owns fd. -1: fd still the caller's. */
static int keep(struct filecache *fc, const char *vpath, uint64_t hash, int fd,
                const struct stat *st)
{
    char *key = strdup(vpath);
    struct evbuffer_file_segment *seg = NULL;
    unsigned flags = EVBUF_FS_CLOSE_ON_FREE;
    if (st->st_size <= HTTP_INLINE_FILE)
        flags |= EVBUF_FS_DISABLE_SENDFILE;
    if (key && st->st_size > 0)
        seg = evbuffer_file_segment_new(fd, 0, st->st_size, flags);
    if (!key || (st->st_size > 0 && !seg)) {
        free(key);
        return -1;
    }
    if (!seg)
        close(fd); /* empty: nothing to send, nothing to keep open */
    struct entry *e = slot(fc);
    *e = (struct entry){.hash = hash, .vpath = key, .used = ++fc->tick};
    e->file.st = *st;
    e->file.seg = seg;
    return 0;
}

int http_filecache_open(struct loop *loop, const char *vpath, struct http_open *o)
{
    struct filecache *fc = state(loop, false);
    o->fd = -1;
    o->hit = NULL;
    uint64_t hash = path_hash(vpath);
    struct entry *e = lookup(fc, vpath, hash);
    if (e) {
        e->used = ++fc->tick;
        o->st = e->file.st;
        o->hit = &e->file;
        return 0;
    }
    if (watch_dirs(fc, vpath) < 0)
        return http_open_plain(fc->root_fd, vpath, o);
    int fd = sandbox_open_nolinks(fc->root_fd, vpath, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return errno == ELOOP ? http_open_plain(fc->root_fd, vpath, o) : -1;
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    bool cacheable = S_ISREG(st.st_mode) && st.st_nlink == 1;
    if (!cacheable || watch(fc, fd, WATCH_FILE) < 0 ||
        keep(fc, vpath, hash, fd, &st) < 0) {
        o->fd = fd;
        o->st = st;
        return 0;
    }
    e = lookup(fc, vpath, hash);
    o->st = e->file.st;
    o->hit = &e->file;
    return 0;
}
