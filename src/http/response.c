/* response: writes responses into the connection's output: the status line
 * (RFC 9112 4), Date (RFC 9110 6.6.1), Server, Content-Length on every
 * response that may carry one (RFC 9110 8.6), Connection (RFC 9112 9.6),
 * small HTML bodies for errors, and file bodies: sendfile on plain
 * connections, bounded pieces refilled on drain over TLS. */
#include "http/http.h"

#include "core/conn.h"
#include "core/loop.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct http_seg {
    uint64_t off, len;
    bool mem; /* bytes from stream->mem, else from the file */
};

struct http_stream {
    int fd;
    int nseg, cur;
    uint64_t done; /* of the current segment */
    struct evbuffer *mem;
    struct http_seg seg[2 * HTTP_MAX_RANGES + 1];
};

const char *http_reason(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 303:
        return "See Other";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 407:
        return "Proxy Authentication Required";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 416:
        return "Range Not Satisfiable";
    case 417:
        return "Expectation Failed";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 505:
        return "HTTP Version Not Supported";
    case 507:
        return "Insufficient Storage";
    case 508:
        return "Loop Detected";
    default:
        return "Unknown";
    }
}

size_t http_u64_dec(uint64_t v, char *out)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return n;
}

/* ---- the head --------------------------------------------------------------- */

void http_resp_start(struct http_conn *h, int status)
{
    time_t now = time(NULL);
    if (now != h->date_sec) {
        h->date_sec = now;
        http_date_format(now, h->date);
    }
    h->status = status;
    /* RFC 9110 6.2: the status line carries our version, HTTP/1.1. */
    char line[128];
    size_t n = 9;
    memcpy(line, "HTTP/1.1 ", 9);
    n += http_u64_dec((uint64_t)status, line + n);
    line[n++] = ' ';
    const char *reason = http_reason(status);
    size_t rl = strlen(reason);
    memcpy(line + n, reason, rl);
    n += rl;
    memcpy(line + n, "\r\nServer: portico\r\nDate: ", 25);
    n += 25;
    memcpy(line + n, h->date, HTTP_DATE_LEN);
    n += HTTP_DATE_LEN;
    line[n++] = '\r';
    line[n++] = '\n';
    evbuffer_add(conn_output(h->c), line, n);
}

void http_resp_header(struct http_conn *h, const char *name, const char *value)
{
    struct evbuffer *out = conn_output(h->c);
    evbuffer_add(out, name, strlen(name));
    evbuffer_add(out, ": ", 2);
    evbuffer_add(out, value, strlen(value));
    evbuffer_add(out, "\r\n", 2);
}

void http_resp_headerf(struct http_conn *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    evbuffer_add_vprintf(conn_output(h->c), fmt, ap);
    va_end(ap);
    evbuffer_add(conn_output(h->c), "\r\n", 2);
}

static bool must_close(struct http_conn *h)
{
    unsigned max = runtime ? (unsigned)runtime->cfg->http_max_requests : 1000;
    return h->close_after || !h->req.keep_alive || h->nreq >= max;
}

void http_resp_end_head(struct http_conn *h, uint64_t length)
{
    char buf[96];
    size_t n = 0;
    /* RFC 9110 8.6: no Content-Length in 1xx or 204. */
    if (h->status >= 200 && h->status != 204) {
        memcpy(buf, "Content-Length: ", 16);
        n = 16 + http_u64_dec(length, buf + 16);
        buf[n++] = '\r';
        buf[n++] = '\n';
    }
    if (must_close(h)) {
        h->close_after = true;
        memcpy(buf + n, "Connection: close\r\n", 19);
        n += 19;
    } else if (h->req.minor == 0) { /* RFC 9112 C.2.2: 1.0 keep-alive */
        memcpy(buf + n, "Connection: keep-alive\r\n", 24);
        n += 24;
    }
    buf[n++] = '\r';
    buf[n++] = '\n';
    evbuffer_add(conn_output(h->c), buf, n);
    if (!h->head_only && h->status != 304)
        h->sent += length;
}

/* ---- complete small responses -------------------------------------------------- */

