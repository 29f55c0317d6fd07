/* log: the access log in the combined log format (Apache/nginx "combined"):
 *   host - user [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 2326 "referer" "agent"
 * [http] access_log: "" (the default) turns it off, "stderr" writes to
 * standard error, anything else is a file opened for appending. One write(2)
 * per line with O_APPEND, so lines from the loop threads do not interleave.
 * Quotes, backslashes and bytes outside printable ASCII are escaped as \xHH
 * so that a client cannot forge log lines. */
#include "http/http.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "http/proxy/cache_glue.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Set once before any line is written, read-only afterwards. */
static int log_fd = -1;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void open_log(void)
{
    const char *path = runtime ? runtime->cfg->http_access_log : "";
    if (path[0] == '\0')
        return;
    if (strcmp(path, "stderr") == 0) {
        log_fd = STDERR_FILENO;
        return;
    }
    log_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (log_fd < 0)
        log_warn(0, "http access_log_unavailable path=%s", path);
}

void http_log_open(void)
{
    pthread_once(&log_once, open_log);
}

struct line {
    char buf[4096];
    size_t n;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (n > sizeof l->buf - 1 - l->n)
        n = sizeof l->buf - 1 - l->n;
    memcpy(l->buf + l->n, s, n);
    l->n += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

static void put_escaped(struct line *l, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            put(l, (const char *)&c, 1);
        } else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            put(l, e, 4);
        }
    }
}

static void put_u64(struct line *l, uint64_t v)
{
    char digits[24];
    put(l, digits, http_u64_dec(v, digits));
}

static void put_field(struct line *l, const struct http_request *r, enum http_hdr f)
{
    const struct http_str *v = r->method.n ? http_request_get(r, f) : NULL;
    put(l, "\"", 1);
    if (v)
        put_escaped(l, v->p, v->n);
    else
        put(l, "-", 1);
    put(l, "\"", 1);
}

/* [10/Oct/2000:13:55:36 +0000], formatted once a second per connection. */
static void put_time(struct line *l, struct http_conn *h)
{
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    if (now != h->log_sec || h->log_time[0] == '\0') {
        struct tm tm;
        gmtime_r(&now, &tm);
        size_t n = strftime(h->log_time, sizeof h->log_time, "[%d/", &tm);
        memcpy(h->log_time + n, months[tm.tm_mon], 3);
        n += 3;
        strftime(h->log_time + n, sizeof h->log_time - n, "/%Y:%H:%M:%S +0000] ", &tm);
        h->log_sec = now;
    }
    puts_(l, h->log_time);
}

void http_log_request(struct http_conn *h)
{
    if (log_fd < 0)
        return;
    const struct http_request *r = &h->req;
    struct line l;
    l.n = 0;
    puts_(&l, h->c->peer_ip);
    puts_(&l, " - ");
    if (h->authed)
        put_escaped(&l, h->acct.address, strlen(h->acct.address));
    else
        puts_(&l, "-");
    puts_(&l, " ");
    put_time(&l, h);
    put(&l, "\"", 1);
    if (r->method.n) {
        put_escaped(&l, r->method.p, r->method.n);
        put(&l, " ", 1);
        put_escaped(&l, r->target.p, r->target.n);
        puts_(&l, r->minor ? " HTTP/1.1" : " HTTP/1.0");
    }
    puts_(&l, "\" ");
    put_u64(&l, (uint64_t)h->status);
    put(&l, " ", 1);
    put_u64(&l, h->sent);
    put(&l, " ", 1);
    put_field(&l, r, HH_REFERER);
    put(&l, " ", 1);
    put_field(&l, r, HH_USER_AGENT);
    if (h->cache_status) { /* the proxy cache's verdict (cache_glue.h) */
        puts_(&l, " cache=");
        puts_(&l, proxy_cache_status_name(h->cache_status));
        if (!h->upstream_us)
            puts_(&l, " upstream=-");
    }
    if (h->upstream_us) { /* proxied: the origin's time to its head (nginx's
                             $upstream_header_time) */
        char t[48];
        int n = snprintf(t, sizeof t, " upstream=%.3f", (double)h->upstream_us / 1e6);
        if (n > 0 && (size_t)n < sizeof t)
            put(&l, t, (size_t)n);
    }
    put(&l, "\n", 1);
    ssize_t w = write(log_fd, l.buf, l.n);
    (void)w;
}
