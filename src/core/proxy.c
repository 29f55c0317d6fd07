/* proxy: the PROXY header parser (v1 text line, v2 binary) and the short
 * pre-session read of it. Only bytes known to belong to the header are
 * consumed from the socket (peek first), so the session's first bytes
 * (a TLS ClientHello, an SMTP command) stay for it. */
#include "core/proxy.h"

#include "core/conn.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/netlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const unsigned char v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                         0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

/* A decimal port 0-65535 without sign or leading junk. */
static bool parse_port(const char *s, in_port_t *out)
{
    char *end;
    if (!*s || *s < '0' || *s > '9' || strlen(s) > 5)
        return false;
    long v = strtol(s, &end, 10);
    if (*end || v > 65535)
        return false;
    *out = htons((uint16_t)v);
    return true;
}

/* proxy-protocol.txt 2.1: "PROXY TCP4|TCP6|UNKNOWN src dst sport dport". */
static enum proxy_parse parse_v1_line(char *line, struct sockaddr_storage *out)
{
    char *save = NULL, *f[7];
    int n = 0;
    for (char *t = strtok_r(line, " ", &save); t && n < 7; t = strtok_r(NULL, " ", &save))
        f[n++] = t;
    memset(out, 0, sizeof *out);
    if (n >= 2 && strcmp(f[1], "UNKNOWN") == 0)
        return PROXY_DONE; /* the real peer stays */
    if (n != 6)
        return PROXY_ERROR;
    if (strcmp(f[1], "TCP4") == 0) {
        struct sockaddr_in *v4 = (struct sockaddr_in *)out;
        struct in_addr dst;
        v4->sin_family = AF_INET;
        if (inet_pton(AF_INET, f[2], &v4->sin_addr) != 1 ||
            inet_pton(AF_INET, f[3], &dst) != 1 || !parse_port(f[4], &v4->sin_port))
            return PROXY_ERROR;
    } else if (strcmp(f[1], "TCP6") == 0) {
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
        struct in6_addr dst;
        v6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, f[2], &v6->sin6_addr) != 1 ||
            inet_pton(AF_INET6, f[3], &dst) != 1 || !parse_port(f[4], &v6->sin6_port))
            return PROXY_ERROR;
    } else {
        return PROXY_ERROR;
    }
    in_port_t dport;
    return parse_port(f[5], &dport) ? PROXY_DONE : PROXY_ERROR;
}

static enum proxy_parse parse_v1(const unsigned char *buf, size_t len,
                                 struct sockaddr_storage *out, size_t *used, size_t *want)
{
    const unsigned char *cr = memchr(buf, '\r', len);
    if (!cr) {
        *want = len;
        return len < PROXY_V1_MAX ? PROXY_MORE : PROXY_ERROR;
    }
    size_t n = (size_t)(cr - buf);
    if (n + 2 > PROXY_V1_MAX)
        return PROXY_ERROR;
    if (n + 1 == len) {
        *want = len; /* the LF is still to come; the CR is header too */
        return PROXY_MORE;
    }
    if (buf[n + 1] != '\n' || memchr(buf, '\0', n) || memchr(buf, '\n', n))
        return PROXY_ERROR;
    char line[PROXY_V1_MAX];
    memcpy(line, buf, n);
    line[n] = '\0';
    *used = n + 2;
    return parse_v1_line(line, out);
}

/* proxy-protocol.txt 2.2: 12-byte signature, version/command, family,
 * length, then the addresses (and TLVs, ignored). */
static enum proxy_parse parse_v2(const unsigned char *buf, size_t len,
                                 struct sockaddr_storage *out, size_t *used, size_t *want)
{
    if (len < 16) {
        *want = len;
        return PROXY_MORE;
    }
    size_t body = ((size_t)buf[14] << 8) | buf[15];
    if ((buf[12] & 0xf0) != 0x20 || (buf[12] & 0x0f) > 1 || 16 + body > PROXY_V2_MAX)
        return PROXY_ERROR;
    if (len < 16 + body) {
        *want = len;
        return PROXY_MORE;
    }
    *used = 16 + body;
    memset(out, 0, sizeof *out);
    if ((buf[12] & 0x0f) == 0) /* LOCAL: the proxy's own connection */
        return PROXY_DONE;
    const unsigned char *a = buf + 16;
    if (buf[13] == 0x11 && body >= 12) { /* TCP over IPv4 */
        struct sockaddr_in *v4 = (struct sockaddr_in *)out;
        v4->sin_family = AF_INET;
        memcpy(&v4->sin_addr, a, 4);
        memcpy(&v4->sin_port, a + 8, 2);
        return PROXY_DONE;
    }
    if (buf[13] == 0x21 && body >= 36) { /* TCP over IPv6 */
        struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
        v6->sin6_family = AF_INET6;
        memcpy(&v6->sin6_addr, a, 16);
        memcpy(&v6->sin6_port, a + 32, 2);
        return PROXY_DONE;
    }
    if ((buf[13] & 0xf0) == 0x00) /* AF_UNSPEC: keep the real peer */
        return PROXY_DONE;
    return PROXY_ERROR; /* UDP, UNIX, or addresses shorter than the family's */
}

