/* test_deflate: core/conn_deflate.c over a real socketpair, the peer side
 * played with zlib directly: what is written arrives compressed and is
 * flushed by conn_deflate_flush; what the peer compresses is read back
 * whole; a decompression bomb (16 MiB of zeros in a few KiB) is inflated
 * no further than the read high-water mark at any time yet arrives
 * whole as the reader drains it; corrupt input is an error event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "core/conn_deflate.h"

struct pair {
    struct event_base *base;
    struct bufferevent *z; /* the layer under test, over one end */
    int peer;              /* the other end, blocking */
    short events;          /* what the event callback saw */
    size_t read, most;     /* bytes read from z; the most buffered at once */
};

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct pair *p = arg;
    p->events |= what;
}

/* Drains z's input in small bites, noting how much it held. */
static void on_read(struct bufferevent *bev, void *arg)
{
    struct pair *p = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    size_t len = evbuffer_get_length(in);
    if (len > p->most)
        p->most = len;
    p->read += len;
    evbuffer_drain(in, len);
}

static void pair_open(struct pair *p)
{
    memset(p, 0, sizeof *p);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    evutil_make_socket_nonblocking(sv[0]);
    p->base = event_base_new();
    struct bufferevent *sock =
        bufferevent_socket_new(p->base, sv[0], BEV_OPT_CLOSE_ON_FREE);
    p->z = conn_deflate_new(sock);
    assert_non_null(p->z);
    p->peer = sv[1];
    bufferevent_setcb(p->z, on_read, NULL, on_event, p);
    bufferevent_enable(p->z, EV_READ | EV_WRITE);
}

static void pair_close(struct pair *p)
{
    bufferevent_free(p->z);
    close(p->peer);
    event_base_free(p->base);
}

static void run_loop(struct pair *p)
{
    for (int i = 0; i < 200; i++)
        event_base_loop(p->base, EVLOOP_NONBLOCK);
}

static void test_output_compressed_and_flushed(void **state)
{
    struct pair p;
    pair_open(&p);
    static char text[64 * 1024];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "* 1 FETCH (FLAGS (\\Seen))\r\n"[i % 27];
    for (size_t off = 0; off < sizeof text; off += 1000) {
        size_t n = sizeof text - off < 1000 ? sizeof text - off : 1000;
        assert_int_equal(bufferevent_write(p.z, text + off, n), 0);
    }
    conn_deflate_flush(p.z);
    run_loop(&p);

    z_stream in = {0};
    assert_int_equal(inflateInit2(&in, -15), Z_OK);
    static unsigned char wire[64 * 1024], plain[sizeof text + 1];
    ssize_t n = recv(p.peer, wire, sizeof wire, MSG_DONTWAIT);
    assert_true(n > 0);
    assert_true((size_t)n < sizeof text / 20); /* repetitive text shrinks */
    in.next_in = wire;
    in.avail_in = (uInt)n;
    in.next_out = plain;
    in.avail_out = sizeof plain;
    assert_int_equal(inflate(&in, Z_SYNC_FLUSH), Z_OK);
    /* All of it, at once: the flush ended the block. */
    assert_int_equal(sizeof plain - in.avail_out, sizeof text);
    assert_memory_equal(plain, text, sizeof text);
    inflateEnd(&in);
    pair_close(&p);
}

/* The peer's side: bytes compressed with its own stream, sync-flushed. */
static size_t peer_compress(z_stream *out, const void *data, size_t len,
                            unsigned char *wire, size_t max)
{
    out->next_in = (unsigned char *)data;
    out->avail_in = (uInt)len;
    out->next_out = wire;
    out->avail_out = (uInt)max;
    assert_int_equal(deflate(out, Z_SYNC_FLUSH), Z_OK);
    assert_int_equal(out->avail_in, 0);
    return max - out->avail_out;
}

static void send_all(int fd, const unsigned char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, 0);
        assert_true(n > 0);
        data += n;
        len -= (size_t)n;
    }
}

static void test_input_decompressed(void **state)
{
    struct pair p;
    pair_open(&p);
    z_stream out = {0};
    assert_int_equal(deflateInit2(&out, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    static unsigned char wire[4096];
    const char *cmds[] = {"a NOOP\r\n", "b CAPABILITY\r\n", "c LOGOUT\r\n"};
    size_t total = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = peer_compress(&out, cmds[i], strlen(cmds[i]), wire, sizeof wire);
        send_all(p.peer, wire, n);
        total += strlen(cmds[i]);
    }
    run_loop(&p);
    assert_int_equal(p.read, total);
    assert_int_equal(p.events, 0);
    deflateEnd(&out);
    pair_close(&p);
}

#define BOMB (16u << 20)

static void test_bomb_bounded(void **state)
{
    struct pair p;
    pair_open(&p);
    /* Read in bites no larger than the mark allows at once: the on_read
     * above drains everything, so p.most is what one pass inflated. */
    z_stream out = {0};
    assert_int_equal(deflateInit2(&out, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    unsigned char *zeros = calloc(1, BOMB);
    unsigned char *wire = malloc(BOMB / 100);
    assert_non_null(zeros);
    assert_non_null(wire);
    size_t n = peer_compress(&out, zeros, BOMB, wire, BOMB / 100);
    assert_true(n < 32768); /* a few KiB on the wire */
    send_all(p.peer, wire, n);
    for (int i = 0; i < 2000 && p.read < BOMB; i++)
        event_base_loop(p.base, EVLOOP_NONBLOCK);
    assert_int_equal(p.read, BOMB);
    assert_true(p.most <= CONN_DEFLATE_IN_HIGH + CONN_DEFLATE_IN_SLACK);
    assert_int_equal(p.events, 0);
    free(zeros);
    free(wire);
    deflateEnd(&out);
    pair_close(&p);
}

static void test_corrupt_input_is_an_error(void **state)
{
    struct pair p;
    pair_open(&p);
    static const unsigned char junk[] = {0xff, 0xff, 0xff, 0xff, 0x00, 0x13, 0x37};
    send_all(p.peer, junk, sizeof junk);
    run_loop(&p);
    assert_true(p.events & BEV_EVENT_ERROR);
    assert_int_equal(p.read, 0);
    pair_close(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_compressed_and_flushed),
        cmocka_unit_test(test_input_decompressed),
        cmocka_unit_test(test_bomb_bounded),
        cmocka_unit_test(test_corrupt_input_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
