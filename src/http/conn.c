/* conn: the HTTP/1.1 connection state machine on top of core/conn:
 * request heads are parsed in order (pipelining, RFC 9112 9.3.2), each
 * request is routed to the web root or the file area, bodies are framed by
 * Content-Length or chunked (RFC 9112 6), and the connection persists
 * (RFC 9112 9.3) until the client, the request budget or a timeout ends it. */
#include "http/http.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "http/filecache.h"
#include "http/mime_types.h"
#include "http/proxy/proxy.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void process(struct http_conn *h);

/* ---- lifetime ----------------------------------------------------------- */

static void on_input(struct conn *c)
{
    process(c->ctx);
}

static void linger_start(struct http_conn *h);

static void on_drained(struct conn *c)
{
    struct http_conn *h = c->ctx;
    if (h->px && http_proxy_drained(h))
        return;
    if (h->state == HS_LINGER) {
        linger_start(h);
        return;
    }
    if (h->state == HS_SEND) {
        http_stream_continue(h);
        return;
    }
    if (h->output_wait) {
        h->output_wait = false;
        if (h->state == HS_HEAD)
            conn_resume(c);
        process(h);
    }
}

static void on_timeout(struct conn *c)
{
    struct http_conn *h = c->ctx;
    log_info(c->id, "http timeout requests=%u", h->nreq);
}

static void on_shutdown(struct conn *c)
{
    struct http_conn *h = c->ctx;
    /* Idle between requests: close now; otherwise the current response
     * finishes and close_after ends the connection. */
    h->close_after = true;
    if (h->state == HS_HEAD && evbuffer_get_length(conn_input(c)) == 0)
        conn_close(c);
}

static void on_free(struct conn *c)
{
    struct http_conn *h = c->ctx;
    log_info(c->id, "http close requests=%u", h->nreq);
    http_proxy_free(h);
    if (h->head_timer)
        event_free(h->head_timer);
    http_stream_free(h->stream);
    http_upload_free(h->upload);
    if (h->www_fd >= 0)
        close(h->www_fd);
    if (h->files_fd >= 0)
        close(h->files_fd);
    OPENSSL_cleanse(h->auth_digest, sizeof h->auth_digest);
    free(h->head);
    free(h);
}

static const struct conn_ops http_ops = {
    .on_input = on_input,
    .on_drained = on_drained,
    .on_timeout = on_timeout,
    .on_shutdown = on_shutdown,
    .on_free = on_free,
};

