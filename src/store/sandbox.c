/* sandbox: lexical joining of client paths into virtual absolute paths, and
 * every file-system operation on them, resolved beneath a user's root fd with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) (DESIGN.md "Storage").
 * Also owns the creation of the per-user tree users/<domain>/<local>/. */
#include "store/sandbox.h"

#include "core/limits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* openat2(2) may fail with EAGAIN when a concurrent rename races a ".."
 * lookup; retrying a few times is what the man page recommends. */
#define SANDBOX_OPEN_RETRIES 8

/* ---- lexical join ------------------------------------------------------ */

/* The path being built: out[0..len) is "" (the root) or "/a/b". Components
 * that do not fit are only counted in overflow, so a later ".." can still
 * cancel them and the length check applies to the final result only. */
struct join_buf {
    char *out;
    size_t len;
    size_t max;
    size_t overflow;
};

static int join_push(struct join_buf *b, const char *name, size_t n)
{
    if (n > NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (b->overflow > 0 || n + 1 > b->max - b->len) {
        b->overflow++;
        return 0;
    }
    b->out[b->len] = '/';
    memcpy(b->out + b->len + 1, name, n);
    b->len += n + 1;
    return 0;
}

/* ".." removes the last component; at the root it stays at the root. */
static void join_pop(struct join_buf *b)
{
    if (b->overflow > 0) {
        b->overflow--;
        return;
    }
    while (b->len > 0 && b->out[--b->len] != '/')
        ;
}

static int join_walk(struct join_buf *b, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        while (i < n && p[i] == '/')
            i++;
        size_t start = i;
        while (i < n && p[i] != '/')
            i++;
        size_t clen = i - start;
        if (clen == 0 || (clen == 1 && p[start] == '.'))
            continue;
        if (clen == 2 && p[start] == '.' && p[start + 1] == '.') {
            join_pop(b);
            continue;
        }
        if (clen >= sizeof STORE_UPLOAD_PREFIX - 1 &&
            memcmp(p + start, STORE_UPLOAD_PREFIX, sizeof STORE_UPLOAD_PREFIX - 1) == 0) {
            errno = EACCES; /* another session's upload in progress */
            return -1;
        }
        if (join_push(b, p + start, clen) < 0)
            return -1;
    }
    return 0;
}

