/* data: opening, securing and closing the FTP data connection (see
 * data.h). Passive: a listener on a port of [ftp] passive_ports that drops
 * any connection not from the control peer (RFC 2577 5, "port stealing").
 * Active: a non-blocking connect to the address PORT/EPRT gave, which
 * cmd_port.c has already checked is the client's own (no FTP bounce, RFC
 * 2577 3). With PROT P the data connection is a TLS server (RFC 4217 9);
 * the shared SSL_CTX's session cache lets clients resume the control
 * connection's session. */
#include "ftp/data.h"

#include "core/keycount.h"
#include "core/log.h"
#include "core/tls.h"
#include "ftp/ftp.h"
#include "ftp/parse.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One event-loop pass moves at most this much per direction. */
#define DATA_MAX_SINGLE_IO (4 << 20)

struct ftp_data {
    struct ftp *f;
    int listen_fd;         /* passive listener, or -1 */
    int fd;                /* connected socket not yet attached, or -1 */
    struct event *wait_ev; /* accept or connect readiness */
    bool active;
    struct sockaddr_storage target;
    socklen_t target_len;
    struct bufferevent *bev;
    const struct data_ops *ops;
    bool started, opened, tls;
    char owner[AUTH_MAX_USERNAME + 1]; /* the account its listener counts for */
    bool counted;                      /* ...in passive_counts */
};

/* Passive listeners per account, over every session and thread ([ftp]
 * max_passive_per_account), so one account cannot take every port. */
static struct keycount *passive_counts;
static pthread_once_t passive_once = PTHREAD_ONCE_INIT;

static void passive_counts_init(void)
{
    passive_counts = keycount_new();
}

static void close_listener(struct ftp_data *d)
{
    if (d->listen_fd >= 0)
        close(d->listen_fd);
    d->listen_fd = -1;
    if (d->counted)
        keycount_release(passive_counts, d->owner);
    d->counted = false;
}

/* An unused passive listener ([ftp] passive_timeout) is closed sooner than
 * a data connection in use is given up ([ftp] data_timeout). */
static unsigned passive_timeout(void)
{
    return runtime ? (unsigned)runtime->cfg->ftp_passive_timeout
                   : FTP_PASSIVE_TIMEOUT_SEC;
}

static unsigned data_timeout(void)
{
    return runtime ? (unsigned)runtime->cfg->ftp_data_timeout : FTP_DATA_TIMEOUT_SEC;
}

static struct event_base *base_of(struct ftp *f)
{
    return f->s->conn->loop->base;
}

static struct ftp_data *data_get(struct ftp *f)
{
    if (!f->data) {
        f->data = calloc(1, sizeof *f->data);
        if (!f->data)
            return NULL;
        f->data->f = f;
        f->data->listen_fd = f->data->fd = -1;
    }
    return f->data;
}

void data_close(struct ftp *f)
{
    struct ftp_data *d = f->data;
    if (!d)
        return;
    if (d->wait_ev)
        event_free(d->wait_ev);
    close_listener(d);
    if (d->fd >= 0)
        close(d->fd);
    if (d->bev)
        bufferevent_free(d->bev); /* callbacks cleared: safe inside them */
    free(d);
    f->data = NULL;
}

bool data_prepared(const struct ftp *f)
{
    return f->data && (f->data->listen_fd >= 0 || f->data->fd >= 0 || f->data->active);
}

bool data_connected(const struct ftp *f)
{
    return f->data && !f->data->active && f->data->fd >= 0;
}

bool data_is_tls(const struct ftp *f)
{
    return f->data && f->data->tls;
}

int data_plain_fd(const struct ftp *f)
{
    if (!f->data || f->data->tls || !f->data->bev)
        return -1;
    return bufferevent_getfd(f->data->bev);
}

size_t data_pending(const struct ftp *f)
{
    if (!f->data || !f->data->bev)
        return 0;
    return evbuffer_get_length(bufferevent_get_output(f->data->bev));
}

struct evbuffer *data_output(struct ftp *f)
{
    return bufferevent_get_output(f->data->bev);
}

void data_set_lowat(struct ftp *f, size_t lowat)
{
    bufferevent_setwatermark(f->data->bev, EV_WRITE, lowat, 0);
}

static void fail(struct ftp_data *d)
{
    struct ftp *f = d->f;
    bool opened = d->opened;
    const struct data_ops *ops = d->ops;
    data_close(f);
    if (ops)
        ops->failed(f, opened);
}

/* ---- the bufferevent ---- */

