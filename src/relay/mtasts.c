/* mtasts: MTA-STS policy discovery and fetch (RFC 8461 3, 5; see
 * mtasts.h). A lookup: the cached policy from queue/mta-sts/ on first use
 * of a domain (pool), the TXT record (3.1), then, unless the cached
 * policy has the record's id and is fresh, the HTTPS fetch (3.3: verified
 * TLS to mta-sts.DOMAIN, GET /.well-known/mta-sts.txt, 200 with
 * text/plain, no redirects). A failed fetch or a missing record keeps a
 * cached policy that has not expired (5.1); with none, the domain has no
 * policy. */
#include "relay/mtasts.h"

#include "core/conn.h"
#include "core/connect.h"
#include "core/dns.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/tls_client.h"
#include "httpmsg/chunked.h"
#include "httpmsg/response.h"
#include "relay/relay_int.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MTASTS_DIR "mta-sts"
#define MTASTS_FETCH_ADDRS 8

struct entry {
    char domain[256];
    bool loaded; /* the disk cache was read */
    bool have;   /* pol, id and expires hold a policy */
    char id[MTASTS_ID_MAX];
    int64_t expires;
    int64_t used;
    struct mtasts_policy pol;
    struct entry *next;
};

struct fetch;

struct req {
    struct entry *e;
    mtasts_fn fn;
    void *arg;
    char id[MTASTS_ID_MAX]; /* the TXT record's */
    char host[300];         /* mta-sts.DOMAIN */
    struct conn_addr addrs[MTASTS_FETCH_ADDRS];
    size_t naddrs;
    int qpending;
    struct fetch *f;
    struct req *prev, *next;
};

/* The HTTPS connection's state; owned by the conn (freed in on_free). */
struct fetch {
    struct req *r; /* NULL once the lookup is gone */
    char *buf;
    size_t len;
    bool done;
    char why[160];
};

static struct entry *cache;
static size_t ncache;
static struct req *reqs;
static struct tls_client *tlsc;
static int64_t use_clock;

static void query_txt(struct req *r);
static void finish(struct req *r, const struct mtasts_policy *p);

/* ---- the cache ---- */

/* A name we may use as a file name: letters, digits, '-', inner dots. */
static bool domain_ok(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 253 || d[0] == '.' || d[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                  (c == '.' && d[i + 1] != '.');
        if (!ok)
            return false;
    }
    return true;
}

static bool entry_in_use(const struct entry *e)
{
    for (struct req *r = reqs; r; r = r->next)
        if (r->e == e)
            return true;
    return false;
}

static void evict_one(void)
{
    struct entry **victim = NULL;
    for (struct entry **p = &cache; *p; p = &(*p)->next)
        if (!entry_in_use(*p) && (!victim || (*p)->used < (*victim)->used))
            victim = p;
    if (!victim)
        return;
    struct entry *e = *victim;
    *victim = e->next;
    free(e);
    ncache--;
}

static struct entry *entry_get(const char *domain)
{
    for (struct entry *e = cache; e; e = e->next)
        if (strcmp(e->domain, domain) == 0) {
            e->used = ++use_clock;
            return e;
        }
    if (ncache >= MTASTS_CACHE_MAX)
        evict_one();
    struct entry *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    snprintf(e->domain, sizeof e->domain, "%s", domain);
    e->used = ++use_clock;
    e->next = cache;
    cache = e;
    ncache++;
    return e;
}

static bool fresh(const struct entry *e)
{
    return e->have && e->expires > relay_now();
}

/* ---- the disk cache: queue/mta-sts/DOMAIN ("id X\nexpires T\n\n" and
 * the policy text as fetched) ---- */

struct disk_job {
    struct req *r;
    char domain[256];
    bool have;
    char id[MTASTS_ID_MAX];
    int64_t expires;
    struct mtasts_policy pol;
    char *text; /* to write, or NULL for a read */
    size_t len;
};

