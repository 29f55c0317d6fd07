/* exchange: one proxied request on the client side: the request head for
 * the origin (message.c), the request body streamed into upstream.c with
 * back-pressure (the client is paused while the origin is slow to take
 * it), the response head and body streamed back (the origin is paused
 * while the client is slow), re-chunked where the origin's length is
 * unknown, and the access log line with the origin's time. The cache
 * (cache_glue.h) hooks in before the fetch and in each callback. Also
 * CONNECT, which dials and then hands both conns to tunnel.c. */
#include "http/http.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "http/proxy/cache_glue.h"
#include "http/proxy/dial.h"
#include "http/proxy/message.h"
#include "http/proxy/proxy.h"
#include "http/proxy/proxy_int.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_proxy {
    struct upstream *u;
    struct dial *dial;
    enum proxy_out_body out;
    bool head_sent; /* the response head is in the client's output */
    bool body_done; /* the whole request body went to the origin */
    bool body_wait; /* the client is paused until want_body */
    bool out_wait;  /* the origin is paused until the client drains */
    bool resp_done; /* the response is complete (the body may still come) */
    uint64_t start_us;
    /* The request, kept for a retry after a collapsed wait. */
    struct upstream_target t;
    struct http_str path;
    bool reverse, upgrade;
    struct pc_req *cr; /* the cache's state (NULL: not cached) */
};

static void px_free(struct http_conn *h)
{
    struct http_proxy *px = h->px;
    if (!px)
        return;
    h->px = NULL;
    upstream_cancel(px->u);
    dial_cancel(px->dial);
    proxy_cache_req_free(px->cr);
    free(px);
}

void http_proxy_free(struct http_conn *h)
{
    px_free(h);
}

bool http_proxy_drained(struct http_conn *h)
{
    struct http_proxy *px = h->px;
    if (!px->out_wait)
        return false;
    px->out_wait = false;
    upstream_resume(px->u);
    return true;
}

void proxy_refuse(struct http_conn *h, int status, const char *why)
{
    bool body = h->req.chunked || h->req.content_length;
    if (body)
        h->close_after = true;
    if (status != 407) {
        http_error(h, status, why);
        return;
    }
    static const char page[] =
        "<!DOCTYPE html>\n<html><body><h1>407 Proxy Authentication "
        "Required</h1></body></html>\n";
    h->linger |= h->close_after;
    http_resp_start(h, 407);
    /* RFC 9110 11.7.1; RFC 7617 2 */
    http_resp_header(h, "Proxy-Authenticate",
                     "Basic realm=\"portico proxy\", charset=\"UTF-8\"");
    http_resp_header(h, "Content-Type", "text/html; charset=utf-8");
    http_resp_end_head(h, sizeof page - 1);
    if (!h->head_only)
        evbuffer_add(conn_output(h->c), page, sizeof page - 1);
    http_request_end(h);
}

/* ---- the response ---------------------------------------------------------- */

static void request_done(struct http_conn *h)
{
    struct http_proxy *px = h->px;
    if (!px->body_done)
        h->close_after = true; /* the rest of the request body is not read */
    px_free(h);
    http_request_end(h);
}

/* The client conn failed the request meanwhile (a malformed request body:
 * conn.c answered and is closing): the exchange is dropped. */
static bool client_gone(struct http_conn *h)
{
    if (!h->c->closing)
        return false;
    h->px->u = NULL;
    px_free(h);
    return true;
}

static int on_head(void *arg, const struct http_response *r)
{
    struct http_conn *h = arg;
    struct http_proxy *px = h->px;
    if (client_gone(h))
        return UPSTREAM_ABORT;
    h->upstream_us = metrics_now_us() - px->start_us;
    if (h->upstream_us == 0)
        h->upstream_us = 1;
    h->status = r->status;
    if (proxy_cache_head(h, px->cr, r)) { /* answered from the cache */
        px->u = NULL;
        request_done(h);
        return UPSTREAM_ABORT;
    }
    unsigned max = runtime ? (unsigned)runtime->cfg->http_max_requests : 1000;
    bool close = h->close_after || !h->req.keep_alive || !px->body_done || h->nreq >= max;
    px->out = proxy_response_head(conn_output(h->c), h, r, close);
    if (r->body != HTTP_BODY_NONE &&
        (r->body != HTTP_BODY_LENGTH || r->content_length > PROXY_STREAM_LOW))
        proxy_stream_bulk(h->c);
    if (close || px->out == OUT_CLOSE)
        h->close_after = true;
    px->head_sent = true;
    return UPSTREAM_OK;
}

/* Back-pressure: over the high mark the origin waits for the drain. */
static int output_pressure(struct http_conn *h, struct evbuffer *out)
{
    if (evbuffer_get_length(out) <= PROXY_STREAM_HIGH)
        return UPSTREAM_OK;
    h->px->out_wait = true;
    conn_notify_drained(h->c, PROXY_STREAM_LOW);
    return UPSTREAM_PAUSE;
}

