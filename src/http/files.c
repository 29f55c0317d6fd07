/* files: /files/, each account's file area (the tree FTP serves) behind
 * Basic authentication (RFC 7617), only over TLS or from loopback. A
 * successful check is remembered per connection as a salted digest, so
 * keep-alive requests do not pay for the password hash again; failures go
 * through login_check's throttle like every other protocol's. */
#include "http/http.h"

#include "auth/login.h"
#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/workpool.h"
#include "http/auth.h"
#include "http/login.h"
#include "store/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <string.h>
#include <unistd.h>

static bool body_pending(const struct http_conn *h)
{
    return h->req.chunked || h->req.content_length > 0;
}

/* An answer before the body was read: the connection cannot continue. */
static void refuse(struct http_conn *h, int status, const char *detail)
{
    (body_pending(h) ? http_error_close : http_error)(h, status, detail);
}

static int discard(struct http_conn *h, const char *p, size_t n)
{
    return 0;
}

/* DELETE runs on the work pool: the removal and its directory fsync come
 * before the 204, as every acknowledged change in the file area. */
struct delete_job {
    struct http_conn *h;
    bool dir;
    int err;
    char vpath[STORE_MAX_PATH + 1];
};

static void delete_work(void *arg)
{
    struct delete_job *j = arg;
    int fd = j->h->files_fd;
    int rc = j->dir ? sandbox_rmdir(fd, j->vpath) : sandbox_unlink(fd, j->vpath);
    if (rc < 0 || sandbox_sync_parent(fd, j->vpath) < 0)
        j->err = errno;
}

static void delete_done(void *arg)
{
    struct delete_job *j = arg;
    struct http_conn *h = j->h;
    struct conn *c = h->c;
    if (!c->closing) {
        if (j->err == ENOTEMPTY || j->err == EEXIST) {
            http_error(h, 409, "The directory is not empty.");
        } else if (j->err) {
            http_error_errno(h, j->err);
        } else {
            log_info(c->id, "http delete user=%s path=%s", h->acct.address, j->vpath);
            http_resp_start(h, 204); /* RFC 9110 9.3.5 */
            http_resp_end_head(h, 0);
            http_request_end(h);
        }
    }
    free(j);
    conn_unref(c);
}

static void do_delete(struct http_conn *h, const char *vpath)
{
    if (strcmp(vpath, "/") == 0) {
        h->allow = HTTP_ALLOW_FILES;
        refuse(h, 405, "The file area itself cannot be deleted.");
        return;
    }
    struct stat st;
    if (sandbox_stat(h->files_fd, vpath, &st) < 0) {
        http_error_errno(h, errno);
        return;
    }
    struct delete_job *j = calloc(1, sizeof *j);
    if (!j) {
        http_error_errno(h, ENOMEM);
        return;
    }
    *j = (struct delete_job){.h = h, .dir = S_ISDIR(st.st_mode)};
    snprintf(j->vpath, sizeof j->vpath, "%s", vpath);
    conn_ref(h->c);
    http_suspend(h);
    if (!runtime || workpool_submit(runtime->pool, h->c->loop->base, delete_work,
                                    delete_done, j) < 0) {
        delete_work(j);
        delete_done(j);
    }
}

static void files_get(struct http_conn *h)
{
    const char *sub = h->path + 6;
    h->state = HS_HEAD;
    http_static_get(h, h->files_fd, *sub ? sub : "/", true);
}

/* The request is authenticated: act on h->acct's file area. */
static void authorized(struct http_conn *h)
{
    const char *vpath = h->path[6] ? h->path + 6 : "/";
    switch (h->req.m) {
    case HTTP_M_GET:
    case HTTP_M_HEAD:
        if (body_pending(h))
            http_body_start(h, HTTP_MAX_DISCARD_BODY, discard, files_get);
        else
            files_get(h);
        return;
    case HTTP_M_PUT:
        http_upload_put(h, vpath);
        return;
    case HTTP_M_POST:
        http_upload_form(h, vpath);
        return;
    case HTTP_M_DELETE:
        if (body_pending(h))
            h->close_after = true;
        do_delete(h, vpath);
        return;
    default:
        h->allow = HTTP_ALLOW_FILES;
        refuse(h, 405, "Not allowed here.");
        return;
    }
}

static void login_done(struct conn *c, void *arg, enum login_result r,
                       const struct account *acct)
{
    struct http_conn *h = c->ctx;
    h->state = HS_HEAD;
    if (r == LOGIN_OK) {
        if (h->files_fd >= 0 && strcmp(h->acct.address, acct->address) != 0) {
            close(h->files_fd);
            h->files_fd = -1;
        }
        h->acct = *acct;
        if (h->files_fd < 0)
            h->files_fd =
                store_files_root_open(runtime->datadir_fd, acct->domain, acct->local);
        h->authed = h->login_digest_ok && h->files_fd >= 0;
        memcpy(h->auth_digest, h->login_digest, sizeof h->auth_digest);
    }
    OPENSSL_cleanse(h->login_digest, sizeof h->login_digest);
    conn_resume(c);
    if (r == LOGIN_OK && h->files_fd >= 0)
        authorized(h);
    else if (r == LOGIN_OK)
        refuse(h, 500, "The file area cannot be opened.");
    else if (r == LOGIN_LOCKED)
        refuse(h, 429, "Too many failed logins; try again later.");
    else if (r == LOGIN_ERROR)
        refuse(h, 503, "The account store is unavailable.");
    else {
        h->authenticate = true;
        refuse(h, 401, "Wrong user name or password.");
    }
}

static void check_credentials(struct http_conn *h, const char *user, const char *pass)
{
    enum http_login_start r = http_login_start(h, user, pass, login_done);
    if (r == HTTP_LOGIN_KNOWN)
        authorized(h);
    else if (r == HTTP_LOGIN_UNAVAILABLE)
        refuse(h, 503, "The login service is unavailable.");
}

void http_files_handle(struct http_conn *h)
{
    if (h->path[6] == '\0' && !h->target.trailing_slash) {
        h->close_after = body_pending(h);
        http_redirect(h, 301, "/files/", 7);
        return;
    }
    if (h->req.m == HTTP_M_OPTIONS && !body_pending(h)) {
        http_resp_start(h, 204);
        http_resp_header(h, "Allow", HTTP_ALLOW_FILES);
        http_resp_end_head(h, 0);
        http_request_end(h);
        return;
    }
    /* RFC 7617 4: Basic sends the password in clear; only over TLS or on
     * this machine (DESIGN.md: plaintext authentication). */
    if (!h->c->tls && !h->c->loopback) {
        refuse(h, 403, "Use https:// for the file area.");
        return;
    }
    const struct http_str *f = http_request_get(&h->req, HH_AUTHORIZATION);
    char user[AUTH_MAX_USERNAME + 1], pass[AUTH_MAX_PASSWORD + 1];
    if (!f || http_basic_parse(*f, user, sizeof user, pass, sizeof pass) < 0) {
        h->authenticate = true;
        refuse(h, 401, "Log in with your mail account.");
        return;
    }
    check_credentials(h, user, pass);
    OPENSSL_cleanse(pass, sizeof pass);
}
