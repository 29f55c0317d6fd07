/* conn_deflate: the DEFLATE layer of a connection (RFC 4978 COMPRESS, raw
 * RFC 1951 streams through zlib), as a libevent filter over the socket or
 * TLS bufferevent. Output is compressed as it is written and flushed
 * (Z_SYNC_FLUSH) when the writes of a loop pass have all gone in, so a
 * reply made of many writes travels as one flushed block; input is
 * inflated no further than the filter's read high-water mark, a small
 * piece at a time, so a few compressed bytes cannot fill memory. */
#include "core/conn_deflate.h"

#include "core/log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <zlib.h>

/* Our window: 2 KiB (RFC 4978 4 lets the sender choose a smaller one);
 * with memLevel 5 the compressor holds about 24 KiB. The client's window
 * may be 32 KiB, which the decompressor must accept. */
#define DEFLATE_OUT_WBITS 11
#define DEFLATE_OUT_MEMLEVEL 5
#define DEFLATE_IN_WBITS 15
#define DEFLATE_RESERVE 4096 /* output space asked for per step */
#define DEFLATE_STEP_IN 16384
/* DEFLATE expands at most about 1032:1: input is fed in pieces so that
 * one piece cannot take the decompressed input more than
 * CONN_DEFLATE_IN_SLACK past its limit, and no smaller than that allows. */
#define INFLATE_RATIO 1032

struct deflate_ctx {
    z_stream out, in;
    bool out_ready, in_ready;
    bool dirty;      /* input went into the compressor since its last flush */
    bool want_flush; /* a flush waits for the layer below to take the rest */
    struct bufferevent *bev, *under;
};

static void ctx_free(void *arg)
{
    struct deflate_ctx *x = arg;
    if (x->out_ready)
        deflateEnd(&x->out);
    if (x->in_ready)
        inflateEnd(&x->in);
    free(x);
}

/* Runs z over one piece of input (next_in/avail_in set), appending what it
 * makes to dst until it has nothing more to give. */
static int run(z_stream *z, bool compress, int flush, struct evbuffer *dst, size_t *made)
{
    for (;;) {
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(dst, DEFLATE_RESERVE, &v, 1) < 1)
            return -1;
        z->next_out = v.iov_base;
        z->avail_out = (uInt)v.iov_len;
        int rc;
        if (compress)
            rc = deflate(z, flush);
        else
            rc = inflate(z, flush);
        v.iov_len -= z->avail_out;
        *made += v.iov_len;
        if (evbuffer_commit_space(dst, &v, 1) < 0)
            return -1;
        if (rc != Z_OK && rc != Z_BUF_ERROR)
            return -1; /* Z_STREAM_END too: a COMPRESS stream never ends */
        if (z->avail_out != 0)
            return 0;
    }
}

/* Runs z over the first piece of src, at most max bytes, and drains what
 * it took. */
static int feed(z_stream *z, bool compress, int flush, struct evbuffer *src, size_t max,
                struct evbuffer *dst, size_t *made)
{
    struct evbuffer_iovec v;
    if (evbuffer_peek(src, -1, NULL, &v, 1) < 1)
        return 0;
    size_t n = v.iov_len;
    if (n > max)
        n = max;
    z->next_in = v.iov_base;
    z->avail_in = (uInt)n;
    if (run(z, compress, flush, dst, made) < 0)
        return -1;
    evbuffer_drain(src, n - z->avail_in);
    return 0;
}

/* Writes (src: what the protocol wrote; dst: the layer below). A pass
 * takes what fits under the lower layer's high-water mark (libevent's
 * limit; ours for a flush, which libevent leaves unlimited) without
 * flushing. A flush (conn_deflate_flush) that has taken everything ends
 * with Z_SYNC_FLUSH so the peer can decompress all of it now; one that
 * could not is finished by the pass that takes the rest. A flush that took
 * everything regardless would, since each flush runs the write callback
 * again, pump a whole FETCH into memory for a client that reads nothing. */
