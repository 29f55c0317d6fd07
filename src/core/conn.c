/* conn: the bufferevent plumbing under every protocol. Callbacks hold a
 * reference while they run; the last unref schedules the free on the loop
 * (the reaper event), never inside the caller's frame. */
#include "core/conn.h"

#include "core/conn_deflate.h"
#include "core/iplimit.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <malloc.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void under_drained_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                             void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);
static void after_write(struct conn *c);

static atomic_int live_conns; /* counted against [portico] max_connections */

int conn_count(void)
{
    return atomic_load(&live_conns);
}

/* glibc keeps freed chunks of every arena; after a burst of closes hand
 * the free pages back, so RSS follows the connections that are open.
 * Under AddressSanitizer its own allocator holds the freed memory, and
 * glibc's is never used: malloc_trim would be its first call, and two
 * loops making that first call at once both attach to glibc's main arena
 * (its lazy set-up is not guarded), which aborts the second thread's exit
 * ("a->attached_threads > 0"). */
extern void __sanitizer_purge_allocator(void) __attribute__((weak));

static void trim_cb(evutil_socket_t fd, short what, void *arg)
{
    struct loop *loop = arg;
    loop->trim_pending = false;
    if (__sanitizer_purge_allocator) {
        __sanitizer_purge_allocator();
        return;
    }
    malloc_trim(0);
}

static void schedule_trim(struct loop *loop)
{
    if (loop->trim_pending)
        return;
    struct timeval tv = {MEMORY_TRIM_DELAY_MS / 1000,
                         (MEMORY_TRIM_DELAY_MS % 1000) * 1000};
    if (event_base_once(loop->base, -1, EV_TIMEOUT, trim_cb, loop, &tv) == 0)
        loop->trim_pending = true;
}

static void peer_describe(struct conn *c, const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &v6->sin6_addr, c->peer_ip, sizeof c->peer_ip);
        c->peer_port = ntohs(v6->sin6_port);
        c->loopback =
            IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr) ||
            (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr) && v6->sin6_addr.s6_addr[12] == 127);
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &v4->sin_addr, c->peer_ip, sizeof c->peer_ip);
        c->peer_port = ntohs(v4->sin_port);
        c->loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
    } else {
        snprintf(c->peer_ip, sizeof c->peer_ip, "local");
        c->loopback = true;
    }
}

/* ---- replies leave at the end of the loop pass ---------------------------
 * libevent's socket bufferevent adds its write event when output is queued
 * and deletes it once the output is sent: two epoll_ctl and one more
 * epoll_wait per reply. A plain conn instead keeps EV_WRITE off; the first
 * byte added in a pass puts it on its loop's flush list, and the flush
 * event (activated, no system call) writes each listed conn's output once
 * the callbacks already queued in the pass have run, so a response head
 * and its body, or a burst of pipelined replies, leave in one writev. Only
 * a socket that does not take everything gets the write event
 * (write_armed), until it has drained. */

/* At most this many writes per conn per flush (a head and a sendfile
 * segment take two); the rest goes through the write event. */
#define CONN_FLUSH_WRITES 4

static void apply_read_state(struct conn *c);

static void flush_unqueue(struct conn *c)
{
    if (!c->flush_queued)
        return;
    for (struct conn **p = &c->loop->flush_head; *p; p = &(*p)->flush_next)
        if (*p == c) {
            *p = c->flush_next;
            break;
        }
    c->flush_queued = false;
    c->flush_next = NULL;
    if (c->read_later) {
        c->read_later = false;
        apply_read_state(c);
    }
}

static void out_added_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                         void *arg)
{
    struct conn *c = arg;
    if (info->n_added == 0 || c->flush_queued || c->write_armed || c->aborted)
        return;
    c->flush_queued = true;
    c->flush_next = c->loop->flush_head;
    c->loop->flush_head = c;
    event_active(c->loop->flush_ev, 0, 0);
}

/* The socket took less than all: libevent writes the rest when it can. */
static void arm_write(struct conn *c)
{
    c->write_armed = true;
    bufferevent_enable(c->bev, EV_WRITE);
}

