/* connect: non-blocking outbound connects, one address after another, each
 * under its own timer; the connected socket becomes a struct conn. */
#include "core/connect.h"

#include "core/conn.h"
#include "core/iplimit.h"
#include "core/log.h"
#include "core/loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct connect_req {
    struct loop *loop;
    struct conn_addr addrs[CONNECT_MAX_ADDRS];
    size_t naddrs, next;
    struct conn_addr source;
    bool has_source;
    unsigned timeout_sec;
    enum service svc;
    connect_done_fn done;
    void *arg;
    int fd;             /* the attempt in progress, or -1 */
    int err;            /* errno of the last failed attempt */
    struct event *ev;   /* fd writable, or the attempt's timeout */
    struct event *kick; /* starts the first attempt from the loop */
    uint64_t id;        /* for logs (the conn gets its own id) */
};

static int parse_bracketed(const char *text, uint16_t default_port, struct conn_addr *out)
{
    const char *close = strchr(text, ']');
    if (!close || (size_t)(close - text - 1) >= INET6_ADDRSTRLEN)
        return -1;
    char host[INET6_ADDRSTRLEN];
    memcpy(host, text + 1, (size_t)(close - text - 1));
    host[close - text - 1] = '\0';
    long port = default_port;
    if (close[1] == ':') {
        char *end;
        errno = 0;
        port = strtol(close + 2, &end, 10);
        if (errno || *end || end == close + 2 || port < 1 || port > 65535)
            return -1;
    } else if (close[1] != '\0') {
        return -1;
    }
    struct in6_addr a6;
    if (inet_pton(AF_INET6, host, &a6) != 1)
        return -1;
    conn_addr_from_ip(AF_INET6, &a6, (uint16_t)port, out);
    return 0;
}

int conn_addr_parse(const char *text, uint16_t default_port, struct conn_addr *out)
{
    if (text[0] == '[')
        return parse_bracketed(text, default_port, out);
    struct in6_addr a6;
    if (inet_pton(AF_INET6, text, &a6) == 1) {
        conn_addr_from_ip(AF_INET6, &a6, default_port, out);
        return 0;
    }
    char host[INET_ADDRSTRLEN];
    const char *colon = strchr(text, ':');
    size_t hlen = colon ? (size_t)(colon - text) : strlen(text);
    if (hlen >= sizeof host)
        return -1;
    memcpy(host, text, hlen);
    host[hlen] = '\0';
    long port = default_port;
    if (colon) {
        char *end;
        errno = 0;
        port = strtol(colon + 1, &end, 10);
        if (errno || *end || end == colon + 1 || port < 1 || port > 65535)
            return -1;
    }
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) != 1)
        return -1;
    conn_addr_from_ip(AF_INET, &a4, (uint16_t)port, out);
    return 0;
}

void conn_addr_from_ip(int family, const void *ip, uint16_t port, struct conn_addr *out)
{
    memset(out, 0, sizeof *out);
    if (family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        memcpy(&s6->sin6_addr, ip, sizeof s6->sin6_addr);
        out->len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(port);
        memcpy(&s4->sin_addr, ip, sizeof s4->sin_addr);
        out->len = sizeof *s4;
    }
}

void conn_addr_format(const struct conn_addr *a, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof ip);
        snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
        return;
    }
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&a->ss;
    inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof ip);
    snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
}

static void req_free(struct connect_req *r)
{
    if (r->fd >= 0)
        close(r->fd);
    if (r->ev)
        event_free(r->ev);
    if (r->kick)
        event_free(r->kick);
    free(r);
}

void connect_cancel(struct connect_req *r)
{
    if (r)
        req_free(r);
}

static void try_next(struct connect_req *r);

static void finish(struct connect_req *r, struct conn *c, int err)
{
    connect_done_fn done = r->done;
    void *arg = r->arg;
    req_free(r);
    done(c, err, arg);
}

/* The connected socket becomes a client conn. conn_new counts accepted
 * peers against max_connections_per_ip; an outbound connection is ours,
 * not the peer's, so it gives that slot straight back. */
