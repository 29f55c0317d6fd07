/* static: GET and HEAD of a path beneath a root (the web root or a file
 * area): directories (301 to add the slash, index.html, listing), validators
 * (Last-Modified, a strong ETag: RFC 9110 8.8), preconditions in the order
 * of RFC 9110 13.2.2, and Range (RFC 9110 14). */
#include "http/http.h"

#include "core/config.h"
#include "core/conn.h"
#include "core/loop.h"
#include "http/filecache.h"
#include "http/mime_types.h"
#include "store/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct validators {
    char etag[64]; /* with quotes */
    size_t etag_len;
    time_t mtime;
    char last_modified[HTTP_DATE_LEN + 1];
};

void http_error_errno(struct http_conn *h, int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
        http_error(h, 404, "No such file.");
        return;
    case ENAMETOOLONG:
        http_error(h, 414, "The path is too long.");
        return;
    case ENOSPC:
    case EDQUOT:
        http_error(h, 507, "No space left.");
        return;
    case EACCES:
    case EPERM:
    case EXDEV:
    case ELOOP:
    case EINVAL:
        http_error(h, 403, "Access denied.");
        return;
    default:
        http_error(h, 500, "The file system failed.");
        return;
    }
}

/* A strong validator: it changes whenever the bytes can have changed
 * (inode, size, and modification time to the nanosecond). */
static void make_validators(const struct stat *st, struct validators *v)
{
    int n = snprintf(v->etag, sizeof v->etag, "\"%llx-%llx-%llx\"",
                     (unsigned long long)st->st_ino, (unsigned long long)st->st_size,
                     (unsigned long long)st->st_mtim.tv_sec * 1000000000ULL +
                         (unsigned long long)st->st_mtim.tv_nsec);
    v->etag_len = n > 0 ? (size_t)n : 0;
    v->mtime = st->st_mtim.tv_sec;
    http_date_format(v->mtime, v->last_modified);
}

/* ---- preconditions (RFC 9110 13.1) ------------------------------------------- */

struct etag_match {
    struct http_str etag;
    bool weak_ok; /* If-None-Match uses the weak comparison (13.1.2) */
    bool hit;
};

static int etag_item(struct http_str item, void *arg)
{
    struct etag_match *m = arg;
    if (item.n == 1 && item.p[0] == '*') {
        m->hit = true;
        return 1;
    }
    bool weak = item.n > 2 && item.p[0] == 'W' && item.p[1] == '/';
    if (weak && !m->weak_ok)
        return 0;
    if (weak) {
        item.p += 2;
        item.n -= 2;
    }
    if (item.n == m->etag.n && memcmp(item.p, m->etag.p, item.n) == 0) {
        m->hit = true;
        return 1;
    }
    return 0;
}

static bool etag_matches(struct http_str field, const struct validators *v, bool weak_ok)
{
    struct etag_match m = {{v->etag, v->etag_len}, weak_ok, false};
    http_list_each(field, etag_item, &m);
    return m.hit;
}

/* Returns 0 to go on, or the status (304/412) to answer instead. */
static int preconditions(struct http_conn *h, const struct validators *v)
{
    const struct http_request *r = &h->req;
    const struct http_str *f;
    time_t t;
    if ((f = http_request_get(r, HH_IF_MATCH))) {
        if (!etag_matches(*f, v, false))
            return 412; /* 13.1.1 */
    } else if ((f = http_request_get(r, HH_IF_UNMODIFIED_SINCE)) &&
               http_date_parse(*f, &t)) {
        if (v->mtime > t)
            return 412; /* 13.1.4 */
    }
    if ((f = http_request_get(r, HH_IF_NONE_MATCH))) {
        if (etag_matches(*f, v, true))
            return 304; /* 13.1.2, for GET and HEAD */
    } else if ((f = http_request_get(r, HH_IF_MODIFIED_SINCE)) &&
               http_date_parse(*f, &t)) {
        if (v->mtime <= t)
            return 304; /* 13.1.3 */
    }
    return 0;
}

/* RFC 9110 13.1.5: If-Range with a strong ETag or the exact date. */
static bool if_range_ok(struct http_conn *h, const struct validators *v)
{
    const struct http_str *f = http_request_get(&h->req, HH_IF_RANGE);
    if (!f)
        return true;
    if (f->n && f->p[0] == '"')
        return f->n == v->etag_len && memcmp(f->p, v->etag, f->n) == 0;
    time_t t;
    return http_date_parse(*f, &t) && t == v->mtime;
}

static void validator_fields(struct http_conn *h, const struct validators *v)
{
    http_resp_header(h, "ETag", v->etag);
    http_resp_header(h, "Last-Modified", v->last_modified);
    http_resp_header(h, "Accept-Ranges", "bytes");
}

/* ---- files and directories -------------------------------------------------- */

/* fd is -1 when the body comes from the cache (h->cached_body). */
static void drop_fd(int fd)
{
    if (fd >= 0)
        close(fd);
}