static void disarm_write(struct conn *c)
{
    if (!c->direct || !c->write_armed || evbuffer_get_length(conn_output(c)) > 0)
        return;
    c->write_armed = false;
    bufferevent_disable(c->bev, EV_WRITE); /* libevent deleted the event already */
}

/* -1: the socket failed (the conn is aborted). The output's front is
 * frozen by libevent (only its own write drains it): thawed around ours. */
static int write_chunks(struct conn *c, struct evbuffer *out, evutil_socket_t fd)
{
    for (int i = 0; i < CONN_FLUSH_WRITES && evbuffer_get_length(out) > 0; i++) {
        evbuffer_unfreeze(out, 1);
        int n = evbuffer_write(out, fd);
        evbuffer_freeze(out, 1);
        if (n > 0)
            continue;
        /* 0: libevent's sendfile path says EAGAIN so; the write event
         * finds out if the socket is really gone. */
        if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return 0;
        log_debug(c->id, "core conn write_failed error=\"%s\"", strerror(errno));
        conn_abort(c);
        return -1;
    }
    return 0;
}

/* Output this large is written corked (TCP_CORK, as nginx's tcp_nopush):
 * a response head and its sendfile body leave in full segments. Measured
 * with 1 MiB responses on loopback: the reader's CPU per response fell by
 * about a third, the writer's rose by less. */
#define CONN_CORK_MIN (64u << 10)

static int write_some(struct conn *c, struct evbuffer *out)
{
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (evbuffer_get_length(out) < CONN_CORK_MIN)
        return write_chunks(c, out, fd);
    int on = 1, off = 0;
    setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    int rc = write_chunks(c, out, fd);
    if (rc == 0) /* the uncork sends the last partial segment */
        setsockopt(fd, IPPROTO_TCP, TCP_CORK, &off, sizeof off);
    return rc;
}

static void write_out(struct conn *c)
{
    struct evbuffer *out = conn_output(c);
    if (write_some(c, out) == 0) {
        if (evbuffer_get_length(out) > 0)
            arm_write(c);
        after_write(c);
    }
}

static void conn_flush(struct conn *c)
{
    conn_ref(c);
    if (!c->aborted && c->direct && !c->write_armed)
        write_out(c);
    if (c->read_later && !c->aborted) {
        c->read_later = false;
        apply_read_state(c);
    }
    conn_unref(c);
}

/* Each conn listed when this run began is written once; one that gets more
 * output meanwhile (on_drained) is listed again for the next run. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct loop *loop = arg;
    struct conn *list = loop->flush_head;
    loop->flush_head = NULL;
    while (list) {
        struct conn *c = list;
        list = c->flush_next;
        c->flush_queued = false;
        c->flush_next = NULL;
        conn_flush(c);
    }
}

int conn_loop_init(struct loop *loop)
{
    loop->flush_head = NULL;
    loop->flush_ev = event_new(loop->base, -1, 0, flush_cb, loop);
    return loop->flush_ev ? 0 : -1;
}

void conn_loop_free(struct loop *loop)
{
    if (loop->flush_ev)
        event_free(loop->flush_ev);
    loop->flush_ev = NULL;
    loop->flush_head = NULL;
}

/* The layers of a conn: c->bev on top, then TLS and/or DEFLATE filters,
 * the socket's bufferevent at the bottom. */
static struct bufferevent *bottom(struct conn *c)
{
    struct bufferevent *b = c->bev, *under;
    while ((under = bufferevent_get_underlying(b)) != NULL)
        b = under;
    return b;
}

int conn_socket_fd(struct conn *c)
{
    if (!c->bev)
        return -1;
    return bufferevent_getfd(bottom(c));
}

/* The TLS layer, or NULL. */
static struct bufferevent *tls_layer(struct conn *c)
{
    for (struct bufferevent *b = c->bev; b; b = bufferevent_get_underlying(b))
        if (bufferevent_openssl_get_ssl(b))
            return b;
    return NULL;
}