static void connected(struct connect_req *r)
{
    const struct conn_addr *a = &r->addrs[r->next - 1];
    int fd = r->fd;
    r->fd = -1;
    struct conn *c =
        conn_new(r->loop, fd, (const struct sockaddr *)&a->ss, r->svc, false);
    if (!c) {
        r->err = ENOMEM;
        try_next(r);
        return;
    }
    if (c->counted)
        iplimit_release(c->peer_ip);
    c->counted = false;
    c->over_limit = false;
    char where[64];
    conn_addr_format(a, where, sizeof where);
    log_info(r->id, "core connect ok to=%s conn=%llu", where, (unsigned long long)c->id);
    finish(r, c, 0);
}

static void attempt_failed(struct connect_req *r, int err)
{
    char where[64];
    conn_addr_format(&r->addrs[r->next - 1], where, sizeof where);
    log_info(r->id, "core connect failed to=%s error=\"%s\"", where, strerror(err));
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->err = err;
    try_next(r);
}

static void ready_cb(evutil_socket_t fd, short what, void *arg)
{
    struct connect_req *r = arg;
    if (what & EV_TIMEOUT) {
        attempt_failed(r, ETIMEDOUT);
        return;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err)
        attempt_failed(r, err);
    else
        connected(r);
}

/* Socket, optional bind, connect() for address i; the errno, or 0 with
 * r->fd pending. */
static int start_attempt(struct connect_req *r, const struct conn_addr *a)
{
    if (r->has_source && r->source.ss.ss_family != a->ss.ss_family)
        return EAFNOSUPPORT;
    r->fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->fd < 0)
        return errno;
    if (r->has_source &&
        bind(r->fd, (const struct sockaddr *)&r->source.ss, r->source.len) < 0)
        return errno;
    if (connect(r->fd, (const struct sockaddr *)&a->ss, a->len) < 0 &&
        errno != EINPROGRESS)
        return errno;
    if (r->ev)
        event_free(r->ev);
    r->ev = event_new(r->loop->base, r->fd, EV_WRITE, ready_cb, r);
    if (!r->ev)
        return ENOMEM;
    struct timeval tv = {(time_t)r->timeout_sec, 0};
    event_add(r->ev, &tv);
    return 0;
}

static void try_next(struct connect_req *r)
{
    if (r->next >= r->naddrs) {
        finish(r, NULL, r->err);
        return;
    }
    const struct conn_addr *a = &r->addrs[r->next++];
    int err = start_attempt(r, a);
    if (err)
        attempt_failed(r, err); /* which tries the next one */
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    try_next(arg);
}

static bool set_source(struct connect_req *r, const char *source)
{
    if (!source || !*source)
        return true;
    if (conn_addr_parse(source, 0, &r->source) < 0)
        return false;
    r->has_source = true;
    return true;
}

struct connect_req *conn_connect(struct loop *loop, const struct conn_addr *addrs,
                                 size_t naddrs, const struct connect_opts *opts,
                                 connect_done_fn done, void *arg)
{
    if (naddrs == 0)
        return NULL;
    struct connect_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = -1;
    r->loop = loop;
    r->done = done;
    r->arg = arg;
    r->err = ECONNREFUSED;
    r->timeout_sec = CONNECT_TIMEOUT_SEC;
    r->id = loop_next_session_id();
    if (naddrs > CONNECT_MAX_ADDRS)
        naddrs = CONNECT_MAX_ADDRS;
    memcpy(r->addrs, addrs, naddrs * sizeof *addrs);
    r->naddrs = naddrs;
    if (opts && opts->timeout_sec)
        r->timeout_sec = opts->timeout_sec;
    if (opts)
        r->svc = opts->svc;
    r->kick = event_new(loop->base, -1, 0, kick_cb, r);
    if (!r->kick || !set_source(r, opts ? opts->source : NULL)) {
        req_free(r);
        return NULL;
    }
    event_active(r->kick, 0, 0);
    return r;
}
