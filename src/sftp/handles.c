/* handles: the session object, the dispatch table of requests, the handle
 * table (a slot index and a generation, so a stale handle never names a
 * reused slot) and the helpers the handler files share. */
#include "sftp/sftp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "store/quota.h"
#include "store/sandbox.h"

#define HANDLE_LEN 8 /* uint32 slot, uint32 generation */

struct sftp *sftp_new(uint64_t sid, int rootfd, const char *user, const char *local,
                      uint64_t quota)
{
    struct sftp *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->sid = sid;
    s->rootfd = rootfd;
    s->quota = quota;
    snprintf(s->user, sizeof s->user, "%s", user);
    snprintf(s->owner, sizeof s->owner, "%s", local);
    sftp_out_init(&s->out);
    return s;
}

void sftp_free(struct sftp *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < SFTP_MAX_HANDLES; i++) {
        struct sftp_handle *h = s->handles[i];
        if (h == NULL)
            continue;
        if (h->kind == SFTP_H_DIR) {
            closedir(h->dir);
        } else {
            if (h->dirfd >= 0)
                log_info(s->sid, "sftp upload_abandoned name=%s", h->leaf);
            sftp_handle_discard(h);
        }
        free(h);
    }
    sftp_out_free(&s->out);
    if (s->rootfd >= 0)
        close(s->rootfd);
    free(s);
}

/* ---- handles ---- */

struct sftp_handle *sftp_handle_new(struct sftp *s, enum sftp_handle_kind kind)
{
    if (s->nhandles >= SFTP_MAX_HANDLES)
        return NULL;
    for (int i = 0; i < SFTP_MAX_HANDLES; i++) {
        if (s->handles[i] != NULL)
            continue;
        struct sftp_handle *h = calloc(1, sizeof *h);
        if (h == NULL)
            return NULL;
        h->kind = kind;
        h->gen = ++s->gen;
        h->fd = h->dirfd = -1;
        h->limit = UINT64_MAX;
        s->handles[i] = h;
        s->nhandles++;
        return h;
    }
    return NULL;
}

static int slot_of(struct sftp *s, const struct sftp_handle *h)
{
    for (int i = 0; i < SFTP_MAX_HANDLES; i++)
        if (s->handles[i] == h)
            return i;
    return -1;
}

void sftp_handle_reply(struct sftp *s, uint32_t id, const struct sftp_handle *h)
{
    uint8_t b[HANDLE_LEN];
    uint32_t slot = (uint32_t)slot_of(s, h);
    for (int i = 0; i < 4; i++) {
        b[i] = (uint8_t)(slot >> (24 - 8 * i));
        b[4 + i] = (uint8_t)(h->gen >> (24 - 8 * i));
    }
    sftp_begin(&s->out, SSH_FXP_HANDLE, id);
    sftp_put_str(&s->out, b, sizeof b);
    sftp_end(&s->out);
}

struct sftp_handle *sftp_handle_get(struct sftp *s, const struct sftp_str *hs)
{
    if (hs->len != HANDLE_LEN)
        return NULL;
    uint32_t slot = 0, gen = 0;
    for (int i = 0; i < 4; i++) {
        slot = slot << 8 | hs->p[i];
        gen = gen << 8 | hs->p[4 + i];
    }
    if (slot >= SFTP_MAX_HANDLES || s->handles[slot] == NULL ||
        s->handles[slot]->gen != gen)
        return NULL;
    return s->handles[slot];
}

void sftp_handle_release(struct sftp *s, struct sftp_handle *h)
{
    int slot = slot_of(s, h);
    if (slot >= 0) {
        s->handles[slot] = NULL;
        s->nhandles--;
    }
    free(h);
}

void sftp_handle_discard(struct sftp_handle *h)
{
    if (h->tmp[0] != '\0' && h->dirfd >= 0)
        unlinkat(h->dirfd, h->tmp, 0); /* a broken upload leaves no half-file */
    else if (h->over_quota && h->fd >= 0)
        (void)!ftruncate(h->fd, (off_t)h->start_size);
    h->tmp[0] = '\0';
    if (h->fd >= 0)
        close(h->fd);
    if (h->dirfd >= 0)
        close(h->dirfd);
    h->fd = h->dirfd = -1;
}

/* ---- shared helpers ---- */

void sftp_status(struct sftp *s, uint32_t id, uint32_t code, const char *msg)
{
    sftp_put_status(&s->out, id, code, msg);
}

/* draft-02 7: the nearest status for an errno, with its text. */
void sftp_status_errno(struct sftp *s, uint32_t id, int err)
{
    uint32_t code = SSH_FX_FAILURE;
    if (err == ENOENT || err == ENOTDIR)
        code = SSH_FX_NO_SUCH_FILE;
    else if (err == EACCES || err == EPERM || err == EXDEV || err == ELOOP ||
             err == EROFS)
        code = SSH_FX_PERMISSION_DENIED;
    const char *msg = strerror(err);
    if (err == EXDEV || err == ELOOP)
        msg = "Path leaves your file area";
    sftp_status(s, id, code, msg);
}