static void disk_read_work(void *arg)
{
    struct disk_job *dj = arg;
    int dfd = openat(relay->qfd, MTASTS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = dfd < 0 ? -1 : openat(dfd, dj->domain, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    char *buf = fd < 0 ? NULL : malloc(MTASTS_POLICY_MAX + 256);
    ssize_t n = buf ? read(fd, buf, MTASTS_POLICY_MAX + 255) : -1;
    if (n > 0) {
        buf[n] = '\0';
        long long exp = 0;
        int used = 0;
        const char *why;
        if (sscanf(buf, "id %32[A-Za-z0-9]\nexpires %lld\n\n%n", dj->id, &exp, &used) ==
                2 &&
            used > 0 &&
            mtasts_policy_parse(buf + used, (size_t)(n - used), &dj->pol, &why) == 0) {
            dj->have = true;
            dj->expires = exp;
        }
    }
    free(buf);
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
}

static void disk_read_done(void *arg)
{
    struct disk_job *dj = arg;
    struct req *r = dj->r;
    struct entry *e = r->e;
    e->loaded = true;
    if (dj->have && !e->have) {
        e->have = true;
        snprintf(e->id, sizeof e->id, "%s", dj->id);
        e->expires = dj->expires;
        e->pol = dj->pol;
    }
    free(dj);
    query_txt(r);
}

static void disk_write_work(void *arg)
{
    struct disk_job *dj = arg;
    mkdirat(relay->qfd, MTASTS_DIR, 0700);
    int dfd = openat(relay->qfd, MTASTS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return;
    char tmp[300];
    snprintf(tmp, sizeof tmp, "tmp.%s", dj->domain);
    int fd =
        openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) {
        char head[128];
        int hn = snprintf(head, sizeof head, "id %s\nexpires %lld\n\n", dj->id,
                          (long long)dj->expires);
        bool ok = write(fd, head, (size_t)hn) == hn &&
                  write(fd, dj->text, dj->len) == (ssize_t)dj->len;
        close(fd);
        /* A cache: no fsync; a torn file fails to parse and is fetched again. */
        if (!ok || renameat(dfd, tmp, dfd, dj->domain) < 0)
            unlinkat(dfd, tmp, 0);
    }
    close(dfd);
}

static void disk_job_free(void *arg)
{
    struct disk_job *dj = arg;
    free(dj->text);
    free(dj);
}

static void disk_write_done(void *arg)
{
    disk_job_free(arg);
}

static void cache_store(struct entry *e, const char *text, size_t len)
{
    struct disk_job *dj = calloc(1, sizeof *dj);
    char *copy = malloc(len ? len : 1);
    if (!dj || !copy) {
        free(dj);
        free(copy);
        return;
    }
    memcpy(copy, text, len);
    snprintf(dj->domain, sizeof dj->domain, "%s", e->domain);
    snprintf(dj->id, sizeof dj->id, "%s", e->id);
    dj->expires = e->expires;
    dj->text = copy;
    dj->len = len;
    if (relay_submit(disk_write_work, disk_write_done, disk_job_free, dj) < 0)
        disk_job_free(dj);
}

/* ---- results ---- */

static void finish(struct req *r, const struct mtasts_policy *p)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        reqs = r->next;
    if (r->next)
        r->next->prev = r->prev;
    if (r->f)
        r->f->r = NULL;
    if (p && p->mode == MTASTS_NONE)
        p = NULL;
    r->fn(p, r->arg);
    free(r);
}

/* Whatever is known when nothing new can be had (5.1). */
static void finish_cached(struct req *r)
{
    finish(r, fresh(r->e) ? &r->e->pol : NULL);
}

static void fetch_failed(struct req *r, const char *why)
{
    log_warn(0, "relay mta_sts_fetch_failed domain=%s why=\"%s\" cached=%s", r->e->domain,
             why, fresh(r->e) ? "yes" : "no");
    finish_cached(r);
}

/* ---- the HTTPS fetch (3.3) ---- */

/* The body of a complete response in f->buf, into *body (malloc'd).
 * 1 complete, 0 more bytes needed, -1 failed (f->why). */
static int response_body(struct fetch *f, bool eof, char **body, size_t *blen)
{
    struct http_response resp;
    int h = http_parse_response(f->buf, f->len, &resp);
    if (h == HTTP_PARSE_MORE && !eof)
        return 0;
    if (h < 0 || http_response_framing(&resp, false, false) < 0) {
        snprintf(f->why, sizeof f->why, "not an HTTP response");
        return -1;
    }
    if (resp.status != 200) { /* 3.3: redirects are not followed */
        snprintf(f->why, sizeof f->why, "HTTP status %d", resp.status);
        return -1;
    }
    const struct http_str *ct = http_response_get(&resp, HR_CONTENT_TYPE);
    if (!ct || ct->n < 10 || strncasecmp(ct->p, "text/plain", 10) != 0) {
        snprintf(f->why, sizeof f->why, "the policy is not text/plain");
        return -1;
    }
    const char *rest = f->buf + h;
    size_t nrest = f->len - (size_t)h;
    *body = malloc(nrest + 1);
    if (!*body) {
        snprintf(f->why, sizeof f->why, "out of memory");
        return -1;
    }
    *blen = 0;
    if (resp.body == HTTP_BODY_LENGTH) {
        if (nrest < resp.content_length) {
            free(*body);
            if (!eof)
                return 0;
            snprintf(f->why, sizeof f->why, "the response is cut short");
            return -1;
        }
        memcpy(*body, rest, (size_t)resp.content_length);
        *blen = (size_t)resp.content_length;
        return 1;
    }
    if (resp.body == HTTP_BODY_CLOSE) {
        if (!eof) {
            free(*body);
            return 0;
        }
        memcpy(*body, rest, nrest);
        *blen = nrest;
        return 1;
    }
    if (resp.body == HTTP_BODY_CHUNKED) {
        struct http_chunked d;
        http_chunked_init(&d);
        size_t at = 0;
        for (int guard = 0; guard < 100000; guard++) {
            size_t used = 0, dlen = 0;
            enum http_chunked_rc rc =
                http_chunked_feed(&d, rest + at, nrest - at, &used, &dlen);
            if (rc == HTTP_CHUNKED_DATA) {
                memcpy(*body + *blen, rest + at + used - dlen, dlen);
                *blen += dlen;
            }
            at += used;
            if (rc == HTTP_CHUNKED_DONE)
                return 1;
            if (rc == HTTP_CHUNKED_ERROR)
                break;
            if (rc == HTTP_CHUNKED_MORE) {
                free(*body);
                if (!eof)
                    return 0;
                snprintf(f->why, sizeof f->why, "the response is cut short");
                return -1;
            }
        }
    }
    free(*body);
    snprintf(f->why, sizeof f->why, "bad response framing");
    return -1;
}

/* 1: done (the lookup finished), 0: more bytes needed. */
static int fetch_try(struct fetch *f, bool eof)
{
    struct req *r = f->r;
    char *body = NULL;
    size_t blen = 0;
    int rc = response_body(f, eof, &body, &blen);
    if (rc == 0)
        return 0;
    f->done = true;
    if (rc < 0) {
        fetch_failed(r, f->why);
        return 1;
    }
    struct mtasts_policy pol;
    const char *why = NULL;
    if (mtasts_policy_parse(body, blen, &pol, &why) < 0) {
        free(body);
        fetch_failed(r, why);
        return 1;
    }
    struct entry *e = r->e;
    e->have = true;
    e->pol = pol;
    e->expires = relay_now() + pol.max_age;
    snprintf(e->id, sizeof e->id, "%s", r->id);
    log_info(0, "relay mta_sts domain=%s id=%s mode=%s max_age=%" PRId64 " mx=%zu",
             e->domain, e->id, mtasts_mode_name(pol.mode), pol.max_age, pol.nmx);
    cache_store(e, body, blen);
    free(body);
    finish(r, &e->pol);
    return 1;
}

static void fetch_input(struct conn *c)
{
    struct fetch *f = c->ctx;
    struct evbuffer *in = conn_input(c);
    size_t n = evbuffer_get_length(in);
    if (!f->r || f->done) {
        evbuffer_drain(in, n);
        return;
    }
    if (f->len + n > MTASTS_RESPONSE_MAX) {
        snprintf(f->why, sizeof f->why, "the response is larger than %d bytes",
                 MTASTS_RESPONSE_MAX);
        conn_abort(c);
        return;
    }
    evbuffer_remove(in, f->buf + f->len, n);
    f->len += n;
    if (fetch_try(f, false))
        conn_close(c);
}

static void fetch_tls(struct conn *c)
{
    struct fetch *f = c->ctx;
    struct tls_client_result res;
    if (!f->r)
        return;
    if (tls_client_check(conn_ssl(c), TLS_VERIFIED, &res) < 0) {
        snprintf(f->why, sizeof f->why, "%s", res.why);
        conn_abort(c);
        return;
    }
    conn_printf(c,
                "GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: %s\r\n"
                "User-Agent: portico\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
                f->r->host);
}

static void fetch_timeout(struct conn *c)
{
    struct fetch *f = c->ctx;
    snprintf(f->why, sizeof f->why, "timed out");
}

static void fetch_free(struct conn *c)
{
    struct fetch *f = c->ctx;
    if (f->r && !f->done && (f->why[0] || !fetch_try(f, true))) {
        f->done = true;
        fetch_failed(f->r, f->why[0] ? f->why : "the connection closed");
    }
    free(f->buf);
    free(f);
}

static const struct conn_ops fetch_ops = {
    .on_input = fetch_input,
    .on_tls = fetch_tls,
    .on_timeout = fetch_timeout,
    .on_free = fetch_free,
};

static void fetch_connected(struct conn *c, int err, void *arg)
{
    struct req *r = arg;
    if (!c) {
        char why[128];
        snprintf(why, sizeof why, "cannot connect to %s: %s", r->host, strerror(err));
        fetch_failed(r, why);
        return;
    }
    struct fetch *f = calloc(1, sizeof *f);
    char *buf = malloc(MTASTS_RESPONSE_MAX);
    if (!f || !buf) {
        free(f);
        free(buf);
        conn_abort(c);
        fetch_failed(r, "out of memory");
        return;
    }
    f->buf = buf;
    f->r = r;
    r->f = f;
    c->ops = &fetch_ops;
    c->ctx = f;
    conn_set_idle_timeout(c, MTASTS_FETCH_TIMEOUT);
    SSL *ssl = tls_client_new_ssl(tlsc, r->host);
    if (!ssl || conn_starttls_client(c, ssl) < 0) {
        snprintf(f->why, sizeof f->why, "cannot start TLS");
        conn_abort(c);
    }
}

static void fetch_connect(struct req *r)
{
    if (r->naddrs == 0) {
        fetch_failed(r, "no address for the policy host");
        return;
    }
    struct connect_opts o = {.timeout_sec = (unsigned)relay->cfg->relay_connect_timeout,
                             .svc = SVC_SMTP};
    if (!conn_connect(relay->loop, r->addrs, r->naddrs, &o, fetch_connected, r))
        fetch_failed(r, "cannot start a connection");
}

static void fetch_addr_done(const struct dns_result *res, void *arg)
{
    struct req *r = arg;
    uint16_t port = (uint16_t)relay->cfg->relay_mta_sts_port;
    for (size_t i = 0; res->status == DNS_OK && i < res->n; i++) {
        if (r->naddrs >= MTASTS_FETCH_ADDRS)
            break;
        if (res->type == DNS_AAAA)
            conn_addr_from_ip(AF_INET6, &res->u.aaaa[i], port, &r->addrs[r->naddrs++]);
        else if (res->type == DNS_A)
            conn_addr_from_ip(AF_INET, &res->u.a[i], port, &r->addrs[r->naddrs++]);
    }
    if (--r->qpending == 0)
        fetch_connect(r);
}

static void start_fetch(struct req *r)
{
    char err[256];
    if (!tlsc && !(tlsc = tls_client_new(relay->cfg->relay_ca_file, err, sizeof err))) {
        fetch_failed(r, err);
        return;
    }
    snprintf(r->host, sizeof r->host, "mta-sts.%s", r->e->domain);
    struct dns *dns = dns_for_loop(relay->loop);
    r->qpending = 2;
    if (!dns || !dns_query(dns, DNS_A, r->host, fetch_addr_done, r)) {
        fetch_failed(r, "resolver unavailable");
        return;
    }
    if (!dns_query(dns, DNS_AAAA, r->host, fetch_addr_done, r))
        r->qpending--;
}

/* ---- the TXT record (3.1) ---- */

static void txt_done(const struct dns_result *res, void *arg)
{
    struct req *r = arg;
    int records = 0;
    bool valid = false;
    for (size_t i = 0; res->status == DNS_OK && i < res->n; i++) {
        const char *t = res->u.txt[i];
        if (strncmp(t, "v=STSv1", 7) != 0) /* other records are discarded */
            continue;
        records++;
        valid = mtasts_txt_id(t, strlen(t), r->id) == 0;
    }
    if (records != 1 || !valid) { /* no policy announced: the cache may hold one */
        finish_cached(r);
        return;
    }
    if (fresh(r->e) && strcmp(r->e->id, r->id) == 0) {
        finish(r, &r->e->pol);
        return;
    }
    start_fetch(r);
}

static void query_txt(struct req *r)
{
    char name[300];
    snprintf(name, sizeof name, "_mta-sts.%s", r->e->domain);
    struct dns *dns = dns_for_loop(relay->loop);
    if (!dns || !dns_query(dns, DNS_TXT, name, txt_done, r))
        finish_cached(r);
}

int mtasts_lookup(const char *domain, mtasts_fn fn, void *arg)
{
    if (!domain_ok(domain))
        return -1;
    struct entry *e = entry_get(domain);
    struct req *r = e ? calloc(1, sizeof *r) : NULL;
    if (!r)
        return -1;
    *r = (struct req){.e = e, .fn = fn, .arg = arg, .next = reqs};
    if (reqs)
        reqs->prev = r;
    reqs = r;
    if (e->loaded) {
        query_txt(r);
        return 0;
    }
    struct disk_job *dj = calloc(1, sizeof *dj);
    if (dj) {
        dj->r = r;
        snprintf(dj->domain, sizeof dj->domain, "%s", domain);
    }
    if (!dj || relay_submit(disk_read_work, disk_read_done, disk_job_free, dj) < 0) {
        free(dj);
        e->loaded = true;
        query_txt(r);
    }
    return 0;
}

void mtasts_cleanup(void)
{
    while (reqs) {
        struct req *r = reqs;
        reqs = r->next;
        if (r->f)
            r->f->r = NULL;
        free(r);
    }
    while (cache) {
        struct entry *e = cache;
        cache = e->next;
        free(e);
    }
    ncache = 0;
    tls_client_free(tlsc);
    tlsc = NULL;
}