static int on_body(void *arg, const char *p, size_t n)
{
    struct http_conn *h = arg;
    struct http_proxy *px = h->px;
    if (client_gone(h))
        return UPSTREAM_ABORT;
    proxy_cache_body(px->cr, p, n);
    struct evbuffer *out = conn_output(h->c);
    if (px->out == OUT_CHUNKED)
        evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_add(out, p, n);
    if (px->out == OUT_CHUNKED)
        evbuffer_add(out, "\r\n", 2);
    h->sent += n;
    return output_pressure(h, out);
}

/* The cache sees the first n bytes of in, where they are. */
static void cache_peek(struct pc_req *cr, struct evbuffer *in, size_t n)
{
    struct evbuffer_ptr pos;
    evbuffer_ptr_set(in, &pos, 0, EVBUFFER_PTR_SET);
    for (int guard = 0; n > 0 && guard < 100000; guard++) {
        struct evbuffer_iovec v[16];
        int k = evbuffer_peek(in, (ev_ssize_t)n, &pos, v, 16);
        if (k <= 0)
            return;
        size_t seen = 0;
        for (int i = 0; i < k && i < 16 && n > 0; i++) {
            size_t len = v[i].iov_len < n ? v[i].iov_len : n;
            proxy_cache_body(cr, v[i].iov_base, len);
            n -= len;
            seen += len;
        }
        evbuffer_ptr_set(in, &pos, seen, EVBUFFER_PTR_ADD);
    }
}

/* A body that is not chunked: its bytes move from the origin's input to
 * the client's output without a copy (whole chains change hands). */
static int on_body_buf(void *arg, struct evbuffer *in, size_t n)
{
    struct http_conn *h = arg;
    struct http_proxy *px = h->px;
    if (client_gone(h))
        return UPSTREAM_ABORT;
    if (px->cr && px->cr->ins)
        cache_peek(px->cr, in, n);
    struct evbuffer *out = conn_output(h->c);
    if (px->out == OUT_CHUNKED)
        evbuffer_add_printf(out, "%zx\r\n", n);
    evbuffer_remove_buffer(in, out, n);
    if (px->out == OUT_CHUNKED)
        evbuffer_add(out, "\r\n", 2);
    h->sent += n;
    return output_pressure(h, out);
}

static void on_end(void *arg)
{
    struct http_conn *h = arg;
    struct http_proxy *px = h->px;
    if (client_gone(h))
        return;
    px->u = NULL;
    proxy_cache_end(h, px->cr);
    if (px->out == OUT_CHUNKED)
        evbuffer_add(conn_output(h->c), "0\r\n\r\n", 5);
    px->resp_done = true;
    /* If the origin answered before the whole request body came, the
     * connection closes once the answer is out (request_done). */
    request_done(h);
}

static void on_error(void *arg, int status, const char *why)
{
    struct http_conn *h = arg;
    struct http_proxy *px = h->px;
    if (client_gone(h))
        return;
    px->u = NULL;
    if (px->head_sent) { /* the body was cut: so is the connection (RFC 9112 8) */
        h->close_after = true;
        px_free(h);
        http_request_end(h);
        return;
    }
    if (proxy_cache_error(h, px->cr)) { /* stale-if-error (RFC 5861 4) */
        request_done(h);
        return;
    }
    if (!px->body_done)
        h->close_after = true;
    px_free(h);
    http_error(h, status, why);
}

static void on_upgraded(void *arg, struct conn *origin)
{
    struct http_conn *h = arg;
    if (client_gone(h)) {
        conn_abort(origin);
        return;
    }
    h->px->u = NULL; /* gone: the origin conn is ours now */
    px_free(h);
    http_log_request(h);
    conn_command_done(h->c, h->req_start_us);
    metrics_add(h->c->svc, MET_TUNNELS, 1);
    proxy_tunnel(h->c, origin);
}

static void on_want_body(void *arg)
{
    struct http_conn *h = arg;
    struct http_proxy *px = h->px;
    if (!px->body_wait)
        return;
    px->body_wait = false;
    h->state = HS_BODY;
    http_resume(h);
}

static const struct upstream_cb exchange_cb = {
    .head = on_head,
    .body = on_body,
    .body_buf = on_body_buf,
    .end = on_end,
    .error = on_error,
    .upgraded = on_upgraded,
    .want_body = on_want_body,
};

/* ---- the request body ------------------------------------------------------ */

static int body_data(struct http_conn *h, const char *p, size_t n)
{
    struct http_proxy *px = h->px;
    if (!px || !px->u)
        return 0; /* answered already; the rest is dropped */
    char size[24];
    int rc;
    if (h->req.chunked) { /* re-framed: the origin sees our chunks only */
        int k = snprintf(size, sizeof size, "%zx\r\n", n);
        upstream_write_body(px->u, size, (size_t)k);
        upstream_write_body(px->u, p, n);
        rc = upstream_write_body(px->u, "\r\n", 2);
    } else {
        rc = upstream_write_body(px->u, p, n);
    }
    if (rc == 1) {
        px->body_wait = true;
        http_suspend(h);
    }
    return 0;
}

