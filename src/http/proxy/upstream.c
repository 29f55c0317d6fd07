/* upstream: one request to one origin and its response, on the client's
 * loop: dial (dial.c), TLS with verification, the request head and body
 * out, then the response head parsed with httpmsg/response.c and its body
 * framed by RFC 9112 6.3 (Content-Length, chunked, or the close). Anything
 * malformed, oversized or contradictory in the head is a 502; silence for
 * [proxy] timeout is a 504. See upstream.h for the seam this is. */
#include "http/proxy/upstream.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/tls_client.h"
#include "http/proxy/dial.h"
#include "http/proxy/pool.h"
#include "http/proxy/proxy_int.h"
#include "httpmsg/chunked.h"

#include <event2/buffer.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPSTREAM_PENDING_MAX (64 << 10) /* request bytes held before connect */

enum ustate { U_DIAL, U_TLS, U_HEAD, U_BODY };

struct upstream {
    struct loop *loop;
    struct upstream_req req;
    struct upstream_target target;
    const struct upstream_cb *cb;
    void *arg;
    struct dial *dial;
    struct conn *c;
    struct evbuffer *pending; /* request bytes until the origin is ready */
    struct evbuffer *retry;   /* the head again, when sent on a kept conn */
    char key[300];            /* pool.h */
    bool reused;              /* u->c came from the pool */
    bool got_bytes;           /* the origin sent something on u->c */
    enum ustate state;
    bool want_body; /* the writer waits for want_body */
    bool paused;    /* the reader of body is full */
    bool in_input;
    struct http_response resp;
    struct http_chunked ck;
    uint64_t left;
};

static struct tls_client *tlsc;
static pthread_mutex_t tlsc_lock = PTHREAD_MUTEX_INITIALIZER;

struct tls_client *upstream_tls(void)
{
    pthread_mutex_lock(&tlsc_lock);
    if (!tlsc) {
        char err[256];
        tlsc =
            tls_client_new(runtime ? runtime->cfg->proxy_ca_file : "", err, sizeof err);
        if (!tlsc)
            log_error(0, "proxy tls_client_failed why=\"%s\"", err);
    }
    pthread_mutex_unlock(&tlsc_lock);
    return tlsc;
}

static void nop_free(struct conn *c) {}

static const struct conn_ops detached_ops = {.on_free = nop_free};

/* Frees u; the origin conn (if any) is closed without calling back. */
static void release(struct upstream *u)
{
    if (u->dial)
        dial_cancel(u->dial);
    if (u->c) {
        u->c->ops = &detached_ops;
        u->c->ctx = NULL;
        conn_abort(u->c);
    }
    if (u->pending)
        evbuffer_free(u->pending);
    if (u->retry)
        evbuffer_free(u->retry);
    free(u);
}

static void fail(struct upstream *u, int status, const char *why)
{
    log_info(u->req.id, "proxy upstream_failed host=%s port=%u status=%d why=\"%s\"",
             u->target.host, u->target.port, status, why);
    if (u->c)
        metrics_add(u->c->svc, MET_UPSTREAM_FAIL, 1);
    else
        metrics_add(SVC_PROXY, MET_UPSTREAM_FAIL, 1);
    const struct upstream_cb *cb = u->cb;
    void *arg = u->arg;
    release(u);
    cb->error(arg, status, why);
}

/* The exchange ended exactly at its framed end on a persistent
 * connection: the next request to the origin may use it. */
static void keep_conn(struct upstream *u)
{
    if (!u->c || !u->req.reusable || !u->resp.keep_alive ||
        u->resp.body == HTTP_BODY_CLOSE || u->paused || u->c->closing)
        return;
    struct conn *c = u->c;
    u->c = NULL;
    pool_put(c, u->key);
}

static void finish(struct upstream *u)
{
    keep_conn(u);
    const struct upstream_cb *cb = u->cb;
    void *arg = u->arg;
    release(u);
    cb->end(arg);
}

/* ---- the response body ---------------------------------------------------- */

/* What the front said to a piece of the body: -1 when it aborted (u is
 * gone), else 0 (a pause holds the origin until it resumes). */
static int body_taken(struct upstream *u, int rc)
{
    if (rc == UPSTREAM_ABORT) {
        release(u);
        return -1;
    }
    if (rc == UPSTREAM_PAUSE)
        u->paused = true;
    return 0;
}