int sftp_path(const struct sftp_str *p, char *out)
{
    char raw[STORE_MAX_PATH + 1];
    if (p->len > STORE_MAX_PATH) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(raw, p->p, p->len);
    raw[p->len] = '\0';
    /* The virtual cwd is the root: relative paths start at the file area. */
    if (sandbox_join("/", raw, p->len, out, STORE_MAX_PATH + 1) < 0)
        return -1;
    if (out[0] == '\0')
        snprintf(out, STORE_MAX_PATH + 1, "/");
    return 0;
}

void sftp_reply_name1(struct sftp *s, uint32_t id, const char *name)
{
    sftp_begin(&s->out, SSH_FXP_NAME, id);
    sftp_put_u32(&s->out, 1);
    sftp_put_cstr(&s->out, name);
    sftp_put_cstr(&s->out, name);
    sftp_put_u32(&s->out, 0); /* attrs: no fields */
    sftp_end(&s->out);
}

void sftp_reply_attrs(struct sftp *s, uint32_t id, const struct stat *st)
{
    sftp_begin(&s->out, SSH_FXP_ATTRS, id);
    sftp_put_stat(&s->out, st);
    sftp_end(&s->out);
}

int sftp_apply_attrs(int fd, const struct sftp_attrs *a)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return -1;
    if ((a->flags & SSH_FILEXFER_ATTR_UIDGID) &&
        (a->uid != st.st_uid || a->gid != st.st_gid)) {
        errno = EPERM; /* ownership never changes inside an area */
        return -1;
    }
    if ((a->flags & SSH_FILEXFER_ATTR_SIZE) && ftruncate(fd, (off_t)a->size) < 0)
        return -1;
    if ((a->flags & SSH_FILEXFER_ATTR_PERMISSIONS) && fchmod(fd, a->perm & 0777) < 0)
        return -1;
    if (a->flags & SSH_FILEXFER_ATTR_ACMODTIME) {
        struct timespec ts[2] = {{(time_t)a->atime, 0}, {(time_t)a->mtime, 0}};
        if (futimens(fd, ts) < 0)
            return -1;
    }
    return 0;
}

uint64_t sftp_quota_room(struct sftp *s)
{
    if (s->quota == 0)
        return UINT64_MAX;
    uint64_t used = quota_usage(s->rootfd);
    return used < s->quota ? s->quota - used : 0;
}

/* ---- dispatch ---- */

typedef void (*sftp_req_fn)(struct sftp *s, const struct sftp_req *r);

static const sftp_req_fn table[] = {
    [SSH_FXP_OPEN] = sftp_req_open,         [SSH_FXP_CLOSE] = sftp_req_close,
    [SSH_FXP_READ] = sftp_req_read,         [SSH_FXP_WRITE] = sftp_req_write,
    [SSH_FXP_LSTAT] = sftp_req_lstat,       [SSH_FXP_FSTAT] = sftp_req_fstat,
    [SSH_FXP_SETSTAT] = sftp_req_setstat,   [SSH_FXP_FSETSTAT] = sftp_req_fsetstat,
    [SSH_FXP_OPENDIR] = sftp_req_opendir,   [SSH_FXP_READDIR] = sftp_req_readdir,
    [SSH_FXP_REMOVE] = sftp_req_remove,     [SSH_FXP_MKDIR] = sftp_req_mkdir,
    [SSH_FXP_RMDIR] = sftp_req_rmdir,       [SSH_FXP_REALPATH] = sftp_req_realpath,
    [SSH_FXP_STAT] = sftp_req_stat,         [SSH_FXP_RENAME] = sftp_req_rename,
    [SSH_FXP_READLINK] = sftp_req_readlink, [SSH_FXP_SYMLINK] = sftp_req_symlink,
};

void sftp_dispatch(struct sftp *s, const struct sftp_req *r)
{
    if (r->type == SSH_FXP_INIT) {
        sftp_req_init(s, r);
        return;
    }
    if (r->type == SSH_FXP_EXTENDED) {
        sftp_req_extended(s, r);
        return;
    }
    if (r->type < sizeof table / sizeof *table && table[r->type] != NULL) {
        table[r->type](s, r);
        return;
    }
    sftp_status(s, r->id, SSH_FX_OP_UNSUPPORTED, "Unsupported request");
}

void sftp_reply_undecodable(struct sftp *s, const struct sftp_req *r, enum sftp_decode d)
{
    log_info(s->sid, "sftp bad_request type=%u result=%s", r->type,
             d == SFTP_DECODE_UNKNOWN ? "unsupported" : "malformed");
    if (d == SFTP_DECODE_UNKNOWN)
        sftp_status(s, r->id, SSH_FX_OP_UNSUPPORTED, "Unsupported request");
    else
        sftp_status(s, r->id, SSH_FX_BAD_MESSAGE, "Malformed request");
}
