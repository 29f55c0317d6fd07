/* file: OPEN, CLOSE, READ, WRITE, FSTAT, FSETSTAT, fsync@openssh.com and
 * fstatvfs@openssh.com (draft-02 6.3-6.6, 6.8-6.9; OpenSSH PROTOCOL 4.4,
 * 4.8). An OPEN that truncates or creates writes to a temporary name
 * (STORE_UPLOAD_PREFIX) beside the final one; CLOSE fsyncs it, renames it
 * into place and fsyncs the directory before it answers OK, so an
 * acknowledged upload survives a crash and a broken one leaves the old
 * file (DESIGN.md "Nothing acknowledged is ever lost"). Other writes go to
 * the file in place and CLOSE fsyncs it. */
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
#include "store/sweep.h"

#define WRITEBACK_EVERY (8u << 20) /* start writeback of uploads every 8 MiB */

static void open_read(struct sftp *s, const struct sftp_req *r, const char *vpath)
{
    int fd = sandbox_open(s->rootfd, vpath, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        sftp_status_errno(s, r->id, e);
        return;
    }
    struct sftp_handle *h = S_ISREG(st.st_mode) ? sftp_handle_new(s, SFTP_H_FILE) : NULL;
    if (h == NULL) {
        close(fd);
        sftp_status(s, r->id, SSH_FX_FAILURE,
                    S_ISREG(st.st_mode) ? "Too many open handles" : "Not a regular file");
        return;
    }
    h->fd = fd;
    h->can_read = true;
    sftp_handle_reply(s, r->id, h);
}

/* draft-02 6.3: which pflags combinations we serve. READ or WRITE is
 * needed; APPEND, CREAT, TRUNC and EXCL modify a write and mean nothing
 * (or, on Linux, truncate a file opened for reading) without WRITE. */
static const char *pflags_problem(uint32_t pf)
{
    if (!(pf & (SSH_FXF_READ | SSH_FXF_WRITE)))
        return "SSH_FXF_READ or SSH_FXF_WRITE is needed";
    if (!(pf & SSH_FXF_WRITE) &&
        (pf & (SSH_FXF_APPEND | SSH_FXF_CREAT | SSH_FXF_TRUNC | SSH_FXF_EXCL)))
        return "SSH_FXF_APPEND/CREAT/TRUNC/EXCL need SSH_FXF_WRITE";
    return NULL;
}