static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    if (c->ops && c->ops->on_free)
        c->ops->on_free(c);
    conn_log_end(c);
    loop_detach(c->loop, c);
    flush_unqueue(c);
    if (c->counted)
        iplimit_release(c->peer_ip);
    if (c->in_global)
        atomic_fetch_sub(&live_conns, 1);
    if (c->bev) {
        if (c->direct)
            evbuffer_remove_cb(conn_output(c), out_added_cb, c);
        struct bufferevent *under = bottom(c);
        if (under != c->bev) /* conn_close may have watched it; c goes away now */
            evbuffer_remove_cb(bufferevent_get_output(under), under_drained_cb, c);
        bufferevent_free(c->bev);
    }
    event_free(c->reaper);
    if (c->grace)
        event_free(c->grace);
    if (c->stall)
        event_free(c->stall);
    struct loop *loop = c->loop;
    free(c);
    if (!loop->stopping)
        schedule_trim(loop);
}

static void apply_read_state(struct conn *c)
{
    if (c->closing || c->paused || c->blocked)
        bufferevent_disable(c->bev, EV_READ);
    else
        bufferevent_enable(c->bev, EV_READ);
}

/* A pause or back-pressure decided while this pass's flush is pending is
 * applied after the flush (read events only come with the next
 * epoll_wait): when the flush takes all the output and the protocol
 * resumes, reading never stopped and no epoll_ctl was made. */
static void update_read_state(struct conn *c)
{
    if (c->flush_queued) {
        c->read_later = true;
        return;
    }
    apply_read_state(c);
}

/* Only the top layer times the session out: a layer below kept the
 * timeout it had before an upgrade (a login's 60 s under a 30 min IMAP
 * session after STARTTLS) and ended the session early. */
static void clear_lower_timeouts(struct conn *c)
{
    for (struct bufferevent *b = bufferevent_get_underlying(c->bev); b;
         b = bufferevent_get_underlying(b))
        bufferevent_set_timeouts(b, NULL, NULL);
}

static void setup_bev(struct conn *c)
{
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    clear_lower_timeouts(c);
    conn_set_idle_timeout(c, c->idle_sec);
    apply_read_state(c);
    if (c->direct) { /* a new socket bufferevent starts with EV_WRITE on */
        bufferevent_disable(c->bev, EV_WRITE);
        evbuffer_add_cb(conn_output(c), out_added_cb, c);
    } else
        bufferevent_enable(c->bev, EV_WRITE);
}

struct bufferevent *conn_bufferevent_new(struct event_base *base, int fd, bool tls,
                                         bool tickets)
{
    int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
    if (!tls)
        return bufferevent_socket_new(base, fd, opts);
    SSL *ssl = tls_new_ssl();
    if (!ssl)
        return NULL;
    if (!tickets)
        SSL_set_num_tickets(ssl, 0);
    struct bufferevent *bev =
        bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING, opts);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

/* Replies are small writes the loop already batches per pass; Nagle would
 * only hold the last one back until the client's delayed ACK (40 ms). */
static void set_nodelay(int fd, const struct sockaddr *peer)
{
    int one = 1;
    if (peer->sa_family == AF_INET || peer->sa_family == AF_INET6)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The server-wide cap first (its refusal says so), then the address's. */
static void count_connection(struct conn *c, const struct runtime *rt)
{
    int now = atomic_fetch_add(&live_conns, 1) + 1;
    c->in_global = true;
    if (rt->max_connections > 0 && now > rt->max_connections) {
        c->over_global = true;
        return;
    }
    c->counted = iplimit_acquire(c->peer_ip, rt->cfg->max_connections_per_ip);
    c->over_limit = !c->counted;
}

struct conn *conn_new(struct loop *loop, int fd, const struct sockaddr *peer,
                      enum service svc, bool implicit_tls)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    set_nodelay(fd, peer);
    c->id = loop_next_session_id();
    c->loop = loop;
    c->svc = svc;
    c->refs = 1;
    c->idle_sec = 300;
    c->start_us = metrics_now_us();
    peer_describe(c, peer);
    if (loop->rt)
        count_connection(c, loop->rt);
    c->reaper = event_new(loop->base, -1, 0, reap_cb, c);
    c->bev = c->reaper ? conn_bufferevent_new(loop->base, fd, implicit_tls, true) : NULL;
    c->tls = c->bev && implicit_tls;
    c->direct = c->bev && !implicit_tls && loop->flush_ev;
    if (!c->bev) {
        if (c->counted)
            iplimit_release(c->peer_ip);
        if (c->in_global)
            atomic_fetch_sub(&live_conns, 1);
        close(fd);
        if (c->reaper)
            event_free(c->reaper);
        free(c);
        return NULL;
    }
    metrics_add(svc, MET_CONNECTIONS, 1);
    loop_attach(loop, c);
    setup_bev(c);
    return c;
}

