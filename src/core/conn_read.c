/* conn_read: bulk reads of a plain conn. libevent 2.1 reads a socket at
 * most 4 KiB per call (EVBUFFER_MAX_READ), one wakeup each: about 256
 * reads and loop passes per MiB. A protocol moving a stream (the proxy's
 * response bodies and tunnels) reads the socket through conn_read_bulk in
 * pieces of up to CONN_READ_PIECE, straight into the evbuffer the bytes go
 * to next, after what the bufferevent already read, so the order holds.
 * EOF and errors are left for the bufferevent's next read, which finds
 * them (the socket stays readable). The caller bounds every read by what
 * its back-pressure allows. */
#include "core/conn.h"
#include "core/limits.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/uio.h>

/* Trims the reserved vectors to n bytes; returns how many are used. */
static int trim(struct evbuffer_iovec *v, int nv, size_t n)
{
    int used = 0;
    for (int i = 0; i < nv; i++) {
        if (n == 0) {
            v[i].iov_len = 0;
            continue;
        }
        if (v[i].iov_len > n)
            v[i].iov_len = n;
        n -= v[i].iov_len;
        used = i + 1;
    }
    return used;
}

/* One readv of at most want bytes into dst: the count, 0 at EAGAIN, EOF
 * or an error (left to the bufferevent). */
static size_t read_once(int fd, struct evbuffer *dst, size_t want)
{
    struct evbuffer_iovec v[2];
    int nv = evbuffer_reserve_space(dst, (ev_ssize_t)want, v, 2);
    if (nv <= 0)
        return 0;
    trim(v, nv, want);
    ssize_t n;
    do
        n = readv(fd, (struct iovec *)v, nv); /* evbuffer_iovec is an iovec */
    while (n < 0 && errno == EINTR);
    if (n <= 0) {
        evbuffer_commit_space(dst, v, 0);
        return 0;
    }
    int used = trim(v, nv, (size_t)n);
    evbuffer_commit_space(dst, v, used);
    return (size_t)n;
}

size_t conn_read_bulk(struct conn *c, struct evbuffer *dst, size_t max)
{
    if (!c || !c->direct || c->tls || c->closing || c->paused || c->blocked)
        return 0;
    int fd = (int)bufferevent_getfd(c->bev);
    if (fd < 0)
        return 0;
    /* A socket bufferevent's input is frozen at its end (only its own
     * read adds there): thawed around ours, as libevent does. */
    bool own = dst == bufferevent_get_input(c->bev);
    if (own)
        evbuffer_unfreeze(dst, 0);
    size_t got = 0;
    while (got < max) {
        size_t want = max - got;
        if (want > CONN_READ_PIECE)
            want = CONN_READ_PIECE;
        size_t n = read_once(fd, dst, want);
        got += n;
        if (n < want)
            break; /* drained for now (or EOF, or an error) */
    }
    if (own)
        evbuffer_freeze(dst, 0);
    return got;
}
