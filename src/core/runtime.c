/* runtime: the loop threads, their SO_REUSEPORT listeners, and the graceful
 * stop. Each loop owns its listeners and connections; nothing here is
 * shared between loops except the runtime's read-only config. */
#include "core/dns.h"
#include "core/loop.h"

#include "core/conn.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/proxy.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LISTEN_BACKLOG 1024
#define STOP_DEADLINE_SEC 10

struct runtime *runtime;
static atomic_uint_fast64_t last_session_id;

struct loop_listener {
    struct evconnlistener *evl;
    struct loop *loop;
    enum service svc;
    bool tls;
    struct event *resume; /* re-enables accepting after EMFILE/ENFILE */
};

void loop_seed_session_ids(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    atomic_store(&last_session_id,
                 (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u);
}
static atomic_long last_accept_log; /* time(): one log line per interval */

uint64_t loop_next_session_id(void)
{
    return (uint64_t)atomic_fetch_add(&last_session_id, 1) + 1;
}

void loop_attach(struct loop *loop, struct conn *c)
{
    c->next = loop->conns;
    if (loop->conns)
        loop->conns->prev = c;
    loop->conns = c;
    loop->nconns++;
}

void loop_detach(struct loop *loop, struct conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        loop->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    loop->nconns--;
    if (loop->stopping && loop->nconns == 0)
        event_base_loopexit(loop->base, NULL);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int salen, void *arg)
{
    struct loop_listener *lc = arg;
    if (lc->loop->stopping) {
        close(fd);
        return;
    }
    if (lc->loop->rt->cfg->svc[lc->svc].proxy_protocol) {
        proxy_accept(lc->loop, fd, sa, lc->svc, lc->tls);
        return;
    }
    struct conn *c = conn_new(lc->loop, fd, sa, lc->svc, lc->tls);
    if (c)
        lc->loop->rt->services[lc->svc]->start(c);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct loop_listener *lc = arg;
    if (!lc->loop->stopping)
        evconnlistener_enable(lc->evl);
}

/* accept() failed. Out of descriptors (or kernel memory) the pending
 * connection stays readable, so retrying at once would spin: pause this
 * listener briefly and log once per interval, not once per attempt. */
static void accept_error_cb(struct evconnlistener *l, void *arg)
{
    struct loop_listener *lc = arg;
    int e = errno;
    bool exhausted = e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
    time_t now = time(NULL);
    long last = atomic_load(&last_accept_log);
    if (now - last >= ACCEPT_ERROR_LOG_SEC &&
        atomic_compare_exchange_strong(&last_accept_log, &last, (long)now))
        log_warn(0, "core accept failed error=\"%s\" open_sessions=%d pause_ms=%d",
                 strerror(e), conn_count(), exhausted ? ACCEPT_PAUSE_MS : 0);
    if (!exhausted)
        return;
    if (!lc->resume)
        lc->resume = evtimer_new(lc->loop->base, resume_cb, lc);
    if (!lc->resume)
        return;
    struct timeval tv = {0, ACCEPT_PAUSE_MS * 1000};
    evconnlistener_disable(l);
    evtimer_add(lc->resume, &tv);
}

/* Opens one listening socket. probe: first check, without SO_REUSEPORT,
 * that no other process holds the port (REUSEPORT would silently share). */
static int open_socket(const struct listen_addr *a, bool probe)
{
    int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (!probe)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (a->sa.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (const struct sockaddr *)&a->sa, a->salen) < 0 ||
        (!probe && listen(fd, LISTEN_BACKLOG) < 0)) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (probe) {
        close(fd);
        return 0;
    }
    return fd;
}

