/* test_smtp_parse: MAIL/RCPT paths (quoted local parts, source routes,
 * UTF-8, limits), ESMTP parameters and BDAT arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "smtp/parse.h"

static enum smtp_parse_error parse(const char *line, const char *kw, bool utf8,
                                   struct smtp_args *a)
{
    static char buf[2048];
    snprintf(buf, sizeof buf, "%s", line);
    return smtp_parse_mail_rcpt(buf, kw, utf8, a);
}

static void test_simple(void **state)
{
    struct smtp_args a;
    assert_int_equal(parse("FROM:<Alice@Example.ORG>", "FROM", false, &a), SMTP_PARSE_OK);
    assert_string_equal(a.addr.local, "Alice");
    assert_string_equal(a.addr.domain, "example.org");
    assert_string_equal(a.addr.address, "Alice@example.org");
    assert_int_equal(parse("from: <a@b.c> SIZE=100 BODY=8BITMIME", "FROM", false, &a), 0);
    assert_int_equal(a.nparams, 2);
    assert_string_equal(smtp_param_find(&a, "SIZE")->value, "100");
    assert_int_equal(parse("FROM:<>", "FROM", false, &a), 0);
    assert_true(a.addr.null);
    assert_int_equal(parse("TO:<Postmaster>", "TO", false, &a), 0);
    assert_true(a.addr.postmaster);
    assert_int_equal(parse("TO:<@relay.test,@b.test:x@y.test>", "TO", false, &a), 0);
    assert_string_equal(a.addr.address, "x@y.test");
}

static void test_quoted(void **state)
{
    struct smtp_args a;
    assert_int_equal(parse("TO:<\"john > doe\"@example.org>", "TO", false, &a), 0);
    assert_string_equal(a.addr.local, "john > doe");
    assert_string_equal(a.addr.address, "\"john > doe\"@example.org");
    assert_int_equal(parse("TO:<\"a\\\"b\"@x.org>", "TO", false, &a), 0);
    assert_string_equal(a.addr.local, "a\"b");
    assert_int_equal(parse("TO:<\"open@x.org>", "TO", false, &a), SMTP_PARSE_SYNTAX);
}

static void test_utf8(void **state)
{
    struct smtp_args a;
    assert_int_equal(parse("TO:<j\xc3\xb6rg@b\xc3\xbc\x63her.de>", "TO", false, &a),
                     SMTP_PARSE_UTF8);
    assert_int_equal(parse("TO:<j\xc3\xb6rg@b\xc3\xbc\x63her.de>", "TO", true, &a), 0);
    assert_int_equal(parse("FROM:<j\xc3\xb6rg@x.de> SMTPUTF8", "FROM", false, &a), 0);
    assert_int_equal(parse("TO:<j\xc3rg@x.de>", "TO", true, &a), SMTP_PARSE_SYNTAX);
    assert_int_equal(parse("TO:<\xed\xa0\x80@x.de>", "TO", true, &a), SMTP_PARSE_SYNTAX);
}

static void test_bad(void **state)
{
    struct smtp_args a;
    const char *bad[] = {"FROM:a@b.c", "FROM:<a@b.c", "FROM:<a..b@c.d>", "FROM:<.a@b.c>",
                         "FROM:<a@-b.c>", "FROM:<a@b..c>", "FROM:<a@>", "FROM:<@b.c>",
                         "FROM:<a@b.c> =x", "FROM:<a@b.c> K=", "FROM:<a@b.c>x", "TO:<a@b.c>", "FROM:", "FROM: ",
                         "FROM:<"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_not_equal(parse(bad[i], "FROM", false, &a), SMTP_PARSE_OK);
    char line[400];
    snprintf(line, sizeof line, "FROM:<%065d@b.c>", 0);
    assert_int_equal(parse(line, "FROM", false, &a), SMTP_PARSE_TOO_LONG);
    assert_int_equal(parse("FROM:<a@b.c> A B C D E F G H I", "FROM", false, &a),
                     SMTP_PARSE_TOO_LONG);
}

static void test_bdat(void **state)
{
    unsigned long long n;
    bool last;
    assert_int_equal(smtp_parse_bdat("100", &n, &last), 0);
    assert_true(n == 100 && !last);
    assert_int_equal(smtp_parse_bdat("0 last", &n, &last), 0);
    assert_true(n == 0 && last);
    assert_int_equal(smtp_parse_bdat("", &n, &last), -1);
    assert_int_equal(smtp_parse_bdat("-1", &n, &last), -1);
    assert_int_equal(smtp_parse_bdat("1 LASTX", &n, &last), -1);
    assert_int_equal(smtp_parse_bdat("99999999999999999999999", &n, &last), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple), cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_utf8),   cmocka_unit_test(test_bad),
        cmocka_unit_test(test_bdat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