void conn_ref(struct conn *c)
{
    c->refs++;
}

void conn_unref(struct conn *c)
{
    if (--c->refs == 0)
        event_active(c->reaper, 0, 0);
}

struct evbuffer *conn_input(struct conn *c)
{
    return bufferevent_get_input(c->bev);
}

struct evbuffer *conn_output(struct conn *c)
{
    return bufferevent_get_output(c->bev);
}

bool conn_output_full(struct conn *c)
{
    return evbuffer_get_length(conn_output(c)) > SESSION_OUTPUT_HIGH;
}

/* The write callback runs when the output falls to the highest low-water
 * mark anyone waits for: back-pressure or a conn_notify_drained caller. */
static void apply_write_mark(struct conn *c)
{
    size_t low = c->blocked ? SESSION_OUTPUT_LOW : 0;
    if (c->want_drain && c->drain_low > low)
        low = c->drain_low;
    bufferevent_setwatermark(c->bev, EV_WRITE, low, 0);
}

static void stall_cb(evutil_socket_t fd, short what, void *arg)
{
    struct conn *c = arg;
    log_warn(c->id, "core conn output_stalled unsent=%zu after=%ds",
             evbuffer_get_length(conn_output(c)), SESSION_OUTPUT_STALL_SEC);
    conn_abort(c);
}

/* Stop reading a client that does not read its replies; write_cb resumes.
 * If it does not drain to the low mark within the deadline it is closed. */
void conn_check_backpressure(struct conn *c)
{
    if (c->blocked || !conn_output_full(c))
        return;
    c->blocked = true;
    apply_write_mark(c);
    update_read_state(c);
    if (!c->stall)
        c->stall = evtimer_new(c->loop->base, stall_cb, c);
    struct timeval tv = {SESSION_OUTPUT_STALL_SEC, 0};
    if (c->stall)
        evtimer_add(c->stall, &tv);
}

void conn_notify_drained(struct conn *c, size_t low)
{
    if (c->closing)
        return;
    c->want_drain = true;
    c->drain_low = low;
    apply_write_mark(c);
}

int conn_write(struct conn *c, const void *data, size_t len)
{
    if (c->closing || bufferevent_write(c->bev, data, len) < 0)
        return -1;
    conn_check_backpressure(c);
    return 0;
}

int conn_printf(struct conn *c, const char *fmt, ...)
{
    if (c->closing)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = evbuffer_add_vprintf(conn_output(c), fmt, ap);
    va_end(ap);
    conn_check_backpressure(c);
    return n < 0 ? -1 : 0;
}

void conn_set_idle_timeout(struct conn *c, unsigned seconds)
{
    c->idle_sec = seconds;
    struct timeval tv = {(time_t)seconds, 0};
    bufferevent_set_timeouts(c->bev, seconds ? &tv : NULL, seconds ? &tv : NULL);
}

void conn_pause(struct conn *c)
{
    c->paused = true;
    update_read_state(c);
}

void conn_resume(struct conn *c)
{
    c->paused = false;
    update_read_state(c);
}

/* Before a filter goes on top (TLS, DEFLATE): the filter drives the
 * layer below from now on, and the reply announcing the upgrade leaves
 * as it was written. The injected-command hole (e.g.
 * "STARTTLS\r\nRSET\r\n" in one write): whatever arrived after the
 * upgrade command is thrown away unread. */