static void send_regular(struct http_conn *h, int fd, const struct stat *st,
                         const char *vpath)
{
    struct validators v;
    make_validators(st, &v);
    int pre = preconditions(h, &v);
    if (pre == 412) {
        drop_fd(fd);
        http_error(h, 412, "A precondition failed.");
        return;
    }
    if (pre == 304) { /* RFC 9110 15.4.5: the validators, no body */
        drop_fd(fd);
        http_resp_start(h, 304);
        validator_fields(h, &v);
        http_resp_end_head(h, (uint64_t)st->st_size);
        http_request_end(h);
        return;
    }
    struct http_range ranges[HTTP_MAX_RANGES];
    int n = 0;
    const struct http_str *rf = http_request_get(&h->req, HH_RANGE);
    if (rf && h->req.m == HTTP_M_GET && if_range_ok(h, &v)) {
        n = http_range_parse(*rf, (uint64_t)st->st_size, ranges, HTTP_MAX_RANGES);
        if (n == 0) {
            drop_fd(fd);
            h->unsatisfiable = st->st_size;
            http_error(h, 416, "No requested range is within the file.");
            return;
        }
        n = n < 0 ? 0 : n;
    }
    http_resp_start(h, n ? 206 : 200);
    validator_fields(h, &v);
    http_send_file(h, fd, (uint64_t)st->st_size, http_mime_type(vpath), ranges, n);
}

/* RFC 9110 15.4.2: a directory named without its slash moves to it. */
static void add_slash(struct http_conn *h)
{
    char loc[HTTP_MAX_REQUEST_LINE + 8];
    struct http_str p = h->target.path, q = h->target.query;
    if (p.n + q.n + 3 > sizeof loc) {
        http_error(h, 414, "The path is too long.");
        return;
    }
    memcpy(loc, p.p, p.n);
    size_t n = p.n;
    loc[n++] = '/';
    if (q.n) {
        loc[n++] = '?';
        memcpy(loc + n, q.p, q.n);
        n += q.n;
    }
    http_redirect(h, 301, loc, n);
}

static bool try_index(struct http_conn *h, int rootfd, const char *vpath)
{
    char index[STORE_MAX_PATH + 16];
    int n = snprintf(index, sizeof index, "%s%sindex.html", vpath,
                     vpath[strlen(vpath) - 1] == '/' ? "" : "/");
    if (n < 0 || (size_t)n >= sizeof index)
        return false;
    int fd = sandbox_open(rootfd, index, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    struct stat st;
    if (fd < 0)
        return false;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return false;
    }
    send_regular(h, fd, &st, index);
    return true;
}

static void send_directory(struct http_conn *h, int rootfd, int fd, const char *vpath,
                           bool files_area)
{
    if (!h->target.trailing_slash && strcmp(vpath, "/") != 0) {
        close(fd);
        add_slash(h);
        return;
    }
    if (!files_area && try_index(h, rootfd, vpath)) {
        close(fd);
        return;
    }
    bool listing = files_area || !runtime || runtime->cfg->http_dir_listing;
    if (!listing) {
        close(fd);
        http_error(h, 403, "Directory listing is off.");
        return;
    }
    http_listing_send(h, fd, vpath, files_area);
}

/* A whole-file GET or HEAD of the web root on a plain connection may come
 * from the loop's cache (a Range or TLS needs a descriptor of its own). */
static bool use_cache(struct http_conn *h, int rootfd, bool files_area)
{
    return !files_area && !h->c->tls && !http_request_get(&h->req, HH_RANGE) &&
           http_filecache_covers(h->c->loop, rootfd);
}

static int open_target(struct http_conn *h, int rootfd, const char *vpath,
                       bool files_area, struct http_open *o)
{
    if (use_cache(h, rootfd, files_area))
        return http_filecache_open(h->c->loop, vpath, o);
    return http_open_plain(rootfd, vpath, o);
}

void http_static_get(struct http_conn *h, int rootfd, const char *vpath, bool files_area)
{
    struct http_open o;
    if (open_target(h, rootfd, vpath, files_area, &o) < 0) {
        http_error_errno(h, errno);
        return;
    }
    if (o.hit) { /* a regular file, kept */
        if (h->target.trailing_slash) {
            http_error(h, 404, "No such directory.");
            return;
        }
        h->cached_body = o.hit->seg;
        send_regular(h, -1, &o.hit->st, vpath);
        h->cached_body = NULL;
        return;
    }
    int fd = o.fd;
    struct stat st = o.st;
    if (S_ISDIR(st.st_mode)) {
        send_directory(h, rootfd, fd, vpath, files_area);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        http_error(h, 403, "Not a regular file.");
        return;
    }
    if (h->target.trailing_slash) { /* "file/" names no file */
        close(fd);
        http_error(h, 404, "No such directory.");
        return;
    }
    send_regular(h, fd, &st, vpath);
}
