/* dns: c-ares channels on libevent loops, with a TTL cache.
 * c-ares tells us (sock_state_cb) which sockets it wants watched; each gets
 * a persistent event on the resolver's base that calls ares_process_fd,
 * and one timer follows ares_timeout() so retries and timeouts fire
 * without a socket event. Queries are plain ares_query (no search list,
 * no /etc/hosts: mail routing must see what DNS says). */
#include "core/dns.h"

#include "core/dns_answer.h"
#include "core/log.h"
#include "core/loop.h"

#include <ares.h>
#include <ctype.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DNS_MAX_SOCKS 16 /* c-ares sockets watched at once per resolver */

struct dns_sock {
    ares_socket_t fd;
    struct event *ev;
};

struct cache_entry {
    enum dns_type type;
    char name[256];
    uint64_t expires; /* monotonic seconds */
    uint64_t used;    /* LRU tick */
    struct dns_answer ans;
};

struct dns {
    struct event_base *base;
    ares_channel channel;
    struct dns_sock socks[DNS_MAX_SOCKS];
    struct event *timer;
    struct cache_entry *cache; /* DNS_CACHE_MAX slots */
    size_t ncache;
    uint64_t tick, hits, misses;
    struct dns_query *queries; /* outstanding, for dns_free */
    bool freeing;
};

struct dns_query {
    struct dns *d;
    enum dns_type type;
    char name[256];
    dns_done_fn fn; /* NULL once cancelled */
    void *arg;
    bool in_ares;       /* c-ares holds it: freed from its callback */
    struct event *kick; /* delivers a cached or BADNAME answer */
    const struct cache_entry *hit;
    struct dns_query *prev, *next;
};

static const uint16_t qtypes[] = {
    [DNS_A] = 1, [DNS_AAAA] = 28, [DNS_MX] = 15, [DNS_TXT] = 16, [DNS_TLSA] = 52};
static const char *const type_names[] = {"A", "AAAA", "MX", "TXT", "TLSA"};
static const char *const status_names[] = {"ok", "nxdomain", "nodata", "tempfail",
                                           "badname"};

const char *dns_type_name(enum dns_type t)
{
    if ((unsigned)t < sizeof type_names / sizeof *type_names)
        return type_names[t];
    return "?";
}

int dns_type_parse(const char *s, enum dns_type *out)
{
    for (unsigned i = 0; i < sizeof type_names / sizeof *type_names; i++) {
        if (strcasecmp(s, type_names[i]) == 0) {
            *out = (enum dns_type)i;
            return 0;
        }
    }
    return -1;
}

const char *dns_status_name(enum dns_status s)
{
    if ((unsigned)s < sizeof status_names / sizeof *status_names)
        return status_names[s];
    return "?";
}

static uint64_t now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec;
}

/* ---- c-ares on libevent ---- */

static void rearm_timer(struct dns *d)
{
    struct timeval tv, *t = ares_timeout(d->channel, NULL, &tv);
    if (t)
        evtimer_add(d->timer, t);
    else
        evtimer_del(d->timer);
}

static void sock_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dns *d = arg;
    ares_socket_t r = ARES_SOCKET_BAD, w = ARES_SOCKET_BAD;
    if (what & EV_READ)
        r = fd;
    if (what & EV_WRITE)
        w = fd;
    ares_process_fd(d->channel, r, w);
    rearm_timer(d);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dns *d = arg;
    ares_process_fd(d->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    rearm_timer(d);
}

static struct dns_sock *sock_slot(struct dns *d, ares_socket_t fd, bool create)
{
    struct dns_sock *free_slot = NULL;
    for (int i = 0; i < DNS_MAX_SOCKS; i++) {
        if (d->socks[i].ev && d->socks[i].fd == fd)
            return &d->socks[i];
        if (!d->socks[i].ev && !free_slot)
            free_slot = &d->socks[i];
    }
    if (create)
        return free_slot;
    return NULL;
}

/* c-ares: watch fd for reading and/or writing, or stop watching it. */
static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
    struct dns *d = data;
    struct dns_sock *s = sock_slot(d, fd, readable || writable);
    if (!s) {
        if (readable || writable)
            log_warn(0, "core dns too_many_sockets");
        return;
    }
    if (s->ev) {
        event_free(s->ev);
        s->ev = NULL;
    }
    if (!readable && !writable)
        return;
    short what = EV_PERSIST;
    if (readable)
        what |= EV_READ;
    if (writable)
        what |= EV_WRITE;
    s->fd = fd;
    s->ev = event_new(d->base, fd, what, sock_cb, d);
    if (s->ev)
        event_add(s->ev, NULL);
}

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_status;

static void library_init(void)
{
    ares_init_status = ares_library_init(ARES_LIB_INIT_ALL);
}

static int set_server(struct dns *d, const char *server, char *err, size_t errlen)
{
    if (!server || !*server)
        return 0;
    int st = ares_set_servers_ports_csv(d->channel, server);
    if (st != ARES_SUCCESS) {
        snprintf(err, errlen, "bad resolver %s: %s", server, ares_strerror(st));
        return -1;
    }
    return 0;
}