static int add_listener(struct loop *loop, enum service svc, bool tls,
                        const struct listen_addr *a, char *err, size_t errlen)
{
    const char *key = tls ? "listen_tls" : "listen";
    if (loop->index == 0 && open_socket(a, true) < 0) {
        snprintf(err, errlen, "cannot listen on %s ([%s] %s): %s", a->text,
                 config_service_name(svc), key, strerror(errno));
        return -1;
    }
    int fd = open_socket(a, false);
    struct loop_listener *lc = fd >= 0 ? calloc(1, sizeof *lc) : NULL;
    struct loop_listener **grown =
        lc ? realloc(loop->listeners, (size_t)(loop->nlisteners + 1) * sizeof *grown)
           : NULL;
    if (grown) {
        loop->listeners = grown;
        *lc = (struct loop_listener){NULL, loop, svc, tls, NULL};
        lc->evl =
            evconnlistener_new(loop->base, accept_cb, lc, LEV_OPT_CLOSE_ON_FREE, -1, fd);
        if (lc->evl)
            evconnlistener_set_error_cb(lc->evl, accept_error_cb);
    }
    if (!lc || !lc->evl) {
        snprintf(err, errlen, "cannot listen on %s ([%s] %s): %s", a->text,
                 config_service_name(svc), key, strerror(errno));
        free(lc);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    loop->listeners[loop->nlisteners++] = lc;
    return 0;
}

static int open_loop_listeners(struct loop *loop, char *err, size_t errlen)
{
    const struct config *cfg = loop->rt->cfg;
    for (int svc = 0; svc < SVC_COUNT; svc++) {
        if (!loop->rt->services[svc])
            continue;
        const struct service_config *sc = &cfg->svc[svc];
        for (int i = 0; i < sc->listen.n; i++)
            if (add_listener(loop, svc, false, &sc->listen.addr[i], err, errlen) < 0)
                return -1;
        for (int i = 0; i < sc->listen_tls.n; i++)
            if (add_listener(loop, svc, true, &sc->listen_tls.addr[i], err, errlen) < 0)
                return -1;
    }
    return 0;
}

static void free_listeners(struct loop *loop)
{
    for (int i = 0; i < loop->nlisteners; i++) {
        evconnlistener_free(loop->listeners[i]->evl);
        if (loop->listeners[i]->resume)
            event_free(loop->listeners[i]->resume);
        free(loop->listeners[i]);
    }
    free(loop->listeners);
    loop->listeners = NULL;
    loop->nlisteners = 0;
}

int runtime_open_listeners(struct runtime *rt, char *err, size_t errlen)
{
    rt->loops = calloc((size_t)rt->nloops, sizeof *rt->loops);
    if (!rt->loops) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < rt->nloops; i++) {
        struct loop *loop = &rt->loops[i];
        loop->index = i;
        loop->rt = rt;
        loop->base = event_base_new();
        if (!loop->base || conn_loop_init(loop) < 0) {
            snprintf(err, errlen, "cannot create an event loop");
            return -1;
        }
        if (open_loop_listeners(loop, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static void *loop_thread(void *arg)
{
    struct loop *loop = arg;
    metrics_thread_shard(loop->index);
    event_base_loop(loop->base, EVLOOP_NO_EXIT_ON_EMPTY);
    dns_loop_free(); /* this thread's resolver (core/dns.h), if one was made */
    return NULL;
}

int runtime_start(struct runtime *rt)
{
    for (int i = 0; i < rt->nloops; i++)
        if (pthread_create(&rt->loops[i].thread, NULL, loop_thread, &rt->loops[i]) != 0)
            return -1;
    return 0;
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct loop *loop = arg;
    log_warn(0, "core loop stop_deadline open_sessions=%d", loop->nconns);
    for (struct conn *c = loop->conns; c; c = c->next)
        conn_abort(c);
    event_base_loopexit(loop->base, NULL);
}

/* Runs on the loop's own thread: stop accepting, say goodbye to idle
 * sessions, and leave when the last one has gone (or at the deadline). */
static void loop_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct loop *loop = arg;
    loop->stopping = true;
    free_listeners(loop);
    proxy_free_pending(loop);
    for (struct conn *c = loop->conns; c; c = c->next) {
        if (c->ops && c->ops->on_shutdown)
            c->ops->on_shutdown(c);
        else
            conn_close(c);
    }
    if (loop->nconns == 0) {
        event_base_loopexit(loop->base, NULL);
        return;
    }
    struct timeval tv = {STOP_DEADLINE_SEC, 0};
    loop->stop_timer = evtimer_new(loop->base, deadline_cb, loop);
    if (loop->stop_timer)
        evtimer_add(loop->stop_timer, &tv);
}

void runtime_stop(struct runtime *rt)
{
    static const struct timeval now = {0, 0};
    for (int i = 0; i < rt->nloops; i++)
        event_base_once(rt->loops[i].base, -1, EV_TIMEOUT, loop_stop_cb, &rt->loops[i],
                        &now);
}

void runtime_join(struct runtime *rt)
{
    for (int i = 0; i < rt->nloops; i++)
        pthread_join(rt->loops[i].thread, NULL);
}

void runtime_free_loops(struct runtime *rt)
{
    if (!rt->loops)
        return;
    for (int i = 0; i < rt->nloops; i++) {
        struct loop *loop = &rt->loops[i];
        if (!loop->base)
            continue;
        free_listeners(loop);
        proxy_free_pending(loop);
        /* Let reapers of aborted connections run before the base goes. */
        for (int round = 0; round < 4 && loop->conns; round++)
            event_base_loop(loop->base, EVLOOP_NONBLOCK);
        if (loop->stop_timer)
            event_free(loop->stop_timer);
        conn_loop_free(loop);
        for (int s = 0; s < SVC_COUNT; s++)
            if (loop->svc_state[s] && loop->svc_state_free[s])
                loop->svc_state_free[s](loop->svc_state[s]);
        event_base_free(loop->base);
    }
    free(rt->loops);
    rt->loops = NULL;
}