void http_error(struct http_conn *h, int status, const char *detail)
{
    char body[512];
    const char *reason = http_reason(status);
    int n = snprintf(body, sizeof body,
                     "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>"
                     "<body><h1>%d %s</h1><p>%s</p></body></html>\n",
                     status, reason, status, reason, detail ? detail : "");
    if (n < 0 || (size_t)n >= sizeof body)
        n = 0;
    h->linger |= h->close_after; /* the request may not have been read whole */
    http_resp_start(h, status);
    http_resp_header(h, "Content-Type", "text/html; charset=utf-8");
    if (status == 405 && h->allow)
        http_resp_header(h, "Allow", h->allow);
    if (status == 401) /* RFC 9110 11.6.1, RFC 7617 2 */
        http_resp_header(h, "WWW-Authenticate",
                         "Basic realm=\"portico files\", charset=\"UTF-8\"");
    if (status == 416) /* RFC 9110 15.5.17 */
        http_resp_headerf(h, "Content-Range: bytes */%lld", (long long)h->unsatisfiable);
    if (status == 429) {
        int retry = AUTH_THROTTLE_LOCK_SEC;
        if (runtime)
            retry = runtime->cfg->throttle_lock_time;
        http_resp_headerf(h, "Retry-After: %d", retry);
    }
    http_resp_end_head(h, (uint64_t)n);
    if (!h->head_only)
        evbuffer_add(conn_output(h->c), body, (size_t)n);
    http_request_end(h);
}

void http_error_close(struct http_conn *h, int status, const char *detail)
{
    h->close_after = true;
    http_error(h, status, detail);
}

void http_redirect(struct http_conn *h, int status, const char *location, size_t len)
{
    static const char body[] = "<!DOCTYPE html>\n<html><body>Moved.</body></html>\n";
    http_resp_start(h, status);
    struct evbuffer *out = conn_output(h->c);
    evbuffer_add(out, "Location: ", 10);
    evbuffer_add(out, location, len);
    evbuffer_add(out, "\r\n", 2);
    http_resp_header(h, "Content-Type", "text/html; charset=utf-8");
    http_resp_end_head(h, sizeof body - 1);
    if (!h->head_only)
        evbuffer_add(out, body, sizeof body - 1);
    http_request_end(h);
}

void http_respond_buffer(struct http_conn *h, int status, const char *ctype,
                         struct evbuffer *buf)
{
    size_t len = evbuffer_get_length(buf);
    http_resp_start(h, status);
    http_resp_header(h, "Content-Type", ctype);
    http_resp_end_head(h, len);
    if (h->head_only)
        evbuffer_drain(buf, len);
    else
        evbuffer_add_buffer(conn_output(h->c), buf);
    http_request_end(h);
}

/* ---- file bodies ----------------------------------------------------------------- */

void http_stream_free(struct http_stream *s)
{
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->mem)
        evbuffer_free(s->mem);
    free(s);
}

/* Copies len bytes at off of fd into out; -1 on a read error. */
static int pread_into(struct evbuffer *out, int fd, uint64_t off, size_t len)
{
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(out, (ev_ssize_t)len, &v, 1) < 1)
        return -1;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, (char *)v.iov_base + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1; /* the file shrank or failed: the framing is lost */
        got += (size_t)r;
    }
    v.iov_len = len;
    return evbuffer_commit_space(out, &v, 1);
}

/* Plain connection: every segment is queued now (the file ones as
 * sendfile segments sharing one descriptor). */
static int stream_queue_all(struct http_conn *h, struct http_stream *s)
{
    struct evbuffer *out = conn_output(h->c);
    struct evbuffer_file_segment *fs =
        evbuffer_file_segment_new(s->fd, 0, -1, EVBUF_FS_CLOSE_ON_FREE);
    if (!fs)
        return -1;
    s->fd = -1;
    int rc = 0;
    for (int i = 0; i < s->nseg && rc == 0; i++) {
        struct http_seg *g = &s->seg[i];
        if (g->mem)
            rc = evbuffer_remove_buffer(s->mem, out, g->len) == (int)g->len ? 0 : -1;
        else
            rc = evbuffer_add_file_segment(out, fs, (ev_off_t)g->off, (ev_off_t)g->len);
    }
    evbuffer_file_segment_free(fs);
    return rc;
}

/* TLS: queue about two pieces, then wait for the output to drain. */
void http_stream_continue(struct http_conn *h)
{
    struct http_stream *s = h->stream;
    struct evbuffer *out = conn_output(h->c);
    while (s->cur < s->nseg && evbuffer_get_length(out) < 2 * HTTP_STREAM_CHUNK) {
        struct http_seg *g = &s->seg[s->cur];
        uint64_t left = g->len - s->done;
        size_t take = left < HTTP_STREAM_CHUNK ? (size_t)left : HTTP_STREAM_CHUNK;
        int rc = g->mem
                     ? (evbuffer_remove_buffer(s->mem, out, take) == (int)take ? 0 : -1)
                     : pread_into(out, s->fd, g->off + s->done, take);
        if (rc < 0) {
            h->close_after = true;
            break;
        }
        s->done += take;
        if (s->done == g->len) {
            s->cur++;
            s->done = 0;
        }
    }
    if (s->cur < s->nseg && !h->close_after) {
        h->state = HS_SEND;
        conn_pause(h->c);
        conn_notify_drained(h->c, HTTP_STREAM_CHUNK);
        return;
    }
    h->stream = NULL;
    http_stream_free(s);
    h->state = HS_HEAD;
    http_request_end(h);
}

