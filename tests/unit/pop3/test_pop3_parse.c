/* Unit tests of pop3/parse.c: message numbers and TOP arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "pop3/pop3.h"

static void message_numbers(void **state)
{
    uint32_t n;
    assert_int_equal(pop3_parse_msgno("1", &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(pop3_parse_msgno("4294967295", &n), 0);
    assert_int_equal(n, 4294967295u);
    const char *bad[] = {"", "0", "-1", "+1", " 1", "1 ", "1x", "4294967296",
                         "99999999999999999999999", "0x10"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pop3_parse_msgno(bad[i], &n), -1);
}

static void top_arguments(void **state)
{
    uint32_t n;
    uint64_t lines;
    assert_int_equal(pop3_parse_top("3 0", &n, &lines), 0);
    assert_int_equal(n, 3);
    assert_int_equal(lines, 0);
    assert_int_equal(pop3_parse_top("1 25", &n, &lines), 0);
    assert_int_equal(lines, 25);
    const char *bad[] = {"", "1", "1 ", " 1 2", "1  2", "0 1", "1 -2", "1 2 3", "x 1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(pop3_parse_top(bad[i], &n, &lines), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_numbers),
        cmocka_unit_test(top_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
