/* dns-query: a hidden debugging subcommand that drives core/dns.c, for the
 * integration tests and for looking at what the relay would see:
 *   portico dns-query [--server ADDR:PORT] [--timeout-ms N]
 * reads "TYPE NAME" lines (or "cancel TYPE NAME") from stdin and prints
 * one line per answer, in the order they come:
 *   MX b.test status=ok ttl=300 cached=no n=2 10 mx1.b.test|20 mx2.b.test
 * The resolver (and its cache) lives as long as the process, so a test can
 * stop the DNS server and ask again. No server given: [relay] resolver. */
#include "cli/cli.h"

#include "core/dns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dq {
    struct event_base *base;
    struct dns *dns;
    struct evbuffer *in;
    struct event *ev;
    int outstanding;
    bool eof;
};

static void print_record(const struct dns_result *r, size_t i)
{
    char buf[INET6_ADDRSTRLEN];
    switch (r->type) {
    case DNS_A:
        printf("%s", inet_ntop(AF_INET, &r->u.a[i], buf, sizeof buf));
        break;
    case DNS_AAAA:
        printf("%s", inet_ntop(AF_INET6, &r->u.aaaa[i], buf, sizeof buf));
        break;
    case DNS_MX:
        printf("%u %s", r->u.mx[i].preference, r->u.mx[i].host);
        break;
    case DNS_TXT:
        printf("%s", r->u.txt[i]);
        break;
    case DNS_TLSA:
        printf("%u %u %u ", r->u.tlsa[i].usage, r->u.tlsa[i].selector,
               r->u.tlsa[i].mtype);
        for (size_t k = 0; k < r->u.tlsa[i].len; k++)
            printf("%02x", r->u.tlsa[i].data[k]);
        break;
    }
}

static void maybe_exit(struct dq *q)
{
    if (q->eof && q->outstanding == 0)
        event_base_loopexit(q->base, NULL);
}

static void answered(const struct dns_result *r, void *arg)
{
    struct dq *q = arg;
    printf("%s %s status=%s ttl=%u cached=%s n=%zu", dns_type_name(r->type), r->name,
           dns_status_name(r->status), r->ttl, r->cached ? "yes" : "no", r->n);
    for (size_t i = 0; i < r->n; i++) {
        fputs(i ? "|" : " ", stdout);
        print_record(r, i);
    }
    putchar('\n');
    fflush(stdout);
    q->outstanding--;
    maybe_exit(q);
}

static void ask(struct dq *q, char *line)
{
    bool cancel = strncmp(line, "cancel ", 7) == 0;
    if (cancel)
        line += 7;
    char *sp = strchr(line, ' ');
    enum dns_type t;
    if (!sp || (*sp = '\0', dns_type_parse(line, &t) < 0)) {
        printf("error bad line\n");
        fflush(stdout);
        return;
    }
    struct dns_query *dq = dns_query(q->dns, t, sp + 1, answered, q);
    if (!dq)
        return;
    if (cancel) {
        dns_cancel(dq);
        printf("cancelled %s %s\n", line, sp + 1);
        fflush(stdout);
        return;
    }
    q->outstanding++;
}

static void stdin_cb(evutil_socket_t fd, short what, void *arg)
{
    struct dq *q = arg;
    int n = evbuffer_read(q->in, fd, 4096);
    if (n <= 0 && !(n < 0 && errno == EINTR)) {
        q->eof = true;
        event_del(q->ev);
    }
    char *line;
    while ((line = evbuffer_readln(q->in, NULL, EVBUFFER_EOL_ANY))) {
        if (*line)
            ask(q, line);
        free(line);
    }
    maybe_exit(q);
}

static int parse_args(int argc, char **argv, const char **server, int *timeout_ms)
{
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
            *server = argv[++i];
        } else if (strcmp(argv[i], "--timeout-ms") == 0 && i + 1 < argc) {
            char *end;
            long v = strtol(argv[++i], &end, 10);
            if (*end || v < 1 || v > 60000)
                return -1;
            *timeout_ms = (int)v;
        } else {
            return -1;
        }
    }
    return 0;
}

int cli_dns_query(const struct config *cfg, int argc, char **argv)
{
    const char *server = cfg->relay_resolver;
    int timeout_ms = DNS_TIMEOUT_MS;
    if (parse_args(argc, argv, &server, &timeout_ms) < 0) {
        fprintf(stderr,
                "usage: portico dns-query [--server ADDR:PORT] [--timeout-ms N]\n");
        return 2;
    }
    struct dq q = {.base = event_base_new(), .in = evbuffer_new()};
    char err[256];
    q.dns = dns_new_timeout(q.base, server, timeout_ms, 1, err, sizeof err);
    if (!q.dns) {
        fprintf(stderr, "portico: %s\n", err);
        return 1;
    }
    q.ev = event_new(q.base, STDIN_FILENO, EV_READ | EV_PERSIST, stdin_cb, &q);
    event_add(q.ev, NULL);
    event_base_dispatch(q.base);
    event_free(q.ev);
    dns_free(q.dns);
    evbuffer_free(q.in);
    event_base_free(q.base);
    return 0;
}