static void read_cb(struct bufferevent *bev, void *arg)
{
    struct ftp_data *d = arg;
    d->ops->readable(d->f, bufferevent_get_input(bev));
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    struct ftp_data *d = arg;
    if (d->opened)
        d->ops->drained(d->f);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct ftp_data *d = arg;
    if (what & BEV_EVENT_CONNECTED) { /* the TLS handshake finished */
        d->opened = true;
        d->ops->ready(d->f);
        return;
    }
    if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && d->opened) {
        if (d->tls && !(SSL_get_shutdown(bufferevent_openssl_get_ssl(bev)) &
                        SSL_RECEIVED_SHUTDOWN)) {
            /* RFC 4217 12.6 (truncation): TLS data ends with close_notify;
             * an unannounced close or an RST is a broken transfer. */
            log_info(d->f->s->id, "ftp data eof without close_notify");
            fail(d);
            return;
        }
        d->ops->eof(d->f);
        return;
    }
    log_info(d->f->s->id, "ftp data %s",
             (what & BEV_EVENT_TIMEOUT) ? "timeout" : "error");
    fail(d);
}

/* No TLS 1.3 tickets on data connections: clients resume the control
 * connection's session, and a pure uploader that never reads them would
 * close with unread data, which the kernel turns into an RST. */
static struct bufferevent *new_bev(struct ftp_data *d)
{
    return conn_bufferevent_new(base_of(d->f), d->fd, d->tls, false);
}

