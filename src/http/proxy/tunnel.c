/* tunnel: a byte pipe between the client and an origin after CONNECT's 200
 * or a WebSocket 101 (RFC 9110 9.3.6, 7.8): what one side sends is written
 * to the other, reading paused while the other's output is full (bounded
 * memory), until either side closes or both stay idle for [proxy]
 * tunnel_timeout. The client conn keeps its http_conn, freed with it. */
#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "http/http.h"
#include "http/proxy/proxy_int.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>

struct tunnel {
    struct conn *side[2]; /* 0: the client, 1: the origin */
    const struct conn_ops *client_ops;
    void *client_ctx;
    uint64_t bytes[2]; /* from each side */
    int live;
};

void proxy_stream_bulk(struct conn *c)
{
    bufferevent_set_max_single_read(c->bev, PROXY_STREAM_LOW);
    bufferevent_set_max_single_write(c->bev, PROXY_STREAM_LOW);
}

static int side_of(struct tunnel *t, struct conn *c)
{
    return t->side[1] == c ? 1 : 0;
}

static void pump(struct tunnel *t, int from)
{
    struct conn *src = t->side[from], *dst = t->side[!from];
    if (!src || src->closing)
        return;
    struct evbuffer *in = conn_input(src);
    size_t n = evbuffer_get_length(in);
    if (!dst || dst->closing) {
        evbuffer_drain(in, n);
        return;
    }
    struct evbuffer *out = conn_output(dst);
    evbuffer_add_buffer(out, in); /* moves the chains, no copy */
    /* Then straight from src's socket into dst's output, up to the high
     * mark (core conn_read_bulk): a few large reads instead of 4 KiB ones. */
    size_t have = evbuffer_get_length(out);
    if (have < PROXY_STREAM_HIGH)
        n += conn_read_bulk(src, out, PROXY_STREAM_HIGH - have);
    t->bytes[from] += n;
    if (evbuffer_get_length(out) >= PROXY_STREAM_HIGH) {
        conn_pause(src);
        conn_notify_drained(dst, PROXY_STREAM_LOW);
    }
}

static void on_input(struct conn *c)
{
    struct tunnel *t = c->ctx;
    pump(t, side_of(t, c));
}

/* c's output drained: its peer may send again. */
static void on_drained(struct conn *c)
{
    struct tunnel *t = c->ctx;
    int s = side_of(t, c);
    struct conn *peer = t->side[!s];
    if (peer && !peer->closing) {
        conn_resume(peer);
        pump(t, !s);
    }
}

static void on_shutdown(struct conn *c)
{
    conn_close(c);
}

static void on_free(struct conn *c)
{
    struct tunnel *t = c->ctx;
    int s = side_of(t, c);
    t->side[s] = NULL;
    if (s == 0) {
        log_info(c->id, "proxy tunnel_end up=%llu down=%llu",
                 (unsigned long long)t->bytes[0], (unsigned long long)t->bytes[1]);
        c->ops = t->client_ops;
        c->ctx = t->client_ctx;
        c->ops->on_free(c);
    }
    if (t->side[!s]) /* the other side's output is flushed, then it closes */
        conn_close(t->side[!s]);
    if (--t->live == 0)
        free(t);
}

static const struct conn_ops tunnel_ops = {
    .on_input = on_input,
    .on_drained = on_drained,
    .on_shutdown = on_shutdown,
    .on_free = on_free,
};

void proxy_tunnel(struct conn *client, struct conn *origin)
{
    struct http_conn *h = client->ctx;
    struct tunnel *t = calloc(1, sizeof *t);
    if (!t) {
        conn_abort(origin);
        conn_close(client);
        return;
    }
    h->state = HS_CLOSED; /* the http_conn's timers leave the conn alone */
    if (h->head_timer)
        evtimer_del(h->head_timer);
    t->side[0] = client;
    t->side[1] = origin;
    t->client_ops = client->ops;
    t->client_ctx = client->ctx;
    t->live = 2;
    for (int s = 0; s < 2; s++) {
        t->side[s]->ops = &tunnel_ops;
        t->side[s]->ctx = t;
        conn_set_idle_timeout(t->side[s], (unsigned)runtime->cfg->proxy_tunnel_timeout);
        proxy_stream_bulk(t->side[s]);
    }
    conn_resume(client);
    conn_resume(origin);
    log_info(client->id, "proxy tunnel_start origin=%s", origin->peer_ip);
    pump(t, 0);
    pump(t, 1);
}