static enum bufferevent_filter_result deflate_out(struct evbuffer *src,
                                                  struct evbuffer *dst, ev_ssize_t limit,
                                                  enum bufferevent_flush_mode mode,
                                                  void *arg)
{
    struct deflate_ctx *x = arg;
    size_t made = 0;
    bool took = false;
    if (mode != BEV_NORMAL) {
        size_t held = evbuffer_get_length(bufferevent_get_output(x->under));
        limit = 0;
        if (held < CONN_DEFLATE_OUT_HIGH)
            limit = (ev_ssize_t)(CONN_DEFLATE_OUT_HIGH - held);
        x->want_flush = true;
    }
    while (evbuffer_get_length(src) > 0 && (limit < 0 || made < (size_t)limit)) {
        if (feed(&x->out, true, Z_NO_FLUSH, src, DEFLATE_STEP_IN, dst, &made) < 0)
            return BEV_ERROR;
        x->dirty = took = true;
    }
    if (x->want_flush && evbuffer_get_length(src) == 0) {
        x->want_flush = false;
        x->out.next_in = NULL;
        x->out.avail_in = 0;
        if (x->dirty && run(&x->out, true, Z_SYNC_FLUSH, dst, &made) < 0)
            return BEV_ERROR;
        x->dirty = false;
    }
    /* BEV_OK even when zlib kept all of it: the write callback that
     * follows is what flushes it (conn.c). */
    if (!took && made == 0)
        return BEV_NEED_MORE;
    return BEV_OK;
}

/* Reads (src: the layer below; dst: what the protocol reads), up to limit
 * bytes decompressed (the filter's read high-water mark). */
static enum bufferevent_filter_result inflate_in(struct evbuffer *src,
                                                 struct evbuffer *dst, ev_ssize_t limit,
                                                 enum bufferevent_flush_mode mode,
                                                 void *arg)
{
    struct deflate_ctx *x = arg;
    size_t made = 0, room = CONN_DEFLATE_IN_HIGH;
    if (limit >= 0)
        room = (size_t)limit;
    while (evbuffer_get_length(src) > 0 && made < room) {
        size_t max = (room - made) / INFLATE_RATIO + 1;
        if (max < CONN_DEFLATE_IN_SLACK / INFLATE_RATIO)
            max = CONN_DEFLATE_IN_SLACK / INFLATE_RATIO;
        if (feed(&x->in, false, Z_SYNC_FLUSH, src, max, dst, &made) < 0) {
            log_info(0, "core deflate error=\"%s\"", x->in.msg ? x->in.msg : "corrupt");
            bufferevent_trigger_event(x->bev, BEV_EVENT_READING | BEV_EVENT_ERROR, 0);
            return BEV_ERROR;
        }
    }
    if (made == 0)
        return BEV_NEED_MORE;
    return BEV_OK;
}

struct bufferevent *conn_deflate_new(struct bufferevent *under)
{
    struct deflate_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->out_ready =
        deflateInit2(&x->out, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -DEFLATE_OUT_WBITS,
                     DEFLATE_OUT_MEMLEVEL, Z_DEFAULT_STRATEGY) == Z_OK;
    x->in_ready = inflateInit2(&x->in, -DEFLATE_IN_WBITS) == Z_OK;
    struct bufferevent *bev = NULL;
    if (x->out_ready && x->in_ready)
        bev = bufferevent_filter_new(under, inflate_in, deflate_out,
                                     BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS,
                                     ctx_free, x);
    if (!bev) {
        ctx_free(x);
        return NULL;
    }
    x->bev = bev;
    x->under = under;
    bufferevent_setwatermark(bev, EV_READ, 0, CONN_DEFLATE_IN_HIGH);
    /* Compressed output waits above the layer below once it holds this
     * much: the protocol's own back-pressure then sees it. */
    bufferevent_setwatermark(under, EV_WRITE, 0, CONN_DEFLATE_OUT_HIGH);
    return bev;
}

void conn_deflate_flush(struct bufferevent *bev)
{
    bufferevent_flush(bev, EV_WRITE, BEV_FLUSH);
}
