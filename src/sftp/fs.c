/* fs: the requests that name paths (draft-02 6.5-6.10): STAT, LSTAT,
 * SETSTAT, REMOVE, MKDIR, RMDIR, REALPATH, RENAME, READLINK, SYMLINK, and
 * hardlink@openssh.com, statvfs@openssh.com. Every path goes through the
 * sandbox (store/sandbox.h); every change of a directory is fsynced before
 * the reply, as FTP's are. */
#include "sftp/sftp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "core/log.h"
#include "sftp/ext.h"
#include "store/sandbox.h"

/* Decodes the request's first (and second) path; replies on failure. */
static int path_arg(struct sftp *s, const struct sftp_req *r, const struct sftp_str *p,
                    char *out)
{
    if (sftp_path(p, out) < 0) {
        sftp_status_errno(s, r->id, errno);
        return -1;
    }
    return 0;
}

/* OK after the change of vpath's directory is durable. */
static void reply_synced(struct sftp *s, uint32_t id, int rc, const char *vpath)
{
    if (rc == 0)
        rc = sandbox_sync_parent(s->rootfd, vpath);
    if (rc < 0)
        sftp_status_errno(s, id, errno);
    else
        sftp_status(s, id, SSH_FX_OK, "");
}

void sftp_req_stat(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    struct stat st;
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    if (sandbox_stat(s->rootfd, vpath, &st) < 0)
        sftp_status_errno(s, r->id, errno);
    else
        sftp_reply_attrs(s, r->id, &st);
}

static int lstat_v(struct sftp *s, const char *vpath, struct stat *st)
{
    char leaf[NAME_MAX + 1];
    if (strcmp(vpath, "/") == 0)
        return fstat(s->rootfd, st);
    int dfd = sandbox_open_parent(s->rootfd, vpath, leaf, sizeof leaf);
    if (dfd < 0)
        return -1;
    int rc = fstatat(dfd, leaf, st, AT_SYMLINK_NOFOLLOW);
    int e = errno;
    close(dfd);
    errno = e;
    return rc;
}

void sftp_req_lstat(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    struct stat st;
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    if (lstat_v(s, vpath, &st) < 0)
        sftp_status_errno(s, r->id, errno);
    else
        sftp_reply_attrs(s, r->id, &st);
}

/* Growing a file with SETSTAT counts against the quota like a WRITE. */
static bool size_fits(struct sftp *s, int fd, const struct sftp_attrs *a)
{
    struct stat st;
    if (!(a->flags & SSH_FILEXFER_ATTR_SIZE) || s->quota == 0 || fstat(fd, &st) < 0 ||
        a->size <= (uint64_t)st.st_size)
        return true;
    return a->size - (uint64_t)st.st_size <= sftp_quota_room(s);
}

void sftp_req_setstat(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    int mode = (r->attrs.flags & SSH_FILEXFER_ATTR_SIZE) ? O_WRONLY : O_RDONLY;
    int fd = sandbox_open(s->rootfd, vpath, mode | O_NONBLOCK | O_NOCTTY, 0);
    if (fd < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    int rc = 0;
    if (!size_fits(s, fd, &r->attrs)) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Quota exceeded");
        close(fd);
        return;
    }
    rc = sftp_apply_attrs(fd, &r->attrs);
    if (rc == 0 && (r->attrs.flags & SSH_FILEXFER_ATTR_SIZE))
        rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc < 0)
        sftp_status_errno(s, r->id, e);
    else
        sftp_status(s, r->id, SSH_FX_OK, "");
}

void sftp_req_remove(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    int rc = sandbox_unlink(s->rootfd, vpath);
    if (rc == 0)
        log_info(s->sid, "sftp remove path=%s", vpath);
    reply_synced(s, r->id, rc, vpath);
}

