/* test_relay_dsn: the RFC 3464 report: structure, per-recipient fields,
 * status codes from the reply, RET=HDRS vs FULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "relay/downgrade.h"
#include "relay/dsn.h"

static const char orig[] = "From: a@x.example\nSubject: hi\n\nsecret body\n";

static char *compose(enum queue_ret ret, enum dsn_action a, size_t *len)
{
    static struct queue_rcpt r[1];
    struct queue_env env = {0};
    memset(r, 0, sizeof r);
    strcpy(env.id, "1.2.3.4");
    strcpy(env.from, "a@x.example");
    strcpy(env.envid, "ENV1");
    env.created = 1700000000;
    env.ret = ret;
    strcpy(r[0].addr, "b@y.example");
    strcpy(r[0].orcpt, "rfc822;b@y.example");
    strcpy(r[0].reply, "550 5.1.1 <b@y.example>: no such user");
    strcpy(r[0].mx, "mx.y.example");
    env.rcpts = r;
    env.nrcpt = 1;
    size_t which[1] = {0};
    return dsn_compose(&env, which, 1, a, orig, sizeof orig - 1, "mx.x.example", len);
}

static void test_failed_headers_only(void **st)
{
    size_t len;
    char *m = compose(QRET_DEFAULT, DSN_FAILED, &len);
    assert_non_null(m);
    assert_int_equal(strlen(m), len);
    assert_non_null(strstr(m, "To: a@x.example\n"));
    assert_non_null(strstr(m, "Content-Type: multipart/report;"));
    assert_non_null(strstr(m, "Content-Type: message/delivery-status\n\n"));
    assert_null(strstr(m, "quoted-printable")); /* ASCII text stays as it is */
    assert_non_null(strstr(m, "report-type=delivery-status"));
    assert_non_null(strstr(m, "host mx.y.example said:\n    550 5.1.1 <b@y.example>"));
    assert_non_null(strstr(m, "Reporting-MTA: dns; mx.x.example\n"));
    assert_non_null(strstr(m, "Original-Envelope-Id: ENV1\n"));
    assert_non_null(strstr(m, "Original-Recipient: rfc822;b@y.example\n"));
    assert_non_null(strstr(m, "Final-Recipient: rfc822; b@y.example\nAction: failed\n"
                              "Status: 5.1.1\n"));
    assert_non_null(strstr(m, "Diagnostic-Code: smtp; 550 5.1.1"));
    assert_non_null(
        strstr(m, "Content-Type: text/rfc822-headers\n\nFrom: a@x.example\n"));
    assert_null(strstr(m, "secret body")); /* headers only */
    free(m);
}

static void test_full_and_delayed(void **st)
{
    size_t len;
    char *m = compose(QRET_FULL, DSN_DELAYED, &len);
    assert_non_null(strstr(m, "Content-Type: message/rfc822\n\nFrom: a@x.example"));
    assert_non_null(strstr(m, "Subject: Delayed Mail"));
    assert_non_null(strstr(m, "secret body"));
    assert_non_null(strstr(m, "Action: delayed\n"));
    free(m);
}

static void test_status_of(void **st)
{
    char b[16];
    dsn_status_of("550 5.7.1 denied", DSN_FAILED, b, sizeof b);
    assert_string_equal(b, "5.7.1");
    dsn_status_of("550 denied", DSN_FAILED, b, sizeof b);
    assert_string_equal(b, "5.0.0");
    dsn_status_of("451 later", DSN_FAILED, b, sizeof b);
    assert_string_equal(b, "4.0.0");
    dsn_status_of("expired after 3 s", DSN_FAILED, b, sizeof b);
    assert_string_equal(b, "5.0.0");
    dsn_status_of("250 2.0.0 ok", DSN_DELIVERED, b, sizeof b);
    assert_string_equal(b, "2.0.0");
}

/* The signatures relay/load.c prepends are what the downgrade cuts off. */
static void test_leading_dkim(void **st)
{
    const char *m = "DKIM-Signature: v=1; a=rsa-sha256;\n\tb=abc\n"
                    "dkim-signature: v=1; a=ed25519-sha256; b=x\n"
                    "Received: from x\nDKIM-Signature: theirs\n\nbody\n";
    size_t n = relay_leading_dkim_len(m, strlen(m));
    assert_int_equal(n, strstr(m, "Received:") - m);
    const char *plain = "Received: from x\n\nbody\n";
    assert_int_equal(relay_leading_dkim_len(plain, strlen(plain)), 0);
    const char *cut = "DKIM-Signature: v=1;";
    assert_int_equal(relay_leading_dkim_len(cut, strlen(cut)), strlen(cut));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_headers_only),
        cmocka_unit_test(test_full_and_delayed),
        cmocka_unit_test(test_status_of),
        cmocka_unit_test(test_leading_dkim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