/* The socket is connected and the transfer waits: start moving bytes. */
static void attach(struct ftp_data *d)
{
    d->bev = new_bev(d);
    if (!d->bev) {
        fail(d);
        return;
    }
    int one = 1; /* the last segment and the close go out at once */
    setsockopt(bufferevent_getfd(d->bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    d->fd = -1; /* owned by the bufferevent now */
    struct timeval tv = {(time_t)data_timeout(), 0};
    bufferevent_set_timeouts(d->bev, &tv, &tv);
    bufferevent_set_max_single_read(d->bev, DATA_MAX_SINGLE_IO);
    bufferevent_set_max_single_write(d->bev, DATA_MAX_SINGLE_IO);
    bufferevent_setcb(d->bev, read_cb, write_cb, event_cb, d);
    bufferevent_enable(d->bev, EV_READ | EV_WRITE);
    log_debug(d->f->s->id, "ftp data open tls=%d", d->tls);
    if (!d->tls) {
        d->opened = true;
        d->ops->ready(d->f); /* last: it may end the transfer */
    }
}

/* ---- passive ---- */

static int accept_one(struct ftp_data *d)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd = accept4(d->listen_fd, (struct sockaddr *)&peer, &len,
                     SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
        return -1;
    if (!ftp_same_host((struct sockaddr *)&peer, (struct sockaddr *)&d->f->peer)) {
        /* RFC 2577 5: someone else grabbing the data port. */
        log_warn(d->f->s->id, "ftp data refused: not the control peer");
        close(fd);
        return 0;
    }
    d->fd = fd;
    return 1;
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg)
{
    struct ftp_data *d = arg;
    if (what & EV_TIMEOUT) {
        log_info(d->f->s->id, "ftp data accept_timeout");
        if (d->started)
            fail(d);
        else
            data_close(d->f); /* the PASV expires; a transfer then gets 425 */
        return;
    }
    int r;
    while ((r = accept_one(d)) == 0)
        ;
    if (r < 0)
        return; /* EAGAIN: wait on */
    event_free(d->wait_ev);
    d->wait_ev = NULL;
    close_listener(d);
    if (d->started)
        attach(d);
}

/* A listening socket on port of addr, or -1. SO_REUSEADDR: the port's
 * earlier data connections linger in TIME_WAIT; listen() still fails if
 * another session holds the port. */
static int listen_on(struct sockaddr_storage *addr, socklen_t len, int port)
{
    if (addr->ss_family == AF_INET6)
        ((struct sockaddr_in6 *)addr)->sin6_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in *)addr)->sin_port = htons((uint16_t)port);
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(fd, (struct sockaddr *)addr, len) == 0 && listen(fd, 4) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

/* Tries the ports of [ftp] passive_ports from a pseudo-random start. */
static int listen_range(struct ftp *f, int *port_out)
{
    int lo = runtime ? runtime->cfg->ftp_passive_min : 30000;
    int hi = runtime ? runtime->cfg->ftp_passive_max : 30099;
    unsigned n = (unsigned)(hi - lo + 1);
    unsigned start = (unsigned)(f->s->id * 2654435761u + (unsigned)time(NULL)) % n;
    struct sockaddr_storage addr = f->local;
    for (unsigned i = 0; i < n; i++) {
        int port = lo + (int)((start + i) % n);
        int fd = listen_on(&addr, f->locallen, port);
        if (fd >= 0) {
            *port_out = port;
            return fd;
        }
        if (errno != EADDRINUSE) {
            log_warn(f->s->id, "ftp passive_listen_failed port=%d error=%d", port, errno);
            return -1;
        }
    }
    return -1;
}

int data_listen(struct ftp *f)
{
    data_close(f);
    struct ftp_data *d = data_get(f);
    if (!d || f->locallen == 0)
        return -1;
    int port = -1;
    int max =
        runtime ? runtime->cfg->ftp_max_passive_per_account : FTP_MAX_PASSIVE_PER_ACCOUNT;
    pthread_once(&passive_once, passive_counts_init);
    snprintf(d->owner, sizeof d->owner, "%s", f->s->user[0] ? f->s->user : "-");
    d->counted = keycount_acquire(passive_counts, d->owner, max);
    if (!d->counted) {
        log_warn(f->s->id, "ftp passive refused account=%s why=too_many_passive",
                 d->owner);
        data_close(f);
        return -1;
    }
    d->listen_fd = listen_range(f, &port);
    if (d->listen_fd < 0) {
        data_close(f);
        return -1;
    }
    d->wait_ev = event_new(base_of(f), d->listen_fd, EV_READ | EV_PERSIST, accept_cb, d);
    struct timeval tv = {(time_t)passive_timeout(), 0};
    if (!d->wait_ev || event_add(d->wait_ev, &tv) < 0) {
        data_close(f);
        return -1;
    }
    return port;
}

/* ---- active ---- */

int data_set_active(struct ftp *f, const struct sockaddr_storage *sa, socklen_t len)
{
    data_close(f);
    struct ftp_data *d = data_get(f);
    if (!d)
        return -1;
    d->active = true;
    d->target = *sa;
    d->target_len = len;
    return 0;
}

static void connect_cb(evutil_socket_t fd, short what, void *arg)
{
    struct ftp_data *d = arg;
    int err = ETIMEDOUT;
    socklen_t len = sizeof err;
    if (!(what & EV_TIMEOUT) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    event_free(d->wait_ev);
    d->wait_ev = NULL;
    if (err) {
        log_info(d->f->s->id, "ftp data connect_failed error=%d", err);
        fail(d);
        return;
    }
    attach(d);
}

/* RFC 959 3.2: the server opens the connection to the client's port, from
 * the control connection's local address. */
static int connect_start(struct ftp_data *d)
{
    struct ftp *f = d->f;
    d->fd = socket(d->target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0)
        return -1;
    struct sockaddr_storage src = f->local;
    if (src.ss_family == d->target.ss_family) {
        if (src.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&src)->sin6_port = 0;
        else
            ((struct sockaddr_in *)&src)->sin_port = 0;
        (void)bind(d->fd, (struct sockaddr *)&src, f->locallen); /* best effort */
    }
    if (connect(d->fd, (struct sockaddr *)&d->target, d->target_len) < 0 &&
        errno != EINPROGRESS)
        return -1;
    d->wait_ev = event_new(base_of(f), d->fd, EV_WRITE, connect_cb, d);
    struct timeval tv = {(time_t)data_timeout(), 0};
    if (!d->wait_ev || event_add(d->wait_ev, &tv) < 0)
        return -1;
    return 0;
}

int data_start(struct ftp *f, const struct data_ops *ops, bool tls)
{
    struct ftp_data *d = f->data;
    if (!data_prepared(f))
        return -1;
    d->ops = ops;
    d->tls = tls;
    d->started = true;
    if (d->wait_ev && d->listen_fd >= 0) {
        /* A transfer now waits for this listener: data_timeout applies. */
        struct timeval tv = {(time_t)data_timeout(), 0};
        event_add(d->wait_ev, &tv);
    }
    if (d->active) {
        if (connect_start(d) < 0)
            return -1;
        return 0;
    }
    if (d->fd >= 0)
        attach(d); /* may finish the transfer: nothing after this */
    return 0;
}

void data_shutdown(struct ftp *f)
{
    struct ftp_data *d = f->data;
    if (d && d->bev && d->tls) {
        /* RFC 4217 12.6 / ftplib's unwrap(): end with close_notify. */
        SSL *ssl = bufferevent_openssl_get_ssl(d->bev);
        if (ssl)
            SSL_shutdown(ssl);
    }
    data_close(f);
}
