/* Fuzzes the DEFLATE layer's input side (core/conn_deflate.c) with what
 * a peer may send after COMPRESS: the input goes through an in-memory
 * bufferevent pair into the filter in chunks whose size comes from the
 * first byte, and the reader drains what comes out. Whatever the bytes,
 * the decompressed input never holds much more than the read mark, and
 * the stream either decompresses or ends in an error event. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/conn_deflate.h"

static size_t most;

static void on_read(struct bufferevent *bev, void *arg)
{
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    if (len > most)
        most = len;
    evbuffer_drain(in, len);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    *(short *)arg |= what;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] * 16 + 1;
    data++, size--;
    struct event_base *base = event_base_new();
    struct bufferevent *pair[2];
    if (!base || bufferevent_pair_new(base, 0, pair) < 0)
        abort();
    struct bufferevent *z = conn_deflate_new(pair[0]);
    if (!z)
        abort();
    short events = 0;
    most = 0;
    bufferevent_setcb(z, on_read, NULL, on_event, &events);
    bufferevent_enable(z, EV_READ | EV_WRITE);
    bufferevent_enable(pair[1], EV_WRITE);
    for (size_t off = 0; off < size && !(events & BEV_EVENT_ERROR); off += step) {
        size_t n = size - off < step ? size - off : step;
        bufferevent_write(pair[1], data + off, n);
        for (int i = 0; i < 64; i++)
            event_base_loop(base, EVLOOP_NONBLOCK);
    }
    if (most > CONN_DEFLATE_IN_HIGH + CONN_DEFLATE_IN_SLACK)
        abort();
    bufferevent_free(z);
    bufferevent_free(pair[1]);
    event_base_free(base);
    return 0;
}
