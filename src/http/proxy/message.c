/* message: building the heads a proxy forwards. Every field of the
 * incoming head is either copied byte for byte (end-to-end fields) or
 * dropped and rebuilt from what the parser decided (framing, Host,
 * Connection), so a field the parser saw one way cannot reach the other
 * side meaning something else (RFC 9112 11.2: request smuggling). */
#include "http/proxy/message.h"

#include "core/conn.h"
#include "core/loop.h"
#include "http/http.h"
#include "http/proxy/upstream.h"
#include "httpmsg/date.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *our_name(void)
{
    return runtime ? runtime->cfg->hostname : "localhost";
}

static void add_str(struct evbuffer *out, struct http_str s)
{
    evbuffer_add(out, s.p, s.n);
}

static void add_field(struct evbuffer *out, const struct http_header *f)
{
    add_str(out, f->name);
    evbuffer_add(out, ": ", 2);
    add_str(out, f->value);
    evbuffer_add(out, "\r\n", 2);
}

static bool is_name(struct http_str n, const char *const *names)
{
    for (size_t i = 0; names[i]; i++)
        if (http_str_ieq(n, names[i]))
            return true;
    return false;
}

long proxy_max_forwards(const struct http_request *r)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!http_str_ieq(r->headers[i].name, "max-forwards"))
            continue;
        struct http_str v = r->headers[i].value;
        if (v.n == 0 || v.n > 9)
            return -1;
        long n = 0;
        for (size_t k = 0; k < v.n; k++) {
            if (v.p[k] < '0' || v.p[k] > '9')
                return -1;
            n = n * 10 + (v.p[k] - '0');
        }
        return n;
    }
    return -1;
}

bool proxy_via_loops(const struct http_request *r)
{
    char mark[300];
    int m = snprintf(mark, sizeof mark, "%s (portico)", our_name());
    if (m <= 0 || (size_t)m >= sizeof mark)
        return false;
    for (size_t i = 0; i < r->nheaders; i++) {
        struct http_str v = r->headers[i].value;
        if (!http_str_ieq(r->headers[i].name, "via") || v.n < (size_t)m)
            continue;
        for (size_t k = 0; k + (size_t)m <= v.n; k++)
            if (http_str_ieq((struct http_str){v.p + k, (size_t)m}, mark))
                return true;
    }
    return false;
}

static void add_host(struct evbuffer *out, const struct upstream_target *t)
{
    bool v6 = strchr(t->host, ':') != NULL;
    evbuffer_add_printf(out, "Host: %s%s%s", v6 ? "[" : "", t->host, v6 ? "]" : "");
    if (t->port != (t->tls ? 443 : 80))
        evbuffer_add_printf(out, ":%u", t->port);
    evbuffer_add(out, "\r\n", 2);
}

/* Joins every field called name into one list and appends item to it. */
static void append_list(struct evbuffer *out, const struct http_request *r,
                        const char *name, const char *item)
{
    evbuffer_add_printf(out, "%s: ", name);
    for (size_t i = 0; i < r->nheaders; i++) {
        if (http_str_ieq(r->headers[i].name, name)) {
            add_str(out, r->headers[i].value);
            evbuffer_add(out, ", ", 2);
        }
    }
    evbuffer_add_printf(out, "%s\r\n", item);
}

/* RFC 7239 4-5; an IPv6 node is quoted and bracketed (RFC 7239 6). */
static void add_forwarded(struct evbuffer *out, const struct http_conn *h)
{
    const char *ip = h->c->peer_ip;
    bool v6 = strchr(ip, ':') != NULL;
    char item[INET6_ADDRSTRLEN + 300];
    char host[260] = "";
    const struct http_str *hv = http_request_get(&h->req, HH_HOST);
    if (hv && hv->n < 250) {
        bool quoted = false;
        for (size_t i = 0; i < hv->n; i++)
            quoted |= !http_is_tchar((unsigned char)hv->p[i]);
        snprintf(host, sizeof host, ";host=%s%.*s%s", quoted ? "\"" : "", (int)hv->n,
                 hv->p, quoted ? "\"" : "");
    }
    snprintf(item, sizeof item, "for=%s%s%s;proto=%s%s", v6 ? "\"[" : "", ip,
             v6 ? "]\"" : "", h->c->tls ? "https" : "http", host);
    append_list(out, &h->req, "Forwarded", item);
}

static void add_reverse_fields(struct evbuffer *out, const struct http_conn *h)
{
    append_list(out, &h->req, "X-Forwarded-For", h->c->peer_ip);
    evbuffer_add_printf(out, "X-Forwarded-Proto: %s\r\n", h->c->tls ? "https" : "http");
    const struct http_str *hv = http_request_get(&h->req, HH_HOST);
    if (hv) {
        evbuffer_add(out, "X-Forwarded-Host: ", 18);
        add_str(out, *hv);
        evbuffer_add(out, "\r\n", 2);
    }
    add_forwarded(out, h);
}