static void before_layer(struct conn *c, const char *what)
{
    if (c->direct) {
        evbuffer_remove_cb(conn_output(c), out_added_cb, c);
        flush_unqueue(c);
        c->direct = c->write_armed = false;
        bufferevent_enable(c->bev, EV_WRITE); /* the upgrade's reply, if unsent */
    }
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t dropped = evbuffer_get_length(in);
    evbuffer_drain(in, dropped);
    if (dropped)
        log_warn(c->id, "core %s_discarded bytes=%zu", what, dropped);
}

/* Wraps the plain bev in a TLS filter (server or client side). */
static int starttls_with(struct conn *c, SSL *ssl, enum bufferevent_ssl_state state)
{
    before_layer(c, "tls plaintext");
    struct bufferevent *tls =
        bufferevent_openssl_filter_new(c->loop->base, c->bev, ssl, state,
                                       BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!tls) {
        SSL_free(ssl);
        return -1;
    }
    bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
    c->bev = tls;
    c->tls = true;
    setup_bev(c);
    return 0;
}

int conn_starttls(struct conn *c)
{
    if (c->tls || c->closing)
        return -1;
    SSL *ssl = tls_new_ssl();
    if (!ssl)
        return -1;
    return starttls_with(c, ssl, BUFFEREVENT_SSL_ACCEPTING);
}

int conn_starttls_client(struct conn *c, SSL *ssl)
{
    if (c->tls || c->closing) {
        SSL_free(ssl);
        return -1;
    }
    return starttls_with(c, ssl, BUFFEREVENT_SSL_CONNECTING);
}

int conn_compress(struct conn *c)
{
    if (c->compressed || c->closing)
        return -1;
    before_layer(c, "deflate uncompressed");
    struct bufferevent *z = conn_deflate_new(c->bev);
    if (!z)
        return -1;
    c->bev = z;
    c->compressed = true;
    setup_bev(c);
    return 0;
}

SSL *conn_ssl(struct conn *c)
{
    struct bufferevent *tls = NULL;
    if (c->tls)
        tls = tls_layer(c);
    if (!tls)
        return NULL;
    return bufferevent_openssl_get_ssl(tls);
}

void conn_tls_describe(struct conn *c, char *buf, size_t len)
{
    SSL *ssl = conn_ssl(c);
    if (ssl)
        tls_describe(ssl, buf, len);
    else if (len)
        buf[0] = '\0';
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_abort(arg);
}

/* Everything written has reached the socket. After STARTTLS or COMPRESS
 * the bev is a filter: its output drains into the layers below, which may
 * still hold the last reply's records. */
static bool output_flushed(struct conn *c)
{
    for (struct bufferevent *b = c->bev; b; b = bufferevent_get_underlying(b))
        if (evbuffer_get_length(bufferevent_get_output(b)) > 0)
            return false;
    return true;
}

static void under_drained_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                             void *arg)
{
    struct conn *c = arg;
    if (c->closing && !c->aborted && output_flushed(c))
        conn_abort(c);
}

void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    apply_read_state(c);
    if (c->compressed) /* the last reply may still be inside zlib */
        conn_deflate_flush(c->bev);
    if (output_flushed(c)) {
        conn_abort(c);
        return;
    }
    if (bottom(c) != c->bev)
        evbuffer_add_cb(bufferevent_get_output(bottom(c)), under_drained_cb, c);
    /* write_cb finishes the close when the output has drained. */
    bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
    struct timeval tv = {SESSION_CLOSE_GRACE_SEC, 0};
    c->grace = evtimer_new(c->loop->base, grace_cb, c);
    if (c->grace)
        evtimer_add(c->grace, &tv);
}

