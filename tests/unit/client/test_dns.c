/* Unit tests of core/dns.c against an in-process DNS server on a loopback
 * UDP port (same event base): answers come from the loop, never inside
 * dns_query; a second ask is served from the cache; the cache stays at
 * DNS_CACHE_MAX entries and drops the least recently used; a cancelled
 * query and dns_free with queries outstanding call nobody. (test_dns.py
 * does the real server, dnsmasq, and every record type.) */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/dns.h"

static struct event_base *base;
static int udp = -1;
static struct event *udp_ev;
static int served;
static char server[32];

/* Answers every query with one A record 127.0.0.9, TTL 300. */
static void serve_cb(evutil_socket_t fd, short what, void *arg)
{
    unsigned char q[512], r[600];
    struct sockaddr_storage from;
    socklen_t flen = sizeof from;
    ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &flen);
    if (n < 17)
        return;
    served++;
    memcpy(r, q, (size_t)n);
    r[2] = 0x81;
    r[3] = 0x80;
    r[7] = 1; /* ancount */
    size_t o = (size_t)n;
    static const unsigned char rr[] = {0xc0, 12,   0, 1, 0,   1, 0, 0,
                                       1,    0x2c, 0, 4, 127, 0, 0, 9};
    memcpy(r + o, rr, sizeof rr);
    o += sizeof rr;
    sendto(fd, r, o, 0, (struct sockaddr *)&from, flen);
}

static int setup(void **state)
{
    base = event_base_new();
    udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (bind(udp, (struct sockaddr *)&a, sizeof a) < 0)
        return -1;
    socklen_t len = sizeof a;
    getsockname(udp, (struct sockaddr *)&a, &len);
    snprintf(server, sizeof server, "127.0.0.1:%u", ntohs(a.sin_port));
    udp_ev = event_new(base, udp, EV_READ | EV_PERSIST, serve_cb, NULL);
    event_add(udp_ev, NULL);
    served = 0;
    return 0;
}

static int teardown(void **state)
{
    event_free(udp_ev);
    close(udp);
    event_base_free(base);
    return 0;
}

static int answers;
static struct dns_result last;
static char last_name[256];
static struct in_addr last_a;
static bool in_query_frame;

static void done(const struct dns_result *r, void *arg)
{
    assert_false(in_query_frame);
    answers++;
    last = *r;
    snprintf(last_name, sizeof last_name, "%s", r->name);
    if (r->n)
        last_a = r->u.a[0];
}

static void tick_cb(evutil_socket_t fd, short what, void *arg) {}

/* Runs the loop until `want` answers arrived (bounded: 10 s). */
static void wait_answers(int want)
{
    struct timeval t = {0, 50000};
    struct event *guard = evtimer_new(base, tick_cb, NULL);
    for (int i = 0; i < 200 && answers < want; i++) {
        evtimer_add(guard, &t);
        event_base_loop(base, EVLOOP_ONCE);
    }
    event_free(guard);
    assert_int_equal(answers, want);
}

static void ask(struct dns *d, const char *name)
{
    in_query_frame = true;
    assert_non_null(dns_query(d, DNS_A, name, done, NULL));
    in_query_frame = false;
}

static void test_answer_then_cache(void **state)
{
    char err[128];
    struct dns *d = dns_new(base, server, err, sizeof err);
    assert_non_null(d);
    answers = 0;
    ask(d, "A.Test.");
    wait_answers(1);
    assert_int_equal(last.status, DNS_OK);
    assert_false(last.cached);
    assert_string_equal(last_name, "a.test");
    char ip[INET_ADDRSTRLEN];
    assert_string_equal(inet_ntop(AF_INET, &last_a, ip, sizeof ip), "127.0.0.9");
    assert_int_equal(last.ttl, 300);
    ask(d, "a.test");
    wait_answers(2);
    assert_true(last.cached);
    assert_int_equal(served, 1);
    ask(d, "bad name");
    wait_answers(3);
    assert_int_equal(last.status, DNS_BADNAME);
    assert_int_equal(served, 1);
    dns_free(d);
}

static void test_cache_bounded_lru(void **state)
{
    char err[128], name[64];
    struct dns *d = dns_new(base, server, err, sizeof err);
    assert_non_null(d);
    answers = 0;
    ask(d, "first.test");
    wait_answers(1);
    int asked = 1;
    for (int batch = 0; batch < 11; batch++) { /* 1100 more names */
        for (int i = 0; i < 100; i++) {
            snprintf(name, sizeof name, "n%d.test", batch * 100 + i);
            ask(d, name);
        }
        asked += 100;
        wait_answers(asked);
    }
    size_t entries;
    uint64_t hits, misses;
    dns_cache_stats(d, &entries, &hits, &misses);
    assert_int_equal(entries, DNS_CACHE_MAX);
    assert_int_equal(misses, 1101);
    /* The newest is there, the oldest was dropped. */
    ask(d, "n1099.test");
    wait_answers(++asked);
    assert_true(last.cached);
    ask(d, "first.test");
    wait_answers(++asked);
    assert_false(last.cached);
    dns_free(d);
}

static void test_cancel_and_free(void **state)
{
    char err[128];
    struct dns *d = dns_new(base, server, err, sizeof err);
    answers = 0;
    ask(d, "x.test");
    wait_answers(1);
    /* Cancelled before the answer (in c-ares) and before a cached delivery. */
    struct dns_query *q1 = dns_query(d, DNS_A, "y.test", done, NULL);
    struct dns_query *q2 = dns_query(d, DNS_A, "x.test", done, NULL);
    dns_cancel(q1);
    dns_cancel(q2);
    for (int i = 0; i < 20; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    /* Outstanding at dns_free: nobody is called, nothing leaks (ASan). */
    dns_query(d, DNS_A, "z.test", done, NULL);
    dns_query(d, DNS_A, "x.test", done, NULL);
    dns_free(d);
    for (int i = 0; i < 20; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    assert_int_equal(answers, 1);
    assert_null(dns_new(base, "not a server", err, sizeof err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_answer_then_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_bounded_lru, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_and_free, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
