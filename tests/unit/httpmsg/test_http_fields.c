/* Unit tests of httpmsg/fields.c: the hop-by-hop rule (RFC 9110 7.6.1) and
 * the list helper. The field-line syntax is tested through the request and
 * response parsers. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "httpmsg/fields.h"

static struct http_str S(const char *s) {
    return (struct http_str){s, strlen(s)};
}

static void
hop_by_hop(void **state)
{
    struct http_header h[] = {
        {S("Host"), S("a")},
        {S("Connection"), S("close, X-Secret")},
        {S("connection"), S(" , x-other ,")},
        {S("X-Secret"), S("1")},
    };
    size_t n = sizeof h / sizeof h[0];
    assert_true(http_field_is_hop(S("Connection"), h, n));
    assert_true(http_field_is_hop(S("KEEP-ALIVE"), h, n));
    assert_true(http_field_is_hop(S("Transfer-Encoding"), h, n));
    assert_true(http_field_is_hop(S("TE"), h, n));
    assert_true(http_field_is_hop(S("Upgrade"), h, n));
    assert_true(http_field_is_hop(S("Proxy-Authorization"), h, n));
    assert_true(http_field_is_hop(S("Proxy-Connection"), h, n));
    assert_true(http_field_is_hop(S("x-secret"), h, n));
    assert_true(http_field_is_hop(S("X-Other"), h, n));
    assert_false(http_field_is_hop(S("Host"), h, n));
    assert_false(http_field_is_hop(S("X-Secre"), h, n));
    assert_false(http_field_is_hop(S("Content-Length"), h, n));
    assert_false(http_field_is_hop(S("X-Secret"), h, 1));
}

static int count(struct http_str item, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void lists(void **state)
{
    int n = 0;
    http_list_each(S(" a , ,b,\tc\t,"), count, &n);
    assert_int_equal(n, 3);
    n = 0;
    http_list_each(S(" , ,"), count, &n);
    assert_int_equal(n, 0);
    assert_true(http_str_ieq(S("Chunked"), "chunked"));
    assert_false(http_str_ieq(S("chunke"), "chunked"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hop_by_hop),
        cmocka_unit_test(lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