/* Feeds one span of origin input; returns bytes used, or -1 when u is gone
 * (finished, failed or aborted) or paused with nothing used. */
static long body_span(struct upstream *u, const char *p, size_t n, bool *complete)
{
    size_t used = n, dlen = n;
    const char *data = p;
    if (u->resp.body == HTTP_BODY_CHUNKED) {
        enum http_chunked_rc rc = http_chunked_feed(&u->ck, p, n, &used, &dlen);
        if (rc == HTTP_CHUNKED_ERROR) {
            fail(u, 502, "malformed chunked body from the origin");
            return -1;
        }
        data = p + used - dlen;
        *complete = rc == HTTP_CHUNKED_DONE;
    } else if (u->resp.body == HTTP_BODY_LENGTH) {
        used = dlen = n < u->left ? n : (size_t)u->left;
        u->left -= used;
        *complete = u->left == 0;
    }
    if (dlen && body_taken(u, u->cb->body(u->arg, data, dlen)) < 0)
        return -1;
    return (long)used;
}

/* A body that is not chunked, when the front takes evbuffers: every
 * buffered byte up to the framed end at once, moved by body_buf. Returns
 * the bytes given, or -1 when u is gone. */
static long body_move(struct upstream *u, struct evbuffer *in, bool *complete)
{
    size_t n = evbuffer_get_length(in);
    if (u->resp.body == HTTP_BODY_LENGTH) {
        if (n > u->left)
            n = (size_t)u->left;
        u->left -= n;
        *complete = u->left == 0;
    }
    if (n == 0)
        return 0;
    if (body_taken(u, u->cb->body_buf(u->arg, in, n)) < 0)
        return -1;
    return (long)n;
}

/* The origin's buffered input is used up: more of the body straight from
 * its socket (core conn_read_bulk), never past a Content-Length, at most
 * PROXY_READ_PASS per wakeup. */
static bool read_more(struct upstream *u, struct evbuffer *in, size_t *budget)
{
    size_t want = *budget;
    if (u->resp.body == HTTP_BODY_LENGTH && u->left < want)
        want = (size_t)u->left;
    size_t n = want ? conn_read_bulk(u->c, in, want) : 0;
    *budget -= n;
    return n > 0;
}