struct dns *dns_new(struct event_base *base, const char *server, char *err, size_t errlen)
{
    return dns_new_timeout(base, server, DNS_TIMEOUT_MS, DNS_TRIES, err, errlen);
}

struct dns *dns_new_timeout(struct event_base *base, const char *server, int timeout_ms,
                            int tries, char *err, size_t errlen)
{
    pthread_once(&ares_once, library_init);
    struct dns *d = calloc(1, sizeof *d);
    if (d)
        d->cache = calloc(DNS_CACHE_MAX, sizeof *d->cache);
    if (d && d->cache)
        d->timer = evtimer_new(base, timer_cb, d);
    if (!d || !d->timer || ares_init_status != ARES_SUCCESS) {
        snprintf(err, errlen, "cannot start the resolver: out of memory");
        if (d)
            free(d->cache);
        free(d);
        return NULL;
    }
    d->base = base;
    struct ares_options o = {0};
    o.sock_state_cb = sock_state_cb;
    o.sock_state_cb_data = d;
    o.timeout = timeout_ms;
    o.tries = tries;
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    int st = ares_init_options(&d->channel, &o, mask);
    if (st != ARES_SUCCESS) {
        snprintf(err, errlen, "cannot start the resolver: %s", ares_strerror(st));
        event_free(d->timer);
        free(d->cache);
        free(d);
        return NULL;
    }
    if (set_server(d, server, err, errlen) < 0) {
        d->freeing = true;
        dns_free(d);
        return NULL;
    }
    return d;
}

static void query_unlink(struct dns_query *q)
{
    struct dns *d = q->d;
    if (q->prev)
        q->prev->next = q->next;
    else if (d->queries == q)
        d->queries = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
}

static void query_free(struct dns_query *q)
{
    query_unlink(q);
    if (q->kick)
        event_free(q->kick);
    free(q);
}

void dns_free(struct dns *d)
{
    if (!d)
        return;
    d->freeing = true;
    /* Cancel first: ares_destroy calls back every query it holds. */
    for (struct dns_query *q = d->queries; q; q = q->next)
        q->fn = NULL;
    ares_destroy(d->channel);
    while (d->queries)
        query_free(d->queries);
    for (int i = 0; i < DNS_MAX_SOCKS; i++)
        if (d->socks[i].ev)
            event_free(d->socks[i].ev);
    for (size_t i = 0; i < d->ncache; i++)
        dns_answer_clear(&d->cache[i].ans);
    event_free(d->timer);
    free(d->cache);
    free(d);
}

/* ---- the cache ---- */

static struct cache_entry *cache_find(struct dns *d, enum dns_type type, const char *name)
{
    uint64_t now = now_sec();
    for (size_t i = 0; i < d->ncache; i++) {
        struct cache_entry *e = &d->cache[i];
        if (e->type == type && strcmp(e->name, name) == 0) {
            if (e->expires <= now)
                return NULL;
            e->used = ++d->tick;
            return e;
        }
    }
    return NULL;
}

/* The slot for a new entry: the same key, else a free one, else an
 * expired one, else the least recently used. */
static struct cache_entry *cache_slot(struct dns *d, enum dns_type type, const char *name)
{
    uint64_t now = now_sec();
    struct cache_entry *victim = NULL;
    for (size_t i = 0; i < d->ncache; i++) {
        struct cache_entry *e = &d->cache[i];
        if (e->type == type && strcmp(e->name, name) == 0)
            return e;
        if (e->expires <= now)
            victim = e;
        else if (!victim || (victim->expires > now && e->used < victim->used))
            victim = e;
    }
    if (d->ncache < DNS_CACHE_MAX)
        return &d->cache[d->ncache++];
    return victim;
}

/* Keeps ans (ownership moves to the cache). */
static const struct cache_entry *cache_put(struct dns *d, enum dns_type type,
                                           const char *name, struct dns_answer *ans)
{
    struct cache_entry *e = cache_slot(d, type, name);
    dns_answer_clear(&e->ans);
    e->type = type;
    snprintf(e->name, sizeof e->name, "%s", name);
    e->ans = *ans;
    e->expires = now_sec() + ans->ttl;
    e->used = ++d->tick;
    memset(ans, 0, sizeof *ans);
    return e;
}

void dns_cache_stats(struct dns *d, size_t *entries, uint64_t *hits, uint64_t *misses)
{
    *entries = d->ncache;
    *hits = d->hits;
    *misses = d->misses;
}

/* ---- queries ---- */

static void deliver(struct dns_query *q, const struct dns_answer *a, bool cached,
                    uint32_t ttl, const char *error)
{
    struct dns_result r = {.type = q->type, .name = q->name, .cached = cached};
    dns_answer_view(a, &r);
    r.ttl = ttl;
    r.error = error;
    dns_done_fn fn = q->fn;
    void *arg = q->arg;
    q->fn = NULL;
    log_debug(0, "core dns answer type=%s name=%s status=%s n=%zu ttl=%u cached=%s",
              dns_type_name(q->type), q->name, dns_status_name(r.status), r.n, r.ttl,
              cached ? "yes" : "no");
    if (fn)
        fn(&r, arg);
}