void sftp_req_mkdir(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    mode_t mode = 0755;
    if (r->attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
        mode = r->attrs.perm & 0777;
    reply_synced(s, r->id, sandbox_mkdir(s->rootfd, vpath, mode), vpath);
}

void sftp_req_rmdir(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    reply_synced(s, r->id, sandbox_rmdir(s->rootfd, vpath), vpath);
}

void sftp_req_realpath(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    sftp_reply_name1(s, r->id, vpath); /* lexical: "" and "." are "/" */
}

/* Two paths' parent directories and leaves; both fds or neither. */
struct two_paths {
    char from[STORE_MAX_PATH + 1], to[STORE_MAX_PATH + 1];
    char fleaf[NAME_MAX + 1], tleaf[NAME_MAX + 1];
    int ffd, tfd;
};

static int two_paths_open(struct sftp *s, const struct sftp_req *r, struct two_paths *t)
{
    t->ffd = t->tfd = -1;
    if (path_arg(s, r, &r->a, t->from) < 0 || path_arg(s, r, &r->b, t->to) < 0)
        return -1;
    t->ffd = sandbox_open_parent(s->rootfd, t->from, t->fleaf, sizeof t->fleaf);
    if (t->ffd >= 0)
        t->tfd = sandbox_open_parent(s->rootfd, t->to, t->tleaf, sizeof t->tleaf);
    if (t->tfd < 0) {
        int e = errno;
        if (t->ffd >= 0)
            close(t->ffd);
        sftp_status_errno(s, r->id, e);
        return -1;
    }
    return 0;
}

/* Both directories made durable, then the reply. */
static void two_paths_done(struct sftp *s, uint32_t id, struct two_paths *t, int rc)
{
    int e = errno;
    if (rc == 0)
        rc = fsync(t->tfd);
    if (rc == 0 && strcmp(t->from, t->to) != 0)
        rc = fsync(t->ffd);
    if (rc < 0 && e == 0)
        e = errno;
    close(t->ffd);
    close(t->tfd);
    if (rc < 0)
        sftp_status_errno(s, id, e);
    else
        sftp_status(s, id, SSH_FX_OK, "");
}

/* draft-02 6.5: RENAME fails if newpath exists; posix-rename@openssh.com
 * (PROTOCOL 4.3) replaces it, as rename(2). */
static void rename_paths(struct sftp *s, const struct sftp_req *r, bool replace)
{
    struct two_paths t;
    if (two_paths_open(s, r, &t) < 0)
        return;
    errno = 0;
    int rc = renameat2(t.ffd, t.fleaf, t.tfd, t.tleaf, replace ? 0 : RENAME_NOREPLACE);
    if (rc == 0)
        log_info(s->sid, "sftp rename from=%s to=%s", t.from, t.to);
    two_paths_done(s, r->id, &t, rc);
}

void sftp_req_rename(struct sftp *s, const struct sftp_req *r)
{
    if (r->type == SSH_FXP_EXTENDED)
        rename_paths(s, r, true);
    else
        rename_paths(s, r, false);
}

/* hardlink@openssh.com (PROTOCOL 4.9): oldpath, newpath; both inside. */
void sftp_req_hardlink(struct sftp *s, const struct sftp_req *r)
{
    struct two_paths t;
    if (two_paths_open(s, r, &t) < 0)
        return;
    errno = 0;
    two_paths_done(s, r->id, &t, linkat(t.ffd, t.fleaf, t.tfd, t.tleaf, 0));
}

void sftp_req_readlink(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1], leaf[NAME_MAX + 1], target[PATH_MAX];
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    int dfd = sandbox_open_parent(s->rootfd, vpath, leaf, sizeof leaf);
    ssize_t n = dfd >= 0 ? readlinkat(dfd, leaf, target, sizeof target - 1) : -1;
    int e = errno;
    if (dfd >= 0)
        close(dfd);
    if (n < 0) {
        sftp_status_errno(s, r->id, e);
        return;
    }
    target[n] = '\0';
    sftp_reply_name1(s, r->id, target);
}

/* A symlink may only point inside the area: the target is relative and its
 * ".." never climbs above the root from the link's directory. (Absolute
 * targets are refused: on disk they would name the server's own tree.) */
static bool target_inside(const struct sftp_str *t, const char *link_vpath)
{
    int depth = 0;
    for (const char *p = link_vpath + 1; *p != '\0'; p++)
        if (*p == '/')
            depth++;
    if (t->len == 0 || t->p[0] == '/' || memchr(t->p, '\0', t->len) != NULL)
        return false;
    size_t i = 0;
    while (i < t->len) {
        size_t j = i;
        while (j < t->len && t->p[j] != '/')
            j++;
        size_t n = j - i;
        size_t plen = strlen(STORE_UPLOAD_PREFIX);
        if (n >= plen && memcmp(t->p + i, STORE_UPLOAD_PREFIX, plen) == 0)
            return false; /* reserved names are never reachable */
        if (n == 2 && t->p[i] == '.' && t->p[i + 1] == '.')
            depth--;
        else if (n > 0 && !(n == 1 && t->p[i] == '.'))
            depth++;
        if (depth < 0)
            return false;
        i = j + 1;
    }
    return true;
}

/* draft-02 6.10 names (linkpath, targetpath), but OpenSSH's sftp-server
 * and every client that talks to it send (targetpath, linkpath); we follow
 * OpenSSH (its PROTOCOL file, section 4.1). */
void sftp_req_symlink(struct sftp *s, const struct sftp_req *r)
{
    char link[STORE_MAX_PATH + 1], leaf[NAME_MAX + 1], target[PATH_MAX];
    if (path_arg(s, r, &r->b, link) < 0)
        return;
    if (r->a.len >= sizeof target || !target_inside(&r->a, link)) {
        log_info(s->sid, "sftp symlink_refused link=%s", link);
        sftp_status(s, r->id, SSH_FX_PERMISSION_DENIED,
                    "Symlink targets must be relative and stay inside your file area");
        return;
    }
    memcpy(target, r->a.p, r->a.len);
    target[r->a.len] = '\0';
    int dfd = sandbox_open_parent(s->rootfd, link, leaf, sizeof leaf);
    int rc = dfd >= 0 ? symlinkat(target, dfd, leaf) : -1;
    if (rc == 0)
        rc = fsync(dfd);
    int e = errno;
    if (dfd >= 0)
        close(dfd);
    if (rc < 0)
        sftp_status_errno(s, r->id, e);
    else
        sftp_status(s, r->id, SSH_FX_OK, "");
}

void sftp_req_statvfs(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    struct statvfs v;
    if (path_arg(s, r, &r->a, vpath) < 0)
        return;
    int fd = sandbox_open(s->rootfd, vpath, O_PATH, 0);
    int rc = fd >= 0 ? fstatvfs(fd, &v) : -1;
    int e = errno;
    if (fd >= 0)
        close(fd);
    if (rc < 0)
        sftp_status_errno(s, r->id, e);
    else
        sftp_reply_statvfs(s, r->id, &v);
}