static void read_body(struct upstream *u)
{
    struct evbuffer *in = conn_input(u->c);
    size_t budget = PROXY_READ_PASS;
    for (int guard = 0; guard < 100000; guard++) {
        bool complete = false;
        if (u->resp.body == HTTP_BODY_LENGTH && u->left == 0)
            complete = true;
        struct evbuffer_iovec v;
        if (!complete && !u->paused && evbuffer_get_length(in) == 0 &&
            !read_more(u, in, &budget))
            break;
        if (!complete && u->cb->body_buf && u->resp.body != HTTP_BODY_CHUNKED) {
            if (u->paused || evbuffer_get_length(in) == 0)
                break;
            if (body_move(u, in, &complete) < 0)
                return;
        } else if (!complete) {
            if (u->paused || evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
                break;
            long used = body_span(u, v.iov_base, v.iov_len, &complete);
            if (used < 0)
                return;
            evbuffer_drain(in, (size_t)used);
        }
        if (complete) {
            finish(u); /* bytes after the end are dropped: no reuse */
            return;
        }
    }
    if (u->paused)
        conn_pause(u->c);
}

/* ---- the response head ---------------------------------------------------- */

static void start_body(struct upstream *u, size_t headlen)
{
    evbuffer_drain(conn_input(u->c), headlen);
    if (u->resp.body == HTTP_BODY_NONE) {
        finish(u);
        return;
    }
    u->state = U_BODY;
    u->left = u->resp.content_length;
    if (u->resp.body != HTTP_BODY_LENGTH || u->left > PROXY_STREAM_LOW)
        proxy_stream_bulk(u->c);
    http_chunked_init(&u->ck);
    read_body(u);
}

static void upgraded(struct upstream *u, size_t headlen)
{
    evbuffer_drain(conn_input(u->c), headlen);
    struct conn *c = u->c;
    const struct upstream_cb *cb = u->cb;
    void *arg = u->arg;
    u->c = NULL;
    c->ops = &detached_ops;
    c->ctx = NULL;
    release(u);
    cb->upgraded(arg, c);
}

/* 1: a head was handled (u may be gone: returns -1 then); 0: need more. */
static int read_head(struct upstream *u)
{
    struct evbuffer *in = conn_input(u->c);
    size_t avail = evbuffer_get_length(in);
    size_t want = avail;
    if (want > HTTP_MAX_REQUEST_LINE + HTTP_MAX_HEADER_BYTES + 64)
        want = HTTP_MAX_REQUEST_LINE + HTTP_MAX_HEADER_BYTES + 64;
    if (want == 0)
        return 0;
    const char *base = (const char *)evbuffer_pullup(in, (ssize_t)want);
    int rc = base ? http_parse_response(base, want, &u->resp) : HTTP_PARSE_ERROR;
    if (rc == HTTP_PARSE_MORE)
        return 0;
    if (rc < 0) {
        fail(u, 502,
             u->resp.error == 431 ? "the origin's response head is too large"
                                  : "malformed response head from the origin");
        return -1;
    }
    if (http_response_framing(&u->resp, u->req.head_request, false) < 0) {
        fail(u, 502, "the origin's response framing is invalid");
        return -1;
    }
    if (u->resp.status == 101 && u->req.upgrade) {
        if (u->cb->head(u->arg, &u->resp) == UPSTREAM_ABORT) {
            release(u);
            return -1;
        }
        upgraded(u, (size_t)rc);
        return -1;
    }
    if (u->resp.status < 200) { /* interim (RFC 9110 15.2): not forwarded */
        if (u->resp.status == 101) {
            fail(u, 502, "the origin switched protocols unasked");
            return -1;
        }
        evbuffer_drain(in, (size_t)rc);
        return 1;
    }
    if (u->cb->head(u->arg, &u->resp) == UPSTREAM_ABORT) {
        release(u);
        return -1;
    }
    start_body(u, (size_t)rc);
    return -1;
}

/* ---- the origin conn's callbacks ------------------------------------------ */

static void on_input(struct conn *c)
{
    struct upstream *u = c->ctx;
    if (evbuffer_get_length(conn_input(c)))
        u->got_bytes = true;
    if (u->state == U_BODY) {
        read_body(u);
        return;
    }
    if (u->state != U_HEAD) {
        evbuffer_drain(conn_input(c), evbuffer_get_length(conn_input(c)));
        return;
    }
    for (int guard = 0; guard < 16; guard++)
        if (read_head(u) <= 0)
            return;
    fail(u, 502, "too many interim responses");
}

static void on_drained(struct conn *c)
{
    struct upstream *u = c->ctx;
    if (u->want_body) {
        u->want_body = false;
        u->cb->want_body(u->arg);
    }
}

static void on_timeout(struct conn *c)
{
    struct upstream *u = c->ctx;
    fail(u, 504,
         u->state == U_BODY ? "the origin stalled in the body"
                            : "the origin did not answer in time");
}

/* The origin closed (or the conn failed): the end of a close-delimited
 * body, else an error. */
static void redial(struct upstream *u);

static void on_free(struct conn *c)
{
    struct upstream *u = c->ctx;
    u->c = NULL;
    if (u->state == U_HEAD && u->reused && !u->got_bytes) {
        redial(u); /* a kept conn the origin had closed meanwhile */
        return;
    }
    if (u->state == U_BODY && u->resp.body == HTTP_BODY_CLOSE) {
        finish(u);
        return;
    }
    if (u->state == U_BODY)
        fail(u, 502, "the origin closed before the end of the body");
    else if (u->state == U_TLS)
        fail(u, 502, "TLS handshake with the origin failed");
    else
        fail(u, 502, "the origin closed without a response");
}

static void send_pending(struct upstream *u)
{
    u->state = U_HEAD;
    evbuffer_add_buffer(conn_output(u->c), u->pending);
    if (u->want_body && !conn_output_full(u->c)) {
        u->want_body = false;
        u->cb->want_body(u->arg);
    } else if (u->want_body) {
        conn_notify_drained(u->c, SESSION_OUTPUT_LOW);
    }
}

static void on_tls(struct conn *c)
{
    struct upstream *u = c->ctx;
    struct tls_client_result r;
    if (tls_client_check(conn_ssl(c), TLS_VERIFIED, &r) < 0) {
        char why[200];
        snprintf(why, sizeof why, "origin certificate: %s", r.why);
        fail(u, 502, why);
        return;
    }
    log_debug(u->req.id, "proxy upstream_tls %s verified=yes", r.desc);
    send_pending(u);
}

static const struct conn_ops upstream_ops = {
    .on_input = on_input,
    .on_drained = on_drained,
    .on_timeout = on_timeout,
    .on_free = on_free,
    .on_tls = on_tls,
};

static void attach(struct upstream *u, struct conn *c)
{
    u->c = c;
    u->got_bytes = false;
    c->ops = &upstream_ops;
    c->ctx = u;
    conn_set_idle_timeout(c, (unsigned)runtime->cfg->proxy_timeout);
    metrics_add(c->svc, MET_UPSTREAM, 1);
}

static void dialed(void *arg, struct conn *c, int status, const char *why)
{
    struct upstream *u = arg;
    u->dial = NULL;
    if (!c) {
        fail(u, status, why);
        return;
    }
    attach(u, c);
    if (!u->target.tls) {
        send_pending(u);
        return;
    }
    struct tls_client *t = upstream_tls();
    SSL *ssl = t ? tls_client_new_ssl(t, u->target.host) : NULL;
    u->state = U_TLS;
    if (!ssl || conn_starttls_client(c, ssl) < 0)
        fail(u, 502, "cannot start TLS to the origin");
}

static void redial(struct upstream *u)
{
    log_debug(u->req.id, "proxy upstream_retry host=%s port=%u (kept connection closed)",
              u->target.host, u->target.port);
    u->reused = false;
    u->state = U_DIAL;
    evbuffer_add_buffer(u->pending, u->retry);
    u->dial = dial_start(u->loop, u->req.id, u->target.host, u->target.port,
                         u->target.guard, dialed, u);
    if (!u->dial)
        fail(u, 502, "cannot start a connection");
}

/* A kept connection to the same origin: the head goes at once (a copy is
 * kept for one retry). */
static bool use_kept(struct upstream *u)
{
    pool_key(&u->target, u->key, sizeof u->key);
    if (!u->req.reusable)
        return false;
    struct conn *c = pool_take(u->key);
    if (!c)
        return false;
    u->retry = evbuffer_new();
    size_t n = evbuffer_get_length(u->pending);
    if (!u->retry || evbuffer_add(u->retry, evbuffer_pullup(u->pending, -1), n) < 0) {
        conn_abort(c);
        return false;
    }
    attach(u, c);
    u->reused = true;
    log_debug(u->req.id, "proxy upstream_reuse host=%s port=%u", u->target.host,
              u->target.port);
    send_pending(u);
    return true;
}

struct upstream *upstream_fetch(struct loop *loop, const struct upstream_req *req,
                                const struct upstream_cb *cb, void *arg)
{
    struct upstream *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->loop = loop;
    u->req = *req;
    u->target = *req->target;
    u->req.target = &u->target;
    u->cb = cb;
    u->arg = arg;
    u->pending = evbuffer_new();
    if (!u->pending) {
        free(u);
        return NULL;
    }
    evbuffer_add_buffer(u->pending, req->head);
    if (use_kept(u))
        return u;
    u->state = U_DIAL;
    u->dial = dial_start(loop, req->id, u->target.host, u->target.port, u->target.guard,
                         dialed, u);
    if (!u->dial) {
        evbuffer_free(u->pending);
        free(u);
        return NULL;
    }
    return u;
}

int upstream_write_body(struct upstream *u, const void *p, size_t n)
{
    if (u->state < U_HEAD || !u->c) {
        evbuffer_add(u->pending, p, n);
        if (evbuffer_get_length(u->pending) < UPSTREAM_PENDING_MAX)
            return 0;
        u->want_body = true;
        return 1;
    }
    evbuffer_add(conn_output(u->c), p, n);
    if (!conn_output_full(u->c))
        return 0;
    u->want_body = true;
    conn_notify_drained(u->c, SESSION_OUTPUT_LOW);
    return 1;
}

void upstream_resume(struct upstream *u)
{
    if (!u->paused || !u->c)
        return;
    u->paused = false;
    conn_resume(u->c);
    read_body(u);
}

void upstream_cancel(struct upstream *u)
{
    if (u)
        release(u);
}
