/* target: the request-target forms a proxy receives (RFC 9112 3.2.2
 * absolute-form, 3.2.3 authority-form) and the CONNECT port list. Strict:
 * a host is a DNS name (letters, digits, '-', '.') or an IP literal; no
 * userinfo (RFC 9110 4.2.4: deprecated, and a classic spoofing trick); a
 * port is 1..65535. */
#include "http/proxy/proxy_int.h"

#include "core/config_check.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '.' || c == '_';
}

static int parse_port(const char *p, size_t n, uint16_t *port)
{
    if (n == 0 || n > 5)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

/* host [":" port] of length n into host (lower case, brackets removed). */
static int parse_hostport(const char *p, size_t n, char *host, size_t hostlen,
                          uint16_t *port, bool need_port)
{
    size_t hn;
    const char *rest;
    if (n > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', n);
        if (!close)
            return -1;
        hn = (size_t)(close - p - 1);
        if (hn == 0 || hn >= hostlen)
            return -1;
        memcpy(host, p + 1, hn);
        host[hn] = '\0';
        struct in6_addr a6;
        if (inet_pton(AF_INET6, host, &a6) != 1)
            return -1;
        rest = close + 1;
    } else {
        const char *colon = memchr(p, ':', n);
        hn = colon ? (size_t)(colon - p) : n;
        if (hn == 0 || hn >= hostlen)
            return -1;
        for (size_t i = 0; i < hn; i++) {
            if (!name_char(p[i]))
                return -1;
            host[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
        }
        host[hn] = '\0';
        rest = p + hn;
    }
    size_t left = n - (size_t)(rest - p);
    if (left == 0)
        return need_port ? -1 : 0;
    if (rest[0] != ':')
        return -1;
    return parse_port(rest + 1, left - 1, port);
}

int proxy_parse_absolute(struct http_str target, struct upstream_target *t,
                         struct http_str *path)
{
    const char *p = target.p;
    size_t n = target.n, skip;
    memset(t, 0, sizeof *t);
    if (n >= 7 && http_str_ieq((struct http_str){p, 7}, "http://")) {
        skip = 7;
        t->port = 80;
    } else if (n >= 8 && http_str_ieq((struct http_str){p, 8}, "https://")) {
        skip = 8;
        t->port = 443;
        t->tls = true;
    } else {
        return -1;
    }
    size_t a = skip, e = skip;
    while (e < n && p[e] != '/' && p[e] != '?' && p[e] != '#')
        e++;
    if (memchr(p + a, '@', e - a) || memchr(p, '#', n))
        return -1;
    if (parse_hostport(p + a, e - a, t->host, sizeof t->host, &t->port, false) < 0)
        return -1;
    if (e == n) { /* RFC 9112 3.2.1: an empty path is sent as "/" */
        static const char slash[] = "/";
        *path = (struct http_str){slash, 1};
        return 0;
    }
    if (p[e] != '/') /* "http://h?q": rare; refused rather than rebuilt */
        return -1;
    *path = (struct http_str){p + e, n - e};
    return 0;
}

int proxy_parse_authority(struct http_str target, char *host, size_t hostlen,
                          uint16_t *port)
{
    return parse_hostport(target.p, target.n, host, hostlen, port, true);
}

static int port_in(unsigned lo, unsigned hi, void *arg)
{
    unsigned port = *(const uint16_t *)arg;
    return port >= lo && port <= hi;
}

bool proxy_port_allowed(uint16_t port, const char *list)
{
    return config_port_ranges(list, port_in, &port) == 1;
}

static int names_upgrade(struct http_str item, void *arg)
{
    return http_str_ieq(item, "upgrade");
}

bool proxy_wants_upgrade(const struct http_request *r)
{
    bool up = false, conn = false;
    for (size_t i = 0; i < r->nheaders; i++) {
        if (http_str_ieq(r->headers[i].name, "upgrade"))
            up = true;
        if (http_str_ieq(r->headers[i].name, "connection") &&
            http_list_each(r->headers[i].value, names_upgrade, NULL))
            conn = true;
    }
    return up && conn;
}