static enum dns_status map_status(int st)
{
    switch (st) {
    case ARES_ENOTFOUND:
        return DNS_NXDOMAIN;
    case ARES_ENODATA:
        return DNS_NODATA;
    case ARES_EBADNAME:
        return DNS_BADNAME;
    default:
        return DNS_TEMPFAIL;
    }
}

static void ares_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    struct dns_query *q = arg;
    struct dns *d = q->d;
    q->in_ares = false;
    if (!q->fn || d->freeing) {
        if (!d->freeing)
            query_free(q);
        return;
    }
    struct dns_answer ans = {.type = q->type};
    const char *error = NULL;
    if (status == ARES_SUCCESS &&
        dns_answer_parse(abuf, (size_t)alen, q->type, &ans) < 0) {
        status = ARES_EBADRESP;
        memset(&ans, 0, sizeof ans);
    }
    if (status != ARES_SUCCESS) {
        ans.status = map_status(status);
        ans.ttl = DNS_NEGATIVE_TTL;
        if (ans.status == DNS_TEMPFAIL)
            error = ares_strerror(status);
    }
    if (ans.status == DNS_TEMPFAIL) { /* never cached: try again next time */
        deliver(q, &ans, false, 0, error);
    } else {
        const struct cache_entry *e = cache_put(d, q->type, q->name, &ans);
        deliver(q, &e->ans, false, e->ans.ttl, NULL);
    }
    query_free(q);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dns_query *q = arg;
    if (q->hit) {
        /* Another answer may have taken the slot since dns_query. */
        q->hit = cache_find(q->d, q->type, q->name);
        if (!q->hit) {
            event_free(q->kick);
            q->kick = NULL;
            q->in_ares = true;
            ares_query(q->d->channel, q->name, 1, qtypes[q->type], ares_cb, q);
            rearm_timer(q->d);
            return;
        }
        uint64_t now = now_sec();
        uint32_t left = 0;
        if (q->hit->expires > now)
            left = (uint32_t)(q->hit->expires - now);
        deliver(q, &q->hit->ans, true, left, NULL);
    } else {
        struct dns_answer bad = {.status = DNS_BADNAME, .type = q->type};
        deliver(q, &bad, false, 0, NULL);
    }
    query_free(q);
}

/* A host name as DNS carries it: 1-253 octets, labels of 1-63 (RFC 1035
 * 2.3.4), no space or control character; "_" allowed (_mta-sts, TLSA's
 * _25._tcp). Lower-cased without the trailing dot into out. */
static bool name_ok(const char *name, char *out, size_t outlen)
{
    size_t n = strlen(name);
    if (n > 0 && name[n - 1] == '.')
        n--;
    if (n == 0 || n > 253 || n >= outlen)
        return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch <= ' ' || ch >= 127 || ch == '\\')
            return false;
        if (ch == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (++label > 63) {
            return false;
        }
        out[i] = (char)tolower(ch);
    }
    out[n] = '\0';
    return label > 0;
}

/* Delivers from the loop, not from the caller's frame. */
static struct dns_query *deliver_later(struct dns_query *q)
{
    q->kick = event_new(q->d->base, -1, 0, kick_cb, q);
    if (!q->kick) {
        query_free(q);
        return NULL;
    }
    event_active(q->kick, 0, 0);
    return q;
}

struct dns_query *dns_query(struct dns *d, enum dns_type type, const char *name,
                            dns_done_fn fn, void *arg)
{
    struct dns_query *q = calloc(1, sizeof *q);
    if (!q)
        return NULL;
    *q = (struct dns_query){.d = d, .type = type, .fn = fn, .arg = arg};
    q->next = d->queries;
    if (d->queries)
        d->queries->prev = q;
    d->queries = q;
    if (!name_ok(name, q->name, sizeof q->name)) {
        snprintf(q->name, sizeof q->name, "%.*s", 200, name);
        return deliver_later(q);
    }
    q->hit = cache_find(d, type, q->name);
    if (q->hit) {
        d->hits++;
        return deliver_later(q);
    }
    d->misses++;
    q->in_ares = true;
    ares_query(d->channel, q->name, 1 /* C_IN */, qtypes[type], ares_cb, q);
    rearm_timer(d);
    return q;
}

void dns_cancel(struct dns_query *q)
{
    if (!q)
        return;
    q->fn = NULL;
    if (!q->in_ares)
        query_free(q); /* a pending kick goes with it */
}

/* ---- one resolver per loop thread ---- */

static __thread struct dns *loop_dns;

struct dns *dns_for_loop(struct loop *loop)
{
    if (loop_dns)
        return loop_dns;
    const char *server = NULL;
    if (loop->rt && loop->rt->cfg)
        server = loop->rt->cfg->relay_resolver;
    char err[256];
    loop_dns = dns_new(loop->base, server, err, sizeof err);
    if (!loop_dns)
        log_error(0, "core dns %s", err);
    return loop_dns;
}

void dns_loop_free(void)
{
    dns_free(loop_dns);
    loop_dns = NULL;
}
