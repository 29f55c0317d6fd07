/* test_relay_mtasts: the MTA-STS TXT record, policy file and MX patterns
 * (RFC 8461 3.1, 3.2, 4.1). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "relay/mtasts_policy.h"

static int txt(const char *s, char *id)
{
    return mtasts_txt_id(s, strlen(s), id);
}

static void test_txt(void **st)
{
    char id[MTASTS_ID_MAX];
    assert_int_equal(txt("v=STSv1; id=20160831085700Z;", id), 0);
    assert_string_equal(id, "20160831085700Z");
    assert_int_equal(txt("v=STSv1;id=abc", id), 0);
    assert_string_equal(id, "abc");
    assert_int_equal(txt("v=STSv1; ext=1; id=x1 ;", id), 0);
    assert_string_equal(id, "x1");
    assert_int_equal(txt("v=STSv1;", id), -1);            /* no id */
    assert_int_equal(txt("v=spf1 -all", id), -1);         /* another record */
    assert_int_equal(txt("id=1; v=STSv1", id), -1);       /* v must be first */
    assert_int_equal(txt("v=STSv1; id=a-b", id), -1);     /* not alphanumeric */
    assert_int_equal(txt("v=STSv1; id=1; id=2", id), -1); /* twice */
    assert_int_equal(txt("v=STSv1; id=123456789012345678901234567890123", id), -1);
}

static int parse(const char *s, struct mtasts_policy *p)
{
    const char *why;
    return mtasts_policy_parse(s, strlen(s), p, &why);
}

static void test_policy(void **st)
{
    struct mtasts_policy p;
    assert_int_equal(parse("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\n"
                           "mx: *.example.net\r\nmax_age: 604800\r\n",
                           &p),
                     0);
    assert_int_equal(p.mode, MTASTS_ENFORCE);
    assert_int_equal(p.max_age, 604800);
    assert_int_equal(p.nmx, 2);
    assert_string_equal(p.mx[1], "*.example.net");
    assert_int_equal(parse("version: STSv1\nmode: testing\nmx: a.b\nmax_age: 86400\n"
                           "future: ignored\n",
                           &p),
                     0);
    assert_int_equal(p.mode, MTASTS_TESTING);
    assert_int_equal(parse("version: STSv1\nmode: none\nmax_age: 1\n", &p), 0);
    assert_int_equal(parse("version: STSv2\nmode: enforce\nmx: a\nmax_age: 1\n", &p), -1);
    assert_int_equal(parse("version: STSv1\nmode: sometimes\nmx: a\nmax_age: 1\n", &p),
                     -1);
    assert_int_equal(parse("version: STSv1\nmode: enforce\nmax_age: 1\n", &p), -1);
    assert_int_equal(parse("version: STSv1\nmode: enforce\nmx: a\n", &p), -1);
    assert_int_equal(
        parse("version: STSv1\nmode: enforce\nmx: a\nmax_age: 99999999999\n", &p), -1);
    assert_int_equal(parse("<html>not a policy</html>\n", &p), -1);
}

static void test_mx_match(void **st)
{
    struct mtasts_policy p;
    assert_int_equal(
        parse("version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
              "max_age: 1\n",
              &p),
        0);
    assert_true(mtasts_mx_matches(&p, "mail.example.com"));
    assert_true(mtasts_mx_matches(&p, "MAIL.Example.COM."));
    assert_true(mtasts_mx_matches(&p, "mx1.example.net"));
    assert_false(mtasts_mx_matches(&p, "example.net"));           /* one label needed */
    assert_false(mtasts_mx_matches(&p, "a.mx1.example.net"));     /* only one label */
    assert_false(mtasts_mx_matches(&p, "mail.example.com.evil")); /* no suffix match */
    assert_false(mtasts_mx_matches(&p, "other.example.com"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txt),
        cmocka_unit_test(test_policy),
        cmocka_unit_test(test_mx_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