static int join_finish(struct join_buf *b)
{
    if (b->overflow > 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (b->len == 0)
        b->out[b->len++] = '/';
    b->out[b->len] = '\0';
    return 0;
}

static int join_fail(char *out, size_t outlen, int err)
{
    if (out != NULL && outlen > 0)
        out[0] = '\0';
    errno = err;
    return -1;
}

int sandbox_join(const char *cwd, const char *path, size_t len, char *out, size_t outlen)
{
    if (out == NULL || outlen == 0 || (path == NULL && len > 0))
        return join_fail(out, outlen, EINVAL);
    if (cwd == NULL)
        cwd = "/";
    if (cwd[0] != '/' || (len > 0 && memchr(path, '\0', len) != NULL))
        return join_fail(out, outlen, EINVAL);
    if (outlen < 2)
        return join_fail(out, outlen, ENAMETOOLONG);
    struct join_buf b = {.out = out, .max = outlen - 1};
    if (b.max > STORE_MAX_PATH)
        b.max = STORE_MAX_PATH;
    bool absolute = len > 0 && path[0] == '/';
    if (!absolute && join_walk(&b, cwd, strlen(cwd)) < 0)
        return join_fail(out, outlen, errno);
    if (join_walk(&b, path, len) < 0 || join_finish(&b) < 0)
        return join_fail(out, outlen, errno);
    return 0;
}

/* ---- names and virtual paths ------------------------------------------- */

bool store_is_upload_temp(const char *name)
{
    return strncmp(name, STORE_UPLOAD_PREFIX, sizeof STORE_UPLOAD_PREFIX - 1) == 0;
}

int sandbox_valid_name(const char *name)
{
    if (name == NULL || name[0] == '\0' || strcmp(name, ".") == 0 ||
        strcmp(name, "..") == 0 || strchr(name, '/') != NULL) {
        errno = EINVAL;
        return -1;
    }
    if (strnlen(name, NAME_MAX + 1) > NAME_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Defense in depth: callers pass sandbox_join output, which starts with '/'
 * and never holds "..", but openat2 is not the only guard we want. */
static int vpath_check(const char *vpath)
{
    if (vpath == NULL || vpath[0] != '/') {
        errno = EINVAL;
        return -1;
    }
    if (strnlen(vpath, STORE_MAX_PATH + 1) > STORE_MAX_PATH) {
        errno = ENAMETOOLONG;
        return -1;
    }
    /* p[-1] is safe: vpath[0] is '/', so p[0] == '.' implies p > vpath */
    for (const char *p = vpath; *p != '\0'; p++) {
        if (p[0] == '.' && p[1] == '.' && p[-1] == '/' && (p[2] == '/' || p[2] == '\0')) {
            errno = EINVAL;
            return -1;
        }
    }
    return 0;
}

/* "/a/b" becomes "a/b" relative to the root fd; "/" becomes ".". */
static const char *vpath_relative(const char *vpath)
{
    while (*vpath == '/')
        vpath++;
    return *vpath == '\0' ? "." : vpath;
}

static bool flags_take_mode(int flags)
{
    return (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
}

/* ---- opening ----------------------------------------------------------- */

static int openat2_retry(int dirfd, const char *rel, struct open_how *how)
{
    for (int i = 0; i < SANDBOX_OPEN_RETRIES; i++) {
        long fd = syscall(SYS_openat2, dirfd, rel, how, sizeof *how);
        if (fd >= 0)
            return (int)fd;
        if (errno != EAGAIN)
            return -1;
    }
    return -1;
}

int sandbox_open(int rootfd, const char *vpath, int flags, mode_t mode)
{
    if (vpath_check(vpath) < 0)
        return -1;
    struct open_how how = {
        .flags = (unsigned long long)(unsigned)(flags | O_CLOEXEC),
        .mode = flags_take_mode(flags) ? mode : 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    return openat2_retry(rootfd, vpath_relative(vpath), &how);
}

int sandbox_open_nolinks(int rootfd, const char *vpath, int flags)
{
    if (vpath_check(vpath) < 0)
        return -1;
    struct open_how how = {
        .flags = (unsigned long long)(unsigned)(flags | O_CLOEXEC),
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
    };
    return openat2_retry(rootfd, vpath_relative(vpath), &how);
}

/* Splits vpath at its last '/': parent (NUL-terminated, "/" for top-level
 * names) into parent, and a pointer to the leaf inside vpath. */
static const char *split_parent(const char *vpath, char *parent, size_t parentlen)
{
    const char *slash = strrchr(vpath, '/');
    size_t plen = slash == vpath ? 1 : (size_t)(slash - vpath);
    if (plen >= parentlen) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    memcpy(parent, vpath, plen);
    parent[plen] = '\0';
    return slash + 1;
}

int sandbox_open_parent(int rootfd, const char *vpath, char *leaf, size_t leaflen)
{
    char parent[STORE_MAX_PATH + 1];
    if (leaf == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (vpath_check(vpath) < 0)
        return -1;
    const char *name = split_parent(vpath, parent, sizeof parent);
    if (name == NULL || sandbox_valid_name(name) < 0)
        return -1;
    size_t n = strlen(name);
    if (n >= leaflen) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(leaf, name, n + 1);
    return sandbox_open(rootfd, parent, O_RDONLY | O_DIRECTORY, 0);
}

/* ---- operations -------------------------------------------------------- */

/* Closes fd keeping the errno of the operation that came before. */
static int close_keep_errno(int fd, int rc)
{
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

int sandbox_stat(int rootfd, const char *vpath, struct stat *st)
{
    int fd = sandbox_open(rootfd, vpath, O_PATH, 0);
    if (fd < 0)
        return -1;
    return close_keep_errno(fd, fstat(fd, st) < 0 ? -1 : 0);
}

int sandbox_mkdir(int rootfd, const char *vpath, mode_t mode)
{
    char leaf[NAME_MAX + 1];
    int dfd = sandbox_open_parent(rootfd, vpath, leaf, sizeof leaf);
    if (dfd < 0)
        return -1;
    return close_keep_errno(dfd, mkdirat(dfd, leaf, mode) < 0 ? -1 : 0);
}

static int unlink_leaf(int rootfd, const char *vpath, int atflags)
{
    char leaf[NAME_MAX + 1];
    int dfd = sandbox_open_parent(rootfd, vpath, leaf, sizeof leaf);
    if (dfd < 0)
        return -1;
    return close_keep_errno(dfd, unlinkat(dfd, leaf, atflags) < 0 ? -1 : 0);
}

int sandbox_rmdir(int rootfd, const char *vpath)
{
    return unlink_leaf(rootfd, vpath, AT_REMOVEDIR);
}

int sandbox_unlink(int rootfd, const char *vpath)
{
    return unlink_leaf(rootfd, vpath, 0);
}

int sandbox_rename(int rootfd, const char *from, const char *to)
{
    char fleaf[NAME_MAX + 1], tleaf[NAME_MAX + 1];
    int ffd = sandbox_open_parent(rootfd, from, fleaf, sizeof fleaf);
    if (ffd < 0)
        return -1;
    int tfd = sandbox_open_parent(rootfd, to, tleaf, sizeof tleaf);
    if (tfd < 0)
        return close_keep_errno(ffd, -1);
    int rc = renameat(ffd, fleaf, tfd, tleaf) < 0 ? -1 : 0;
    close_keep_errno(tfd, rc);
    return close_keep_errno(ffd, rc);
}

/* ---- per-user tree ----------------------------------------------------- */

/* Creates dirfd/name (0700) if missing and opens it; O_NOFOLLOW refuses a
 * symlink planted in its place. Consumes (closes) dirfd when close_parent.
 * A new directory's parent is fsynced, so a message acknowledged inside it
 * cannot lose its path to a crash. Open first: on every call but the first
 * the directory is there, and a failing mkdirat is a wasted system call. */
static int subdir_open(int dirfd, const char *name, bool close_parent)
{
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(dirfd, name, flags);
    if (fd < 0 && errno == ENOENT &&
        (mkdirat(dirfd, name, 0700) == 0 || errno == EEXIST)) {
        fd = openat(dirfd, name, flags);
        if (fd >= 0 && fsync(dirfd) < 0)
            fd = close_keep_errno(fd, -1);
    }
    if (close_parent)
        close_keep_errno(dirfd, 0);
    return fd;
}

static int subdir_ensure(int dirfd, const char *name)
{
    int fd = subdir_open(dirfd, name, false);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

int store_user_dir_open(int datadirfd, const char *domain, const char *local)
{
    if (sandbox_valid_name(domain) < 0 || sandbox_valid_name(local) < 0)
        return -1;
    int fd = subdir_open(datadirfd, "users", false);
    if (fd >= 0)
        fd = subdir_open(fd, domain, true);
    if (fd >= 0)
        fd = subdir_open(fd, local, true);
    if (fd < 0)
        return -1;
    if (subdir_ensure(fd, "files") < 0 || subdir_ensure(fd, "mail") < 0)
        return close_keep_errno(fd, -1);
    return fd;
}

int store_mail_dir_open(int datadirfd, const char *domain, const char *local)
{
    char rel[16 + 2 * (NAME_MAX + 1)];
    if (sandbox_valid_name(domain) < 0 || sandbox_valid_name(local) < 0)
        return -1;
    /* Once the tree exists (every call but an account's first): one lookup
     * that, like the O_NOFOLLOW steps below, follows no symlink. */
    struct open_how how = {
        .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    };
    snprintf(rel, sizeof rel, "users/%s/%s/mail", domain, local);
    int fd = openat2_retry(datadirfd, rel, &how);
    if (fd >= 0 || errno != ENOENT)
        return fd;
    int ufd = store_user_dir_open(datadirfd, domain, local);
    if (ufd < 0)
        return -1;
    fd = openat(ufd, "mail", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return close_keep_errno(ufd, fd);
}

int store_files_root_open(int datadirfd, const char *domain, const char *local)
{
    int ufd = store_user_dir_open(datadirfd, domain, local);
    if (ufd < 0)
        return -1;
    int fd = openat(ufd, "files", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    return close_keep_errno(ufd, fd);
}

int sandbox_sync_parent(int rootfd, const char *vpath)
{
    char leaf[NAME_MAX + 1];
    int dirfd = sandbox_open_parent(rootfd, vpath, leaf, sizeof leaf);
    if (dirfd < 0)
        return -1;
    return close_keep_errno(dirfd, fsync(dirfd));
}