enum proxy_parse proxy_parse(const unsigned char *buf, size_t len,
                             struct sockaddr_storage *out, size_t *used, size_t *want)
{
    *used = *want = 0;
    size_t sig = len < sizeof v2_sig ? len : sizeof v2_sig;
    if (memcmp(buf, v2_sig, sig) == 0) {
        if (len < sizeof v2_sig) {
            *want = len;
            return PROXY_MORE;
        }
        return parse_v2(buf, len, out, used, want);
    }
    size_t pre = len < 6 ? len : 6;
    if (memcmp(buf, "PROXY ", pre) != 0)
        return PROXY_ERROR;
    if (len < 6) {
        *want = len;
        return PROXY_MORE;
    }
    return parse_v1(buf, len, out, used, want);
}

/* ---- reading the header before the session starts ---- */

struct proxy_wait {
    struct loop *loop;
    int fd;
    enum service svc;
    bool tls;
    struct sockaddr_storage peer; /* the proxy */
    struct event *ev;
    unsigned char buf[PROXY_V2_MAX];
    size_t len; /* consumed so far (all header) */
    struct proxy_wait *next;
};

static void wait_free(struct proxy_wait *w, bool close_fd)
{
    struct proxy_wait **p = (struct proxy_wait **)&w->loop->proxy_waits;
    while (*p && *p != w)
        p = &(*p)->next;
    if (*p)
        *p = w->next;
    if (w->ev)
        event_free(w->ev);
    if (close_fd)
        close(w->fd);
    free(w);
}

static void start_session(struct proxy_wait *w, const struct sockaddr_storage *client)
{
    struct sockaddr_storage addr = w->peer;
    if (client->ss_family != AF_UNSPEC)
        addr = *client;
    const struct sockaddr *sa = (const struct sockaddr *)&addr;
    struct loop *loop = w->loop;
    int fd = w->fd;
    enum service svc = w->svc;
    bool tls = w->tls;
    wait_free(w, false);
    struct conn *c = conn_new(loop, fd, sa, svc, tls);
    if (c)
        loop->rt->services[svc]->start(c);
}

/* Reads what is certainly header; 1 done, 0 more, -1 failed. */
static int read_header(struct proxy_wait *w, struct sockaddr_storage *client)
{
    unsigned char peek[PROXY_V2_MAX];
    memcpy(peek, w->buf, w->len);
    ssize_t n = recv(w->fd, peek + w->len, sizeof peek - w->len, MSG_PEEK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    if (n <= 0)
        return -1;
    size_t total = w->len + (size_t)n, used, want;
    enum proxy_parse r = proxy_parse(peek, total, client, &used, &want);
    if (r == PROXY_ERROR)
        return -1;
    size_t take = r == PROXY_DONE ? used - w->len : want - w->len;
    if (take > 0 && recv(w->fd, w->buf + w->len, take, 0) != (ssize_t)take)
        return -1;
    w->len += take;
    if (r == PROXY_MORE && take == 0)
        return -1; /* nothing certain to consume: a header split oddly; refuse */
    return r == PROXY_DONE ? 1 : 0;
}

static void readable_cb(evutil_socket_t fd, short what, void *arg)
{
    struct proxy_wait *w = arg;
    struct sockaddr_storage client;
    if (what & EV_TIMEOUT) {
        log_info(0, "core proxy header_timeout");
        wait_free(w, true);
        return;
    }
    int r = read_header(w, &client);
    if (r < 0) {
        log_warn(0, "core proxy malformed_header bytes=%zu", w->len);
        wait_free(w, true);
    } else if (r > 0) {
        start_session(w, &client);
    }
}

static void describe(const struct sockaddr *sa, char *buf, size_t len)
{
    buf[0] = '\0';
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
                  (socklen_t)len);
}

void proxy_accept(struct loop *loop, int fd, const struct sockaddr *peer,
                  enum service svc, bool tls)
{
    char ip[INET6_ADDRSTRLEN];
    describe(peer, ip, sizeof ip);
    if (!netlist_contains(&loop->rt->cfg->trusted_proxies, ip)) {
        log_warn(0, "core proxy refused peer=%s why=not_a_trusted_proxy", ip);
        close(fd);
        return;
    }
    struct proxy_wait *w = calloc(1, sizeof *w);
    if (w) {
        w->loop = loop;
        w->fd = fd;
        w->svc = svc;
        w->tls = tls;
        memcpy(&w->peer, peer,
               peer->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                           : sizeof(struct sockaddr_in));
        w->ev = event_new(loop->base, fd, EV_READ | EV_PERSIST, readable_cb, w);
    }
    struct timeval tv = {PROXY_HEADER_TIMEOUT_SEC, 0};
    if (!w || !w->ev || event_add(w->ev, &tv) < 0) {
        if (w && w->ev)
            event_free(w->ev);
        free(w);
        close(fd);
        return;
    }
    w->next = loop->proxy_waits;
    loop->proxy_waits = w;
}

void proxy_free_pending(struct loop *loop)
{
    while (loop->proxy_waits)
        wait_free(loop->proxy_waits, true);
}