/* Opens the file a write handle writes to: a temp name, or the file. */
static int open_write_target(struct sftp *s, struct sftp_handle *h,
                             const struct sftp_req *r, const struct stat *old,
                             bool exists)
{
    uint32_t pf = r->pflags;
    mode_t mode = 0644;
    if (r->attrs.flags & SSH_FILEXFER_ATTR_PERMISSIONS)
        mode = r->attrs.perm & 0777;
    else if (exists)
        mode = old->st_mode & 0777;
    if (exists && !(pf & SSH_FXF_TRUNC)) { /* in place: resume, append, patch */
        int flags = O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
        if (pf & SSH_FXF_APPEND)
            flags |= O_APPEND;
        h->fd = openat(h->dirfd, h->leaf, flags);
        h->start_size = (uint64_t)old->st_size;
        return h->fd < 0 ? -1 : 0;
    }
    if (store_upload_name(h->tmp, sizeof h->tmp, "sftp-%llx-%u",
                          (unsigned long long)s->sid, ++s->tmp_seq) < 0) {
        h->tmp[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    h->fd = openat(h->dirfd, h->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (h->fd < 0) {
        h->tmp[0] = '\0';
        return -1;
    }
    fchmod(h->fd, mode); /* exactly the mode asked for, whatever the umask */
    return 0;
}

/* The quota: a file may grow by what is free in the area, and a file it
 * replaces frees its own size (as FTP STOR does). */
static void set_limit(struct sftp *s, struct sftp_handle *h, const struct stat *old,
                      bool exists)
{
    uint64_t room = sftp_quota_room(s);
    if (room == UINT64_MAX)
        return;
    h->limit = room + (exists ? (uint64_t)old->st_size : 0);
}

static int open_write(struct sftp *s, struct sftp_handle *h, const struct sftp_req *r,
                      const char *vpath, const char **msg)
{
    h->dirfd = sandbox_open_parent(s->rootfd, vpath, h->leaf, sizeof h->leaf);
    if (h->dirfd < 0)
        return -1;
    struct stat old;
    bool exists = fstatat(h->dirfd, h->leaf, &old, AT_SYMLINK_NOFOLLOW) == 0;
    if (!exists && errno != ENOENT)
        return -1;
    if (exists && S_ISLNK(old.st_mode)) {
        errno = ELOOP; /* as FTP: uploads never write through a symlink */
        return -1;
    }
    if (exists && !S_ISREG(old.st_mode)) {
        *msg = "Not a regular file";
        return -1;
    }
    if (!exists && !(r->pflags & SSH_FXF_CREAT)) {
        errno = ENOENT;
        return -1;
    }
    if (exists && (r->pflags & SSH_FXF_CREAT) && (r->pflags & SSH_FXF_EXCL)) {
        *msg = "File exists";
        return -1;
    }
    h->can_write = true;
    h->can_read = (r->pflags & SSH_FXF_READ) != 0;
    h->append = (r->pflags & SSH_FXF_APPEND) != 0;
    /* POSIX open(2): O_EXCL means nothing without O_CREAT. */
    h->excl = (r->pflags & SSH_FXF_EXCL) && (r->pflags & SSH_FXF_CREAT);
    if (open_write_target(s, h, r, &old, exists) < 0)
        return -1;
    set_limit(s, h, &old, exists);
    return 0;
}

void sftp_req_open(struct sftp *s, const struct sftp_req *r)
{
    char vpath[STORE_MAX_PATH + 1];
    const char *bad = pflags_problem(r->pflags);
    if (bad != NULL) {
        sftp_status(s, r->id, SSH_FX_BAD_MESSAGE, bad);
        return;
    }
    if (sftp_path(&r->a, vpath) < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    if (!(r->pflags & SSH_FXF_WRITE)) {
        open_read(s, r, vpath);
        return;
    }
    struct sftp_handle *h = sftp_handle_new(s, SFTP_H_FILE);
    if (h == NULL) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Too many open handles");
        return;
    }
    const char *msg = NULL;
    if (open_write(s, h, r, vpath, &msg) < 0) {
        int e = errno;
        sftp_handle_discard(h);
        sftp_handle_release(s, h);
        if (msg != NULL)
            sftp_status(s, r->id, SSH_FX_FAILURE, msg);
        else
            sftp_status_errno(s, r->id, e);
        return;
    }
    log_debug(s->sid, "sftp open name=%s pflags=0x%x temp=%d", h->leaf, r->pflags,
              h->tmp[0] != '\0');
    sftp_handle_reply(s, r->id, h);
}

/* Makes a written file durable and, for a temp name, puts it in place. */
static int commit(struct sftp_handle *h)
{
    if ((h->written || h->tmp[0] != '\0') && fsync(h->fd) < 0)
        return -1;
    if (h->tmp[0] == '\0')
        return 0;
    unsigned flags = h->excl ? RENAME_NOREPLACE : 0;
    if (renameat2(h->dirfd, h->tmp, h->dirfd, h->leaf, flags) < 0)
        return -1;
    h->tmp[0] = '\0';
    return fsync(h->dirfd);
}

void sftp_req_close(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_handle *h = sftp_handle_get(s, &r->a);
    if (h == NULL) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Invalid handle");
        return;
    }
    if (h->kind == SFTP_H_DIR) {
        closedir(h->dir);
        sftp_handle_release(s, h);
        sftp_status(s, r->id, SSH_FX_OK, "");
        return;
    }
    int rc = 0, e = 0;
    if (h->over_quota) {
        log_info(s->sid, "sftp upload_removed name=%s reason=quota", h->leaf);
        sftp_handle_discard(h);
        sftp_handle_release(s, h);
        sftp_status(s, r->id, SSH_FX_FAILURE, "Quota exceeded: the upload was removed");
        return;
    }
    if (h->can_write) {
        rc = commit(h);
        e = errno;
        if (rc == 0 && h->written)
            log_info(s->sid, "sftp upload name=%s", h->leaf);
    }
    sftp_handle_discard(h); /* after a commit only closes */
    sftp_handle_release(s, h);
    if (rc < 0)
        sftp_status_errno(s, r->id, e);
    else
        sftp_status(s, r->id, SSH_FX_OK, "");
}

/* pread straight into the DATA reply: its string length first, the data
 * after it, no copy through another buffer. */
static ssize_t read_into_reply(struct sftp *s, struct sftp_handle *h,
                               const struct sftp_req *r, size_t want)
{
    sftp_begin(&s->out, SSH_FXP_DATA, r->id);
    uint8_t *p = sftp_put_room(&s->out, 4 + want);
    if (p == NULL)
        return -1; /* out.failed ends the session */
    ssize_t n;
    do
        n = pread(h->fd, p + 4, want, (off_t)r->offset);
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        int e = errno;
        sftp_cancel(&s->out);
        errno = e;
        return n;
    }
    sftp_put_u32(&s->out, (uint32_t)n); /* at p: room was reserved */
    sftp_put_commit(&s->out, (size_t)n);
    sftp_end(&s->out);
    return n;
}

void sftp_req_read(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_handle *h = sftp_handle_get(s, &r->a);
    if (h == NULL || h->kind != SFTP_H_FILE) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Invalid handle");
        return;
    }
    if (!h->can_read) {
        sftp_status(s, r->id, SSH_FX_PERMISSION_DENIED, "Handle not open for reading");
        return;
    }
    size_t want = r->len < SFTP_MAX_DATA ? r->len : SFTP_MAX_DATA; /* draft-02 6.4 */
    if (want == 0) {
        sftp_begin(&s->out, SSH_FXP_DATA, r->id);
        sftp_put_str(&s->out, "", 0);
        sftp_end(&s->out);
        return;
    }
    ssize_t n = read_into_reply(s, h, r, want);
    if (n < 0 && s->out.failed)
        return;
    if (n < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    if (n == 0) {
        sftp_status(s, r->id, SSH_FX_EOF, "End of file");
        return;
    }
    s->bytes_read += (uint64_t)n;
}

static int write_all(struct sftp_handle *h, const uint8_t *p, size_t n, uint64_t off)
{
    while (n > 0) {
        ssize_t w = h->append ? write(h->fd, p, n) : pwrite(h->fd, p, n, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
        off += (uint64_t)w;
    }
    return 0;
}

/* Writeback starts every few MiB, so that CLOSE's fsync finds little left. */
static void writeback(struct sftp_handle *h, size_t n)
{
    h->unsynced += n;
    if (h->unsynced >= WRITEBACK_EVERY) {
        sync_file_range(h->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        h->unsynced = 0;
    }
}

void sftp_req_write(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_handle *h = sftp_handle_get(s, &r->a);
    if (h == NULL || h->kind != SFTP_H_FILE) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Invalid handle");
        return;
    }
    if (!h->can_write) {
        sftp_status(s, r->id, SSH_FX_PERMISSION_DENIED, "Handle not open for writing");
        return;
    }
    uint64_t end = r->offset + r->data.len;
    struct stat st;
    if (h->append && fstat(h->fd, &st) == 0)
        end = (uint64_t)st.st_size + r->data.len;
    if (h->over_quota || end < r->offset || end > h->limit) {
        h->over_quota = true;
        sftp_status(s, r->id, SSH_FX_FAILURE, "Quota exceeded");
        return;
    }
    if (write_all(h, r->data.p, r->data.len, r->offset) < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    h->written = true;
    s->bytes_written += r->data.len;
    writeback(h, r->data.len);
    sftp_status(s, r->id, SSH_FX_OK, "");
}

static int handle_fd(struct sftp_handle *h)
{
    if (h->kind == SFTP_H_DIR)
        return dirfd(h->dir);
    return h->fd;
}

void sftp_req_fstat(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_handle *h = sftp_handle_get(s, &r->a);
    struct stat st;
    if (h == NULL) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Invalid handle");
        return;
    }
    if (fstat(handle_fd(h), &st) < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    sftp_reply_attrs(s, r->id, &st);
}

void sftp_req_fsetstat(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_handle *h = sftp_handle_get(s, &r->a);
    if (h == NULL) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Invalid handle");
        return;
    }
    bool size = (r->attrs.flags & SSH_FILEXFER_ATTR_SIZE) != 0;
    if (size && (h->kind != SFTP_H_FILE || !h->can_write)) {
        sftp_status(s, r->id, SSH_FX_PERMISSION_DENIED, "Handle not open for writing");
        return;
    }
    if (size && r->attrs.size > h->limit) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Quota exceeded");
        return;
    }
    if (sftp_apply_attrs(handle_fd(h), &r->attrs) < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    if (size)
        h->written = true;
    sftp_status(s, r->id, SSH_FX_OK, "");
}

void sftp_req_fsync(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_handle *h = sftp_handle_get(s, &r->a);
    if (h == NULL) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Invalid handle");
        return;
    }
    if (fsync(handle_fd(h)) < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    sftp_status(s, r->id, SSH_FX_OK, "");
}

void sftp_req_fstatvfs(struct sftp *s, const struct sftp_req *r)
{
    struct sftp_handle *h = sftp_handle_get(s, &r->a);
    struct statvfs v;
    if (h == NULL) {
        sftp_status(s, r->id, SSH_FX_FAILURE, "Invalid handle");
        return;
    }
    if (fstatvfs(handle_fd(h), &v) < 0) {
        sftp_status_errno(s, r->id, errno);
        return;
    }
    sftp_reply_statvfs(s, r->id, &v);
}
