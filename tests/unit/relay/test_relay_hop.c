/* test_relay_hop: route / smarthost / MX choice, HOST:PORT parsing, the
 * retry schedule, and SRS rewriting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "queue/srs.h"
#include "relay/hop.h"

static void test_retry(void **st)
{
    assert_int_equal(relay_retry_delay(1, 300, 3600), 300);
    assert_int_equal(relay_retry_delay(2, 300, 3600), 600);
    assert_int_equal(relay_retry_delay(4, 300, 3600), 2400);
    assert_int_equal(relay_retry_delay(5, 300, 3600), 3600);
    assert_int_equal(relay_retry_delay(500, 300, 3600), 3600);
}

static void test_hostport(void **st)
{
    char h[64];
    uint16_t p;
    assert_int_equal(relay_split_hostport("mx.example:2525", h, sizeof h, 25, &p), 0);
    assert_string_equal(h, "mx.example");
    assert_int_equal(p, 2525);
    assert_int_equal(relay_split_hostport("[::1]:26", h, sizeof h, 25, &p), 0);
    assert_string_equal(h, "::1");
    assert_int_equal(p, 26);
    assert_int_equal(relay_split_hostport("host", h, sizeof h, 587, &p), 0);
    assert_int_equal(p, 587);
    assert_int_equal(relay_split_hostport("host:0", h, sizeof h, 25, &p), -1);
    assert_int_equal(relay_split_hostport("host:99999", h, sizeof h, 25, &p), -1);
    assert_int_equal(relay_split_hostport("[::1", h, sizeof h, 25, &p), -1);
    assert_int_equal(relay_split_hostport(":25", h, sizeof h, 25, &p), -1);
}

static void test_hop_choice(void **st)
{
    static struct config c;
    struct relay_hop hop;
    memset(&c, 0, sizeof c);
    c.relay_port = 25;
    snprintf(c.relay_routes, sizeof c.relay_routes,
             "a.example 192.0.2.1:2525 required, b.example [2001:db8::1]:25");
    assert_int_equal(relay_hop_for(&c, "a.example", &hop), 0);
    assert_int_equal(hop.kind, HOP_ROUTE);
    assert_string_equal(hop.host, "192.0.2.1");
    assert_int_equal(hop.port, 2525);
    assert_int_equal(hop.policy, TLS_REQUIRED);
    assert_int_equal(relay_hop_for(&c, "B.example", &hop), 0);
    assert_int_equal(hop.policy, TLS_OPPORTUNISTIC);
    assert_string_equal(hop.key, "[2001:db8::1]:25");
    assert_int_equal(relay_hop_for(&c, "c.example", &hop), 0);
    assert_int_equal(hop.kind, HOP_MX);
    assert_string_equal(hop.key, "c.example");
    snprintf(c.relay_smarthost, sizeof c.relay_smarthost, "smart.example:587");
    snprintf(c.relay_smarthost_user, sizeof c.relay_smarthost_user, "u");
    assert_int_equal(relay_hop_for(&c, "c.example", &hop), 0);
    assert_int_equal(hop.kind, HOP_SMARTHOST);
    assert_int_equal(hop.policy, TLS_REQUIRED);
    assert_true(hop.auth);
    assert_null(relay_routes_check(c.relay_routes));
    assert_non_null(relay_routes_check("a.example"));
    assert_non_null(relay_routes_check("a.example h:25 sometimes"));
}

static void test_srs(void **st)
{
    char out[256], again[256];
    assert_int_equal(srs_forward("k", "Alice@Remote.example", "local.example", 86400 * 5,
                                 out, sizeof out),
                     0);
    assert_memory_equal(out, "SRS0=", 5);
    assert_non_null(strstr(out, "=AF=Remote.example=Alice@local.example"));
    assert_int_equal(srs_forward("k", "alice@remote.example", "local.example", 86400 * 5,
                                 again, sizeof again),
                     0);
    assert_memory_equal(out + 5, again + 5, 4); /* the hash ignores case */
    assert_int_equal(srs_forward("other", "alice@remote.example", "local.example",
                                 86400 * 5, again, sizeof again),
                     0);
    assert_memory_not_equal(out + 5, again + 5, 4);
    assert_int_equal(srs_forward("k", "no-at", "l.example", 0, out, sizeof out), -1);
    assert_int_equal(srs_forward("k", "a@b.example", "l.example", 0, out, 10), -1);
}

static void test_srs_reverse(void **st)
{
    char srs[256], orig[256];
    int64_t day = 86400, now = day * 2000;
    assert_int_equal(
        srs_forward("k", "Alice=x@Remote.example", "local.example", now, srs, sizeof srs),
        0);
    assert_int_equal(
        srs_reverse("k", srs, "local.example", now + 21 * day, 21, orig, sizeof orig),
        SRS_OK);
    assert_string_equal(orig, "Alice=x@Remote.example");
    assert_int_equal(srs_reverse("k", srs, "LOCAL.example", now, 21, orig, sizeof orig),
                     SRS_OK);
    assert_int_equal(
        srs_reverse("k", srs, "local.example", now + 22 * day, 21, orig, sizeof orig),
        SRS_EXPIRED);
    assert_int_equal(
        srs_reverse("other", srs, "local.example", now, 21, orig, sizeof orig),
        SRS_BAD_HASH);
    assert_int_equal(
        srs_reverse("k", srs, "elsewhere.example", now, 21, orig, sizeof orig),
        SRS_NOT_SRS);
    srs[5] = srs[5] == 'a' ? 'b' : 'a'; /* a forged hash */
    assert_int_equal(srs_reverse("k", srs, "local.example", now, 21, orig, sizeof orig),
                     SRS_BAD_HASH);
    assert_int_equal(srs_reverse("k", "bob@local.example", "local.example", now, 21, orig,
                                 sizeof orig),
                     SRS_NOT_SRS);
    assert_int_equal(srs_reverse("k", "SRS0=abcd=AA@local.example", "local.example", now,
                                 21, orig, sizeof orig),
                     SRS_MALFORMED);
    assert_int_equal(srs_reverse("k", "SRS0=abcd=A1=r.example=u@local.example",
                                 "local.example", now, 21, orig, sizeof orig),
                     SRS_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry),       cmocka_unit_test(test_hostport),
        cmocka_unit_test(test_hop_choice),  cmocka_unit_test(test_srs),
        cmocka_unit_test(test_srs_reverse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