void conn_abort(struct conn *c)
{
    if (c->aborted)
        return;
    c->aborted = c->closing = true;
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
    struct bufferevent *under = bottom(c);
    if (under != c->bev) /* conn_close may have watched it; c goes away soon */
        evbuffer_remove_cb(bufferevent_get_output(under), under_drained_cb, c);
    if (c->grace)
        evtimer_del(c->grace);
    if (c->stall)
        evtimer_del(c->stall);
    conn_unref(c); /* the reference conn_new gave the connection itself */
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    /* Paused or blocked with the change still waiting for the flush
     * (update_read_state): what was read stays buffered for the resume. */
    if (c->closing || !c->ops || c->paused || c->blocked)
        return;
    conn_ref(c);
    c->ops->on_input(c);
    conn_unref(c);
}

/* After output left (libevent's write or the flush): finish a close,
 * lift back-pressure, or tell the protocol its mark was reached. */
static void after_write(struct conn *c)
{
    if (c->closing) {
        if (output_flushed(c))
            conn_abort(c);
        return;
    }
    size_t left = evbuffer_get_length(conn_output(c));
    bool unblocked = c->blocked && left <= SESSION_OUTPUT_LOW;
    bool notified = c->want_drain && left <= c->drain_low;
    if (!unblocked && !notified)
        return;
    if (unblocked) {
        c->blocked = false;
        if (c->stall)
            evtimer_del(c->stall);
    }
    if (notified)
        c->want_drain = false;
    apply_write_mark(c);
    if (unblocked)
        apply_read_state(c);
    if (c->ops && c->ops->on_drained) {
        conn_ref(c);
        c->ops->on_drained(c);
        conn_unref(c);
    }
}

/* Under COMPRESS this runs once the writes of a pass have gone into the
 * compressor: they are flushed to the peer together. */
static void write_cb(struct bufferevent *bev, void *arg)
{
    struct conn *c = arg;
    if (c->compressed && !c->aborted)
        conn_deflate_flush(c->bev);
    disarm_write(c);
    after_write(c);
}

static void log_tls_error(struct conn *c)
{
    unsigned long e;
    struct bufferevent *tls = tls_layer(c);
    while (tls && (e = bufferevent_get_openssl_error(tls)) != 0) {
        char buf[200];
        ERR_error_string_n(e, buf, sizeof buf);
        log_info(c->id, "core tls error=\"%s\"", buf);
    }
}

/* After STARTTLS the TLS layer is a filter: the alert OpenSSL wrote for a
 * failed handshake (protocol_version for TLS 1.0/1.1, RFC 8446 6.2) waits
 * in the underlying output. Send it before closing, best effort. */
static void flush_tls_alert(struct conn *c)
{
    struct bufferevent *under = bottom(c);
    if (under == c->bev)
        return;
    struct evbuffer *out = bufferevent_get_output(under);
    size_t len = evbuffer_get_length(out);
    if (len == 0 || len > TLS_ALERT_FLUSH_MAX)
        return;
    /* The socket bufferevent owns the start of its output (frozen): peek. */
    struct evbuffer_iovec v[2];
    int nv = evbuffer_peek(out, -1, NULL, v, 2);
    for (int i = 0; i < nv && i < 2; i++)
        if (send(bufferevent_getfd(under), v[i].iov_base, v[i].iov_len,
                 MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
            break;
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct conn *c = arg;
    if (what & BEV_EVENT_CONNECTED) { /* a TLS handshake has completed */
        if (c->tls)
            metrics_add(c->svc, MET_TLS_HANDSHAKES, 1);
        if (c->tls && c->ops && c->ops->on_tls && !c->closing) {
            conn_ref(c);
            c->ops->on_tls(c);
            conn_unref(c);
        }
        return;
    }
    if (what & BEV_EVENT_TIMEOUT) {
        log_info(c->id, "core conn idle_timeout after=%us", c->idle_sec);
        if (c->ops && c->ops->on_timeout && !c->closing) {
            conn_ref(c);
            c->ops->on_timeout(c);
            conn_unref(c);
        }
        conn_close(c);
        return;
    }
    if ((what & BEV_EVENT_ERROR) && c->tls) {
        log_tls_error(c);
        flush_tls_alert(c);
    }
    conn_abort(c);
}
