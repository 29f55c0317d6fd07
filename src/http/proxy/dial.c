/* dial: resolve (A and AAAA at once, IPv6 first), check, connect. The
 * checks run on the resolved addresses, not on the name, so a name that
 * points at 127.0.0.1 is refused like the literal (DNS rebinding between a
 * check and the connect cannot happen: the checked address is the one
 * connected to). */
#include "http/proxy/dial.h"

#include "core/connect.h"
#include "core/dns.h"
#include "core/log.h"
#include "core/loop.h"
#include "http/proxy/addr.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dial {
    struct loop *loop;
    uint64_t id;
    char host[256];
    uint16_t port;
    bool guard;
    dial_fn fn;
    void *arg;
    struct dns_query *q[2];
    int qpending;
    struct connect_req *cr;
    struct event *later; /* a failure known at once is reported from the loop */
    int status;
    char why[128];
    size_t n6, n4;
    struct conn_addr v6[CONNECT_MAX_ADDRS / 2], v4[CONNECT_MAX_ADDRS / 2];
};

static void finish(struct dial *d, struct conn *c, int status, const char *why)
{
    dial_fn fn = d->fn;
    void *arg = d->arg;
    char reason[128];
    snprintf(reason, sizeof reason, "%s", why);
    if (d->later)
        event_free(d->later);
    free(d);
    fn(arg, c, status, reason);
}

static void later_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dial *d = arg;
    finish(d, NULL, d->status, d->why);
}

/* Reports a failure from the loop, never from inside dial_start. */
static void fail_later(struct dial *d, int status, const char *why)
{
    d->status = status;
    if (why != d->why)
        snprintf(d->why, sizeof d->why, "%s", why);
    if (!d->later)
        d->later = evtimer_new(d->loop->base, later_cb, d);
    struct timeval tv = {0, 0};
    if (d->later)
        evtimer_add(d->later, &tv);
}

static void connected(struct conn *c, int err, void *arg)
{
    struct dial *d = arg;
    d->cr = NULL;
    if (c) {
        finish(d, c, 0, "");
        return;
    }
    char why[128];
    snprintf(why, sizeof why, "cannot connect to %s:%u: %s", d->host, d->port,
             strerror(err));
    finish(d, NULL, err == ETIMEDOUT ? 504 : 502, why);
}

/* Keeps the addresses the policy allows; the first refusal says why. */
static size_t filter(struct dial *d, struct conn_addr *all)
{
    size_t n = 0;
    struct conn_addr *lists[2] = {d->v6, d->v4};
    size_t counts[2] = {d->n6, d->n4};
    for (int l = 0; l < 2; l++) {
        for (size_t i = 0; i < counts[l]; i++) {
            const struct conn_addr *a = &lists[l][i];
            if (proxy_addr_is_self(a)) {
                d->status = 508;
                snprintf(d->why, sizeof d->why, "%s:%u is this proxy (a loop)", d->host,
                         d->port);
            } else if (d->guard && !proxy_addr_is_public(a)) {
                if (d->status != 508) {
                    d->status = 403;
                    snprintf(d->why, sizeof d->why, "%s is not a public address",
                             d->host);
                }
            } else {
                all[n++] = *a;
            }
        }
    }
    return n;
}

static void connect_addrs(struct dial *d)
{
    struct conn_addr all[CONNECT_MAX_ADDRS];
    d->status = 502;
    snprintf(d->why, sizeof d->why, "no address for %s", d->host);
    size_t n = filter(d, all);
    if (n == 0) {
        log_info(d->id, "proxy dial_refused host=%s port=%u status=%d why=\"%s\"",
                 d->host, d->port, d->status, d->why);
        fail_later(d, d->status, d->why);
        return;
    }
    struct connect_opts o = {.timeout_sec = (unsigned)runtime->cfg->proxy_connect_timeout,
                             .svc = SVC_PROXY};
    d->cr = conn_connect(d->loop, all, n, &o, connected, d);
    if (!d->cr)
        fail_later(d, 502, "cannot start a connection");
}

static void addr_done(const struct dns_result *r, void *arg)
{
    struct dial *d = arg;
    d->q[r->type == DNS_AAAA ? 0 : 1] = NULL;
    for (size_t i = 0; r->status == DNS_OK && i < r->n; i++) {
        if (r->type == DNS_AAAA && d->n6 < CONNECT_MAX_ADDRS / 2)
            conn_addr_from_ip(AF_INET6, &r->u.aaaa[i], d->port, &d->v6[d->n6++]);
        if (r->type == DNS_A && d->n4 < CONNECT_MAX_ADDRS / 2)
            conn_addr_from_ip(AF_INET, &r->u.a[i], d->port, &d->v4[d->n4++]);
    }
    if (--d->qpending == 0)
        connect_addrs(d);
}

struct dial *dial_start(struct loop *loop, uint64_t id, const char *host, uint16_t port,
                        bool guard, dial_fn fn, void *arg)
{
    struct dial *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    *d = (struct dial){
        .loop = loop, .id = id, .port = port, .guard = guard, .fn = fn, .arg = arg};
    snprintf(d->host, sizeof d->host, "%s", host);
    if (conn_addr_parse(host, port, &d->v4[0]) == 0) {
        if (d->v4[0].ss.ss_family == AF_INET6) {
            d->v6[0] = d->v4[0];
            d->n6 = 1;
        } else {
            d->n4 = 1;
        }
        connect_addrs(d);
        return d;
    }
    struct dns *dns = dns_for_loop(loop);
    d->qpending = 2;
    if (!dns || !(d->q[0] = dns_query(dns, DNS_AAAA, host, addr_done, d))) {
        fail_later(d, 502, "resolver unavailable");
        return d;
    }
    if (!(d->q[1] = dns_query(dns, DNS_A, host, addr_done, d)))
        d->qpending--;
    return d;
}

void dial_cancel(struct dial *d)
{
    if (!d)
        return;
    for (int i = 0; i < 2; i++)
        if (d->q[i])
            dns_cancel(d->q[i]);
    if (d->cr)
        connect_cancel(d->cr);
    if (d->later)
        event_free(d->later);
    free(d);
}