/* RFC 9110 15.5.9: a head that does not arrive in time gets 408. */
static double seconds_since(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

static void arm_body_check(struct http_conn *h)
{
    struct timeval tv = {HTTP_BODY_CHECK_SEC, 0};
    evtimer_add(h->head_timer, &tv);
}

/* A body must keep up a minimum rate after a grace period, or a client
 * trickling a byte at a time (within the idle timeout) holds the
 * connection forever: 408 (RFC 9110 15.5.9). */
static void body_rate_check(struct http_conn *h)
{
    double elapsed = seconds_since(&h->body.start);
    double owed = (elapsed - HTTP_BODY_GRACE_SEC) * HTTP_BODY_MIN_RATE;
    if (owed <= 0 || (double)h->body.total >= owed) {
        arm_body_check(h);
        return;
    }
    log_info(h->c->id, "http body_too_slow peer=%s bytes=%llu after=%.0fs", h->c->peer_ip,
             (unsigned long long)h->body.total, elapsed);
    conn_ref(h->c);
    http_error_close(h, 408, "The request body did not arrive in time.");
    conn_unref(h->c);
}

static void head_timeout(evutil_socket_t fd, short what, void *arg)
{
    struct http_conn *h = arg;
    if (h->state == HS_LINGER) {
        conn_abort(h->c);
        return;
    }
    if (h->state == HS_BODY || h->state == HS_WAIT) {
        if (h->body.data && !h->c->closing)
            body_rate_check(h);
        return;
    }
    if (h->state != HS_HEAD || h->c->closing)
        return;
    log_info(h->c->id, "http head_timeout peer=%s", h->c->peer_ip);
    conn_ref(h->c);
    http_error_close(h, 408, "The request head did not arrive in time.");
    conn_unref(h->c);
}

static void http_start(struct conn *c)
{
    struct http_conn *h = calloc(1, sizeof *h);
    if (h)
        h->head_timer = evtimer_new(c->loop->base, head_timeout, h);
    if (!h || !h->head_timer) {
        free(h);
        conn_abort(c);
        return;
    }
    h->c = c;
    h->www_fd = h->files_fd = -1;
    c->ops = &http_ops;
    c->ctx = h;
    http_mime_init();
    http_log_open();
    conn_set_idle_timeout(c, HTTP_KEEPALIVE_TIMEOUT_SEC);
    log_debug(c->id, "http connect peer=%s port=%d%s", c->peer_ip, c->peer_port,
              c->tls ? " tls=implicit" : "");
    if (c->over_global || c->over_limit) {
        log_warn(c->id, "http refused peer=%s why=%s", c->peer_ip,
                 c->over_global ? "server_full" : "too_many_connections_from_peer");
        h->req.minor = 1;
        if (c->over_global)
            http_error_close(h, 503, "Too many connections; try again later.");
        else
            http_error_close(h, 503, "Too many connections from your address.");
    }
}

const struct service_impl http_service = {.name = "http", .start = http_start};

/* [proxy] listen: the same connection, every request for the proxy. */
static void http_proxy_start(struct conn *c)
{
    http_start(c);
    if (c->ops == &http_ops)
        ((struct http_conn *)c->ctx)->forward = true;
}

const struct service_impl http_proxy_service = {.name = "proxy",
                                                .start = http_proxy_start};

void http_conn_random(struct http_conn *h)
{
    if (h->random_drawn)
        return;
    RAND_bytes(h->auth_salt, sizeof h->auth_salt);
    RAND_bytes((unsigned char *)&h->boundary, sizeof h->boundary);
    h->random_drawn = true;
}

/* ---- suspend / resume around async work --------------------------------- */

void http_suspend(struct http_conn *h)
{
    h->state = HS_WAIT;
    conn_pause(h->c);
}

void http_resume(struct http_conn *h)
{
    conn_resume(h->c);
    if (!h->in_process)
        process(h);
}

/* RFC 9112 9.6: close the sending side first, read what the client still
 * sends, then close; the timer bounds it. */
static void linger_start(struct http_conn *h)
{
    shutdown(bufferevent_getfd(h->c->bev), SHUT_WR);
    evbuffer_drain(conn_input(h->c), evbuffer_get_length(conn_input(h->c)));
    conn_resume(h->c);
}

static void linger(struct http_conn *h)
{
    h->state = HS_LINGER;
    struct timeval tv = {HTTP_LINGER_SEC, 0};
    evtimer_add(h->head_timer, &tv);
    if (evbuffer_get_length(conn_output(h->c)) > 0)
        conn_notify_drained(h->c, 0);
    else
        linger_start(h);
}

void http_request_end(struct http_conn *h)
{
    http_log_request(h);
    conn_command_done(h->c, h->req_start_us);
    if (h->status >= 400)
        metrics_add(h->c->svc, MET_ERRORS, 1);
    unsigned max = runtime ? (unsigned)runtime->cfg->http_max_requests : 1000;
    if (h->linger && !h->c->tls) {
        linger(h);
        return;
    }
    if (h->close_after || !h->req.keep_alive || h->nreq >= max) {
        h->state = HS_CLOSED;
        conn_close(h->c);
        return;
    }
    h->state = HS_HEAD;
    if (h->c->paused && !h->output_wait)
        conn_resume(h->c);
    if (!h->in_process)
        process(h);
}

/* ---- request bodies (RFC 9112 6.2, 6.3, 7.1) ------------------------------ */

static int body_discard(struct http_conn *h, const char *p, size_t n)
{
    return 0;
}

void http_body_start(struct http_conn *h, uint64_t max,
                     int (*data)(struct http_conn *h, const char *p, size_t n),
                     void (*done)(struct http_conn *h))
{
    struct http_body *b = &h->body;
    *b = (struct http_body){.chunked = h->req.chunked,
                            .left = h->req.content_length,
                            .max = max,
                            .data = data,
                            .done = done};
    http_chunked_init(&b->ck);
    clock_gettime(CLOCK_MONOTONIC, &b->start);
    if (!b->chunked && b->left > max) {
        http_error_close(h, 413, "The request body is too large.");
        return;
    }
    /* RFC 9110 10.1.1: tell a waiting client to send the body. */
    if (h->req.expect_continue && (b->chunked || b->left))
        evbuffer_add(conn_output(h->c), "HTTP/1.1 100 Continue\r\n\r\n", 25);
    h->state = HS_BODY;
    arm_body_check(h);
    if (h->c->paused)
        conn_resume(h->c);
    if (!h->in_process) /* after async work: the body may be buffered already */
        process(h);
}

/* Feeds one contiguous piece of input to the sink; returns bytes used, or
 * -1 when the request failed (answered already), or -2 when complete. */
static long body_piece(struct http_conn *h, const char *p, size_t n)
{
    struct http_body *b = &h->body;
    size_t used = n, dlen = n;
    const char *data = p;
    int rc = 0;
    if (b->chunked) {
        rc = http_chunked_feed(&b->ck, p, n, &used, &dlen);
        if (rc == HTTP_CHUNKED_ERROR) {
            http_error_close(h, 400, "Malformed chunked body.");
            return -1;
        }
        data = p + used - dlen;
    } else {
        used = dlen = n < b->left ? n : (size_t)b->left;
        b->left -= used;
    }
    b->total += dlen;
    if (b->total > b->max) {
        http_error_close(h, 413, "The request body is too large.");
        return -1;
    }
    if (dlen && b->data(h, data, dlen) < 0)
        return -1;
    bool complete = b->chunked ? rc == HTTP_CHUNKED_DONE : b->left == 0;
    evbuffer_drain(conn_input(h->c), used);
    return complete ? -2 : (long)used;
}

static void read_body(struct http_conn *h)
{
    struct evbuffer *in = conn_input(h->c);
    while (h->state == HS_BODY && !h->c->closing) {
        bool done = !h->body.chunked && h->body.left == 0;
        if (!done) {
            struct evbuffer_iovec v;
            if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
                return;
            long r = body_piece(h, v.iov_base, v.iov_len);
            if (r == -1)
                return;
            if (r != -2)
                continue;
        }
        h->state = HS_WAIT; /* the sink's done decides what follows */
        evtimer_del(h->head_timer);
        h->body.data = NULL;
        conn_pause(h->c);
        h->body.done(h);
        return;
    }
}

/* ---- routing -------------------------------------------------------------- */

static bool is_files_path(const char *p)
{
    return strncmp(p, "/files", 6) == 0 && (p[6] == '\0' || p[6] == '/');
}

static void dispatch_static(struct http_conn *h)
{
    switch (h->req.m) {
    case HTTP_M_GET:
    case HTTP_M_HEAD: {
        /* The loop's watched root (filecache.h), or one of our own. */
        int root = http_filecache_root(h->c->loop);
        if (root < 0 && h->www_fd < 0 && runtime)
            h->www_fd =
                openat(runtime->datadir_fd, "www", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
            root = h->www_fd;
        if (root < 0) {
            http_error(h, 404, "There is no web root.");
            return;
        }
        http_static_get(h, root, h->path, false);
        return;
    }
    case HTTP_M_OPTIONS:
        http_resp_start(h, 204);
        http_resp_header(h, "Allow", HTTP_ALLOW_STATIC);
        http_resp_end_head(h, 0);
        http_request_end(h);
        return;
    default: /* RFC 9110 15.5.6: 405 lists what the resource allows */
        h->allow = HTTP_ALLOW_STATIC;
        http_error(h, 405, "This resource is read-only.");
        return;
    }
}

static void discarded(struct http_conn *h)
{
    h->state = HS_HEAD;
    dispatch_static(h);
}

static void route(struct http_conn *h)
{
    if (is_files_path(h->path)) {
        http_files_handle(h);
        return;
    }
    bool get = h->req.m == HTTP_M_GET || h->req.m == HTTP_M_HEAD;
    bool bodyless = !h->req.chunked && h->req.content_length == 0;
    if (get && bodyless && http_autoconfig_path(h->path)) {
        http_autoconfig(h);
        return;
    }
    /* A body where none is used is read and dropped, within a bound. */
    if (h->req.chunked || h->req.content_length)
        http_body_start(h, HTTP_MAX_DISCARD_BODY, body_discard, discarded);
    else
        dispatch_static(h);
}

/* RFC 9110 9.3.7: "OPTIONS *" asks about the server as a whole. */
static void options_star(struct http_conn *h)
{
    http_resp_start(h, 204);
    http_resp_header(h, "Allow", HTTP_ALLOW_FILES);
    http_resp_end_head(h, 0);
    http_request_end(h);
}

static void start_request(struct http_conn *h)
{
    h->nreq++;
    h->req_start_us = metrics_now_us();
    h->status = 0;
    h->sent = 0;
    h->allow = NULL;
    h->authenticate = false;
    h->unsatisfiable = -1;
    h->head_only = h->req.m == HTTP_M_HEAD;
    if (http_request_check(&h->req) < 0) {
        http_error_close(h, h->req.status, "The request framing is invalid.");
        return;
    }
    /* RFC 9110 9.1: an unknown method is 501, a known but unsupported 405. */
    bool bodyless = !h->req.chunked && h->req.content_length == 0;
    if (h->req.m == HTTP_M_UNKNOWN && !http_proxy_purge_method(h)) {
        (bodyless ? http_error : http_error_close)(h, 501, "Unknown method.");
        return;
    }
    h->upstream_us = 0;
    h->cache_status = 0;
    if (h->forward) {
        http_proxy_forward(h);
        return;
    }
    if (h->req.m == HTTP_M_OPTIONS && h->req.target.n == 1 && h->req.target.p[0] == '*') {
        options_star(h);
        return;
    }
    if (http_target_decode(h->req.target, &h->target, h->path, sizeof h->path) < 0) {
        /* EACCES: a reserved name (an upload in progress), not a bad target. */
        bool reserved = errno == EACCES;
        (bodyless ? http_error : http_error_close)(
            h, reserved ? 403 : 400, reserved ? "Forbidden." : "Bad request target.");
        return;
    }
    if (http_proxy_reverse(h))
        return;
    route(h);
}

/* ---- heads ---------------------------------------------------------------- */

/* Moves the head out of the input into h->head and points the parse there. */
static int take_head(struct http_conn *h, const char *base, size_t len)
{
    if (len > h->head_cap) {
        size_t cap = len < 1024 ? 1024 : len;
        char *n = realloc(h->head, cap);
        if (!n)
            return -1;
        h->head = n;
        h->head_cap = cap;
    }
    memcpy(h->head, base, len);
    ptrdiff_t d = h->head - base;
    struct http_request *r = &h->req;
    r->method.p += d;
    r->target.p += d;
    for (size_t i = 0; i < r->nheaders; i++) {
        r->headers[i].name.p += d;
        r->headers[i].value.p += d;
    }
    evbuffer_drain(conn_input(h->c), len);
    return 0;
}

/* 1: a request is ready in h->req; 0: need more; -1: answered an error. */
static int read_head(struct http_conn *h)
{
    struct evbuffer *in = conn_input(h->c);
    size_t avail = evbuffer_get_length(in);
    if (avail == 0) {
        evtimer_del(h->head_timer);
        return 0;
    }
    size_t want = avail;
    if (want > HTTP_MAX_REQUEST_LINE + HTTP_MAX_HEADER_BYTES + 64)
        want = HTTP_MAX_REQUEST_LINE + HTTP_MAX_HEADER_BYTES + 64;
    const char *base = (const char *)evbuffer_pullup(in, (ssize_t)want);
    int rc = base ? http_parse_request(base, want, &h->req) : HTTP_PARSE_ERROR;
    if (rc == HTTP_PARSE_MORE) {
        if (!evtimer_pending(h->head_timer, NULL)) {
            struct timeval tv = {HTTP_HEAD_TIMEOUT_SEC, 0};
            evtimer_add(h->head_timer, &tv);
        }
        return 0;
    }
    evtimer_del(h->head_timer);
    if (rc < 0 || take_head(h, base, (size_t)rc) < 0) {
        h->nreq++;
        h->req_start_us = metrics_now_us();
        h->req.method.n = 0; /* nothing of it is logged */
        h->req.nheaders = 0;
        memset(h->req.known, 0, sizeof h->req.known);
        if (h->req.minor < 0 || h->req.minor > 9)
            h->req.minor = 1;
        http_error_close(h, h->req.status ? h->req.status : 400, "Malformed request.");
        return -1;
    }
    return 1;
}

static void process(struct http_conn *h)
{
    struct conn *c = h->c;
    if (h->in_process)
        return;
    h->in_process = true;
    while (!c->closing) {
        if (h->state == HS_LINGER) {
            evbuffer_drain(conn_input(c), evbuffer_get_length(conn_input(c)));
            break;
        }
        if (h->state == HS_BODY) {
            read_body(h);
            if (h->state == HS_BODY)
                break;
            continue;
        }
        if (h->state != HS_HEAD)
            break;
        /* Pipelined requests wait while earlier responses are unsent. */
        if (evbuffer_get_length(conn_output(c)) > SESSION_OUTPUT_HIGH) {
            h->output_wait = true;
            conn_pause(c);
            conn_notify_drained(c, SESSION_OUTPUT_LOW);
            break;
        }
        if (read_head(h) <= 0)
            break;
        start_request(h);
    }
    h->in_process = false;
}
