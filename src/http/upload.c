/* upload: writes into the file area durably (DESIGN.md "Storage"): the body
 * goes to a hidden temporary name beside the target, then on the work pool
 * the file is fsynced, renamed over the target and the directory fsynced.
 * Only then is 201/204 (PUT, RFC 9110 9.3.4) or 303 (the form) sent. A
 * connection that dies mid-body leaves no temporary behind. */
#include "http/http.h"

#include "core/conn.h"
#include "core/fileio.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/workpool.h"
#include "http/multipart.h"
#include "store/sandbox.h"
#include "store/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Files one form submission may carry. */
#define HTTP_MAX_FORM_FILES 64

struct up_file {
    int fd;
    bool renamed;
    char tmp[64];
    char name[NAME_MAX + 1];
};

struct http_upload {
    struct http_conn *h;
    int dirfd;
    int n;          /* files[0..n) */
    bool existed;   /* PUT replaced a file: 204, else 201 */
    bool form;
    bool skipping;  /* a form part that is not a file */
    int err;        /* errno of the work pool's steps */
    struct http_multipart mp;
    struct up_file files[HTTP_MAX_FORM_FILES];
};

void http_upload_free(struct http_upload *u)
{
    if (!u)
        return;
    for (int i = 0; i < u->n; i++) {
        if (u->files[i].fd >= 0)
            close(u->files[i].fd);
        if (!u->files[i].renamed)
            unlinkat(u->dirfd, u->files[i].tmp, 0);
    }
    if (u->dirfd >= 0)
        close(u->dirfd);
    free(u);
}

static struct http_upload *upload_new(struct http_conn *h, int dirfd)
{
    struct http_upload *u = calloc(1, sizeof *u);
    if (!u) {
        close(dirfd);
        return NULL;
    }
    u->h = h;
    u->dirfd = dirfd;
    h->upload = u;
    return u;
}

static void upload_fail(struct http_conn *h, int err)
{
    http_upload_free(h->upload);
    h->upload = NULL;
    h->close_after = true;
    h->state = HS_HEAD;
    http_error_errno(h, err);
}