static void copy_request_fields(struct evbuffer *out, const struct http_request *r,
                                const struct proxy_out_req *o)
{
    /* Rebuilt below, or consumed here (Expect: the proxy answers 100
     * itself, conn.c), or ours to set (the X-Forwarded-* of the reverse
     * proxy, so a client cannot forge them: the lists are rebuilt). */
    static const char *const rebuilt[] = {"host", "content-length", "expect",
                                          "max-forwards", NULL};
    static const char *const reverse_only[] = {"x-forwarded-for", "x-forwarded-proto",
                                               "x-forwarded-host", "forwarded", NULL};
    static const char *const cache_own[] = {"range",
                                            "if-range",
                                            "if-none-match",
                                            "if-modified-since",
                                            "if-match",
                                            "if-unmodified-since",
                                            NULL};
    static const char *const client_validators[] = {"if-none-match", "if-modified-since",
                                                    NULL};
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct http_header *f = &r->headers[i];
        if (http_field_is_hop(f->name, r->headers, r->nheaders) ||
            is_name(f->name, rebuilt))
            continue;
        if (o->reverse && is_name(f->name, reverse_only))
            continue;
        if (o->get && is_name(f->name, cache_own))
            continue;
        if (o->nextra && is_name(f->name, client_validators))
            continue; /* the cache's own replace them (RFC 9111 4.3.2) */
        add_field(out, f);
    }
    for (size_t i = 0; i < o->nextra; i++)
        add_field(out, &o->extra[i]);
}

void proxy_request_head(struct evbuffer *out, const struct http_conn *h,
                        const struct proxy_out_req *o)
{
    const struct http_request *r = &h->req;
    if (o->get)
        evbuffer_add(out, "GET", 3);
    else
        add_str(out, r->method);
    evbuffer_add(out, " ", 1);
    add_str(out, o->path);
    evbuffer_add(out, " HTTP/1.1\r\n", 11);
    add_host(out, o->target);
    copy_request_fields(out, r, o);
    long mf = proxy_max_forwards(r);
    if (mf > 0 && (r->m == HTTP_M_OPTIONS || r->m == HTTP_M_TRACE))
        evbuffer_add_printf(out, "Max-Forwards: %ld\r\n", mf - 1);
    evbuffer_add_printf(out, "Via: 1.%d %s (portico)\r\n", r->minor, our_name());
    if (o->reverse)
        add_reverse_fields(out, h);
    bool body = !o->get; /* the cache's own GET has none */
    if (body && r->chunked)
        evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
    else if (body && r->has_length)
        evbuffer_add_printf(out, "Content-Length: %llu\r\n",
                            (unsigned long long)r->content_length);
    const struct http_str *up = NULL;
    for (size_t i = 0; o->upgrade && i < r->nheaders; i++)
        if (http_str_ieq(r->headers[i].name, "upgrade"))
            up = &r->headers[i].value;
    if (up) {
        evbuffer_add(out, "Connection: upgrade\r\nUpgrade: ", 30);
        add_str(out, *up);
        evbuffer_add(out, "\r\n\r\n", 4);
    } else if (o->persist) {
        evbuffer_add(out, "\r\n", 2); /* RFC 9112 9.3: HTTP/1.1 persists by default */
    } else {
        evbuffer_add(out, "Connection: close\r\n\r\n", 21);
    }
}

static void copy_response_fields(struct evbuffer *out, const struct http_response *r,
                                 enum proxy_out_body body)
{
    bool date = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        const struct http_header *f = &r->headers[i];
        if (http_field_is_hop(f->name, r->headers, r->nheaders))
            continue;
        /* A length that frames a body is rebuilt; one that only informs
         * (HEAD, 304) was checked by the parser and goes as it came. */
        if (http_str_ieq(f->name, "content-length") && body != OUT_NONE)
            continue;
        date |= http_str_ieq(f->name, "date");
        add_field(out, f);
    }
    if (!date) { /* RFC 9110 6.6.1: a recipient with a clock adds one */
        char d[HTTP_DATE_LEN + 1];
        http_date_format(time(NULL), d);
        evbuffer_add_printf(out, "Date: %s\r\n", d);
    }
}

static enum proxy_out_body body_kind(const struct http_conn *h,
                                     const struct http_response *r)
{
    switch (r->body) {
    case HTTP_BODY_NONE:
        return OUT_NONE;
    case HTTP_BODY_LENGTH:
        return OUT_LENGTH;
    default:
        return h->req.minor >= 1 ? OUT_CHUNKED : OUT_CLOSE;
    }
}

enum proxy_out_body proxy_response_head(struct evbuffer *out, const struct http_conn *h,
                                        const struct http_response *r, bool close)
{
    enum proxy_out_body body = body_kind(h, r);
    evbuffer_add_printf(out, "HTTP/1.1 %d ", r->status);
    add_str(out, r->reason);
    evbuffer_add(out, "\r\n", 2);
    copy_response_fields(out, r, body);
    evbuffer_add_printf(out, "Via: 1.%d %s (portico)\r\n", r->minor, our_name());
    if (r->status == 101) {
        const struct http_str *up = http_response_get(r, HR_UPGRADE);
        evbuffer_add(out, "Connection: upgrade\r\nUpgrade: ", 30);
        if (up)
            add_str(out, *up);
        evbuffer_add(out, "\r\n\r\n", 4);
        return OUT_NONE;
    }
    if (body == OUT_LENGTH)
        evbuffer_add_printf(out, "Content-Length: %llu\r\n",
                            (unsigned long long)r->content_length);
    else if (body == OUT_CHUNKED)
        evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
    if (close || body == OUT_CLOSE)
        evbuffer_add(out, "Connection: close\r\n", 19);
    else if (h->req.minor == 0)
        evbuffer_add(out, "Connection: keep-alive\r\n", 24);
    evbuffer_add(out, "\r\n", 2);
    return body;
}
