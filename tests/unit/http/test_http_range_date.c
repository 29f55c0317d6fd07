/* Unit tests of http/range.c and httpmsg/date.c. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/range.h"
#include "httpmsg/date.h"
// clang-format on

static struct http_range r[8];

static int parse(const char *v, uint64_t size)
{
    return http_range_parse((struct http_str){v, strlen(v)}, size, r, 8);
}

static void ranges(void **state)
{
    assert_int_equal(parse("bytes=0-499", 1000), 1);
    assert_int_equal(r[0].first, 0);
    assert_int_equal(r[0].last, 499);
    assert_int_equal(parse("bytes=500-", 1000), 1);
    assert_int_equal(r[0].last, 999);
    assert_int_equal(parse("bytes=-100", 1000), 1);
    assert_int_equal(r[0].first, 900);
    assert_int_equal(parse("bytes=-5000", 1000), 1);
    assert_int_equal(r[0].first, 0);
    assert_int_equal(parse("bytes=0-0, 10-20 ,990-2000", 1000), 3);
    assert_int_equal(r[2].last, 999);
    assert_int_equal(parse("bytes=1000-", 1000), 0);
    assert_int_equal(parse("bytes=2000-3000, 5000-", 1000), 0);
    assert_int_equal(parse("bytes=-0", 1000), 0);
    assert_int_equal(parse("bytes=5-1", 1000), -1);
    assert_int_equal(parse("items=0-1", 1000), -1);
    assert_int_equal(parse("bytes=", 1000), -1);
    assert_int_equal(parse("bytes=a-b", 1000), -1);
    assert_int_equal(parse("bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17", 1000),
                     -1);
}

static void dates(void **state)
{
    char out[HTTP_DATE_LEN + 1];
    http_date_format(784111777, out);
    assert_string_equal(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    const char *forms[] = {"Sun, 06 Nov 1994 08:49:37 GMT",
                           "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"};
    for (int i = 0; i < 3; i++) {
        time_t t = 0;
        assert_true(http_date_parse((struct http_str){forms[i], strlen(forms[i])}, &t));
        assert_int_equal(t, 784111777);
    }
    time_t t;
    const char *bad = "Sun, 06 Nov 1994 08:49:37 UTC";
    assert_false(http_date_parse((struct http_str){bad, strlen(bad)}, &t));
    bad = "yesterday";
    assert_false(http_date_parse((struct http_str){bad, strlen(bad)}, &t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranges),
        cmocka_unit_test(dates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