/* Opens a new temporary file for name; -1 with errno. */
static int temp_open(struct http_upload *u, const char *name)
{
    if (u->n == HTTP_MAX_FORM_FILES) {
        errno = EMFILE;
        return -1;
    }
    struct up_file *f = &u->files[u->n];
    if (store_upload_name(f->tmp, sizeof f->tmp, "http-%llx-%u-%d",
                          (unsigned long long)u->h->c->id, u->h->nreq, u->n) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    snprintf(f->name, sizeof f->name, "%s", name);
    f->fd = openat(u->dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (f->fd < 0)
        return -1;
    f->renamed = false;
    u->n++;
    return 0;
}

/* ---- finishing on the work pool ------------------------------------------- */

static void commit_work(void *arg)
{
    struct http_upload *u = arg;
    for (int i = 0; i < u->n && !u->err; i++) {
        struct up_file *f = &u->files[i];
        if (fsync(f->fd) < 0 || close(f->fd) < 0)
            u->err = errno;
        f->fd = -1;
        if (!u->err && renameat(u->dirfd, f->tmp, u->dirfd, f->name) < 0)
            u->err = errno;
        f->renamed = !u->err;
    }
    if (!u->err && fsync(u->dirfd) < 0)
        u->err = errno;
}

static void commit_done(void *arg)
{
    struct http_upload *u = arg;
    struct http_conn *h = u->h;
    struct conn *c = h->c;
    if (!c->closing) {
        h->upload = NULL;
        h->state = HS_HEAD;
        if (u->err) {
            http_error_errno(h, u->err);
        } else if (u->form) {
            log_info(c->id, "http upload user=%s files=%d", h->acct.address, u->n);
            http_redirect(h, 303, h->target.path.p, h->target.path.n); /* RFC 9110 15.4.4 */
        } else {
            log_info(c->id, "http put user=%s name=%s", h->acct.address, u->files[0].name);
            http_resp_start(h, u->existed ? 204 : 201);
            http_resp_end_head(h, 0);
            http_request_end(h);
        }
        http_upload_free(u);
    }
    conn_unref(c);
}

static void commit(struct http_conn *h)
{
    conn_ref(h->c);
    http_suspend(h);
    if (workpool_submit(runtime->pool, h->c->loop->base, commit_work, commit_done,
                        h->upload) < 0) {
        commit_work(h->upload);
        commit_done(h->upload);
    }
}

/* ---- PUT (RFC 9110 9.3.4) ---------------------------------------------------- */

static int put_data(struct http_conn *h, const char *p, size_t n)
{
    if (fd_write_all(h->upload->files[0].fd, p, n) < 0) {
        upload_fail(h, errno);
        return -1;
    }
    return 0;
}

static uint64_t body_limit(void)
{
    uint64_t q = runtime ? runtime->cfg->files_quota_bytes : 0;
    return q && q < HTTP_MAX_UPLOAD_BYTES ? q : HTTP_MAX_UPLOAD_BYTES;
}

void http_upload_put(struct http_conn *h, const char *vpath)
{
    char leaf[NAME_MAX + 1];
    if (h->target.trailing_slash || strcmp(vpath, "/") == 0) {
        http_error_close(h, 409, "PUT names a file, not a directory.");
        return;
    }
    int dirfd = sandbox_open_parent(h->files_fd, vpath, leaf, sizeof leaf);
    if (dirfd < 0) { /* RFC 9110 9.3.4: a missing parent is a conflict */
        int e = errno;
        h->close_after = true;
        (e == ENOENT ? http_error(h, 409, "The parent directory does not exist.")
                     : http_error_errno(h, e));
        return;
    }
    struct stat st;
    bool exists = fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
    const bool dir = exists && S_ISDIR(st.st_mode);
    bool no_overwrite = exists && http_request_get(&h->req, HH_IF_NONE_MATCH);
    if (dir || no_overwrite || store_is_upload_temp(leaf)) {
        close(dirfd);
        http_error_close(h, dir ? 409 : no_overwrite ? 412 : 403, "Cannot write that name.");
        return;
    }
    struct http_upload *u = upload_new(h, dirfd);
    if (!u || temp_open(u, leaf) < 0) {
        upload_fail(h, u ? errno : ENOMEM);
        return;
    }
    u->existed = exists;
    http_body_start(h, body_limit(), put_data, commit);
}

/* ---- the upload form (RFC 7578) ------------------------------------------------ */

static int form_part(void *arg, const char *hdr, size_t n)
{
    struct http_upload *u = arg;
    char name[NAME_MAX + 1];
    int rc = http_multipart_filename(hdr, n, name, sizeof name);
    u->skipping = rc <= 0;
    if (rc < 0 || (rc == 1 && sandbox_valid_name(name) < 0) ||
        (rc == 1 && store_is_upload_temp(name))) {
        u->err = EINVAL;
        return -1;
    }
    if (rc == 0)
        return 0;
    if (temp_open(u, name) < 0) {
        u->err = errno;
        return -1;
    }
    return 0;
}

static int form_data(void *arg, const char *p, size_t n)
{
    struct http_upload *u = arg;
    if (u->skipping)
        return 0;
    if (fd_write_all(u->files[u->n - 1].fd, p, n) < 0) {
        u->err = errno;
        return -1;
    }
    return 0;
}

static int form_end(void *arg)
{
    return 0;
}

static const struct http_multipart_cb form_cb = {form_part, form_data, form_end};

static int form_body(struct http_conn *h, const char *p, size_t n)
{
    struct http_upload *u = h->upload;
    if (http_multipart_feed(&u->mp, p, n) < 0) {
        int e = u->err;
        http_upload_free(u);
        h->upload = NULL;
        h->state = HS_HEAD;
        h->close_after = true;
        if (e == 0 || e == EINVAL)
            http_error(h, 400, "Malformed upload form.");
        else
            http_error_errno(h, e);
        return -1;
    }
    return 0;
}

static void form_complete(struct http_conn *h)
{
    if (!http_multipart_done(&h->upload->mp)) {
        http_upload_free(h->upload);
        h->upload = NULL;
        h->state = HS_HEAD;
        http_error(h, 400, "The upload form ended early.");
        return;
    }
    commit(h);
}

void http_upload_form(struct http_conn *h, const char *vpath)
{
    const struct http_str *ct = http_request_get(&h->req, HH_CONTENT_TYPE);
    int dirfd = sandbox_open(h->files_fd, vpath, O_RDONLY | O_DIRECTORY, 0);
    if (dirfd < 0) {
        h->close_after = true;
        http_error_errno(h, errno == ENOTDIR ? ENOENT : errno);
        return;
    }
    struct http_upload *u = upload_new(h, dirfd);
    if (!u) {
        upload_fail(h, ENOMEM);
        return;
    }
    u->form = true;
    if (!ct || http_multipart_init(&u->mp, *ct, &form_cb, u) < 0) {
        http_upload_free(u);
        h->upload = NULL;
        http_error_close(h, 415, "Send multipart/form-data.");
        return;
    }
    http_body_start(h, body_limit(), form_body, form_complete);
}