static void body_done(struct http_conn *h)
{
    struct http_proxy *px = h->px;
    if (!px)
        return;
    px->body_done = true;
    if (px->u && h->req.chunked)
        upstream_write_body(px->u, "0\r\n\r\n", 5);
    /* waiting for the response (HS_WAIT, reading paused) */
}

static void fetch(struct http_conn *h)
{
    struct http_proxy *px = h->px;
    const struct upstream_target *t = &px->t;
    struct evbuffer *head = evbuffer_new();
    if (!head) {
        px_free(h);
        proxy_refuse(h, 500, "Out of memory.");
        return;
    }
    /* Safe and bodyless: the origin connection may be kept (pool.c). */
    bool safe =
        h->req.m == HTTP_M_GET || h->req.m == HTTP_M_HEAD || h->req.m == HTTP_M_OPTIONS;
    bool reusable = safe && !px->upgrade && !h->req.chunked && !h->req.content_length;
    struct proxy_out_req o = {.path = px->path,
                              .target = t,
                              .reverse = px->reverse,
                              .upgrade = px->upgrade,
                              .persist = reusable};
    if (px->cr && px->cr->validating) { /* RFC 9111 4.3.1 */
        o.extra = px->cr->cond;
        o.nextra = px->cr->ncond;
    }
    proxy_request_head(head, h, &o);
    struct upstream_req req = {.target = t,
                               .head = head,
                               .head_request = h->req.m == HTTP_M_HEAD,
                               .upgrade = px->upgrade,
                               .reusable = reusable,
                               .id = h->c->id};
    px->start_us = metrics_now_us();
    log_debug(h->c->id, "proxy fetch host=%s port=%u tls=%d guard=%d", t->host, t->port,
              t->tls, t->guard);
    px->u = upstream_fetch(h->c->loop, &req, &exchange_cb, h);
    evbuffer_free(head);
    if (!px->u) {
        px_free(h);
        proxy_refuse(h, 500, "Out of memory.");
        return;
    }
    if (h->req.chunked || h->req.content_length) {
        http_body_start(h, HTTP_MAX_UPLOAD_BYTES, body_data, body_done);
        return;
    }
    px->body_done = true;
    http_suspend(h);
}

/* The cache first (not for upgrades): a hit, a 504, a wait, or the fetch. */
static void exchange_go(struct http_conn *h, bool retry)
{
    struct http_proxy *px = h->px;
    enum pc_start s = PC_FORWARD;
    if (!px->upgrade)
        s = proxy_cache_start(h, &px->cr, &px->t, px->path, retry);
    switch (s) {
    case PC_ANSWERED:
        px->body_done = !h->req.chunked && !h->req.content_length;
        request_done(h);
        return;
    case PC_GATEWAY_TIMEOUT: /* RFC 9111 5.2.1.7 */
        px_free(h);
        proxy_refuse(h, 504, "Not in the cache (only-if-cached).");
        return;
    case PC_WAITING:
        http_suspend(h);
        return;
    case PC_FORWARD:
        break;
    }
    fetch(h);
}

void proxy_exchange_retry(struct http_conn *h)
{
    struct http_proxy *px = h->px;
    px->cr->wait = NULL; /* over: cache_wait.c freed it */
    proxy_cache_req_free(px->cr);
    px->cr = NULL;
    exchange_go(h, true);
}

void proxy_exchange(struct http_conn *h, const struct upstream_target *t,
                    struct http_str path, bool reverse, bool upgrade)
{
    struct http_proxy *px = calloc(1, sizeof *px);
    if (!px) {
        proxy_refuse(h, 500, "Out of memory.");
        return;
    }
    px->t = *t;
    px->path = path;
    px->reverse = reverse;
    px->upgrade = upgrade;
    h->px = px;
    exchange_go(h, false);
}

/* ---- CONNECT (RFC 9110 9.3.6) ---------------------------------------------- */

static void connect_dialed(void *arg, struct conn *origin, int status, const char *why)
{
    struct http_conn *h = arg;
    h->px->dial = NULL;
    h->upstream_us = metrics_now_us() - h->px->start_us + 1;
    px_free(h);
    if (!origin) {
        h->close_after = true;
        http_error(h, status, why);
        return;
    }
    /* RFC 9110 9.3.6: a 2xx has no body and no framing fields. */
    static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    evbuffer_add(conn_output(h->c), ok, sizeof ok - 1);
    h->status = 200;
    http_log_request(h);
    conn_command_done(h->c, h->req_start_us);
    metrics_add(h->c->svc, MET_TUNNELS, 1);
    metrics_add(h->c->svc, MET_UPSTREAM, 1);
    proxy_tunnel(h->c, origin);
}

void proxy_connect(struct http_conn *h, const char *host, uint16_t port, bool guard)
{
    struct http_proxy *px = calloc(1, sizeof *px);
    if (!px) {
        proxy_refuse(h, 500, "Out of memory.");
        return;
    }
    h->px = px;
    px->start_us = metrics_now_us();
    px->dial = dial_start(h->c->loop, h->c->id, host, port, guard, connect_dialed, h);
    if (!px->dial) {
        px_free(h);
        proxy_refuse(h, 500, "Out of memory.");
        return;
    }
    http_suspend(h);
}