static struct http_stream *stream_new(int fd)
{
    struct http_stream *s = calloc(1, sizeof *s);
    if (s)
        s->mem = evbuffer_new();
    if (!s || !s->mem) {
        http_stream_free(s);
        return NULL;
    }
    s->fd = fd;
    return s;
}

static void stream_add(struct http_stream *s, uint64_t off, uint64_t len, bool mem)
{
    s->seg[s->nseg++] = (struct http_seg){off, len, mem};
}

/* RFC 9110 14.6: multipart/byteranges, a part per range. */
static uint64_t plan_multipart(struct http_conn *h, struct http_stream *s, uint64_t size,
                               const char *ctype, const struct http_range *r, int n)
{
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        size_t before = evbuffer_get_length(s->mem);
        evbuffer_add_printf(s->mem,
                            "\r\n--%016llx\r\nContent-Type: %s\r\nContent-Range: bytes "
                            "%llu-%llu/%llu\r\n\r\n",
                            (unsigned long long)h->boundary, ctype,
                            (unsigned long long)r[i].first, (unsigned long long)r[i].last,
                            (unsigned long long)size);
        uint64_t hl = evbuffer_get_length(s->mem) - before;
        stream_add(s, 0, hl, true);
        stream_add(s, r[i].first, r[i].last - r[i].first + 1, false);
        total += hl + r[i].last - r[i].first + 1;
    }
    size_t before = evbuffer_get_length(s->mem);
    evbuffer_add_printf(s->mem, "\r\n--%016llx--\r\n", (unsigned long long)h->boundary);
    uint64_t tl = evbuffer_get_length(s->mem) - before;
    stream_add(s, 0, tl, true);
    return total + tl;
}

static void send_stream(struct http_conn *h, struct http_stream *s)
{
    if (h->head_only) {
        http_stream_free(s);
        http_request_end(h);
        return;
    }
    if (!h->c->tls) {
        if (stream_queue_all(h, s) < 0)
            h->close_after = true;
        http_stream_free(s);
        http_request_end(h);
        return;
    }
    h->stream = s;
    http_stream_continue(h);
}

/* One range (or the whole file) on a plain connection: no allocation. */
static void send_simple(struct http_conn *h, int fd, uint64_t off, uint64_t len)
{
    struct evbuffer *out = conn_output(h->c);
    struct evbuffer_file_segment *kept = h->cached_body;
    h->cached_body = NULL;
    if (kept) { /* fd is -1: the cache's mapping or sendfile segment */
        if (!h->head_only && len &&
            evbuffer_add_file_segment(out, kept, (ev_off_t)off, (ev_off_t)len) < 0)
            h->close_after = true;
    } else if (h->head_only || len == 0) {
        if (fd >= 0) /* -1: an empty file from the cache */
            close(fd);
    } else if (len <= HTTP_INLINE_FILE) {
        if (pread_into(out, fd, off, (size_t)len) < 0)
            h->close_after = true;
        close(fd);
    } else if (evbuffer_add_file(out, fd, (ev_off_t)off, (ev_off_t)len) < 0) {
        h->close_after = true; /* add_file closed fd */
    }
    http_request_end(h);
}

void http_send_file(struct http_conn *h, int fd, uint64_t size, const char *ctype,
                    const struct http_range *r, int n)
{
    if (n <= 1) {
        uint64_t off = n ? r[0].first : 0, len = n ? r[0].last - r[0].first + 1 : size;
        http_resp_header(h, "Content-Type", ctype);
        if (n)
            http_resp_headerf(h, "Content-Range: bytes %llu-%llu/%llu",
                              (unsigned long long)r[0].first,
                              (unsigned long long)r[0].last, (unsigned long long)size);
        http_resp_end_head(h, len);
        if (!h->c->tls || h->head_only || len <= HTTP_INLINE_FILE) {
            send_simple(h, fd, off, len);
            return;
        }
    }
    struct http_stream *s = stream_new(fd);
    if (!s) {
        close(fd);
        if (n > 1) {
            http_error_close(h, 500, "Out of memory.");
            return;
        }
        h->close_after = true;
        http_request_end(h);
        return;
    }
    if (n > 1) {
        http_conn_random(h);
        uint64_t total = plan_multipart(h, s, size, ctype, r, n);
        http_resp_headerf(h, "Content-Type: multipart/byteranges; boundary=%016llx",
                          (unsigned long long)h->boundary);
        http_resp_end_head(h, total);
    } else {
        stream_add(s, n ? r[0].first : 0, n ? r[0].last - r[0].first + 1 : size, false);
    }
    send_stream(h, s);
}
