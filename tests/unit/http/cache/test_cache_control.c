/* Unit tests of http/cache/cache_control.c: Cache-Control parsing, each
 * test one rule of RFC 9111 5.2 (and RFC 5861's two directives). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include "fields_util.h"
#include "http/cache/cache_control.h"

static struct cache_control cc;
static struct hdrs hx;

static void parse(const char *text)
{
    hdrs_set(&hx, text);
    cache_control_parse(hx.h, hx.n, &cc);
}

/* 5.2.2: the response directives. */
static void rfc9111_5_2_2_response_directives(void **state)
{
    parse("Cache-Control: public, max-age=60, s-maxage=30, must-revalidate, "
          "proxy-revalidate, no-transform, must-understand, no-store\n");
    assert_true(cc.flags & CC_PUBLIC);
    assert_true(cc.flags & CC_MUST_REVALIDATE);
    assert_true(cc.flags & CC_PROXY_REVALIDATE);
    assert_true(cc.flags & CC_NO_TRANSFORM);
    assert_true(cc.flags & CC_MUST_UNDERSTAND);
    assert_true(cc.flags & CC_NO_STORE);
    assert_int_equal(cc.max_age, 60);
    assert_int_equal(cc.s_maxage, 30);
    parse("Cache-Control: private, no-cache\n");
    assert_true(cc.flags & CC_PRIVATE);
    assert_true(cc.flags & CC_NO_CACHE);
    parse("Content-Type: text/plain\n");
    assert_int_equal(cc.flags, 0);
    assert_int_equal(cc.max_age, CACHE_CC_ABSENT);
}

/* 5.2.1: the request directives, max-stale with and without a value. */
static void rfc9111_5_2_1_request_directives(void **state)
{
    parse("Cache-Control: max-age=5, min-fresh=7, max-stale=9, no-cache, no-store, "
          "only-if-cached\n");
    assert_int_equal(cc.max_age, 5);
    assert_int_equal(cc.min_fresh, 7);
    assert_int_equal(cc.max_stale, 9);
    assert_false(cc.flags & CC_MAX_STALE_ANY);
    assert_true(cc.flags & CC_NO_CACHE);
    assert_true(cc.flags & CC_NO_STORE);
    assert_true(cc.flags & CC_ONLY_IF_CACHED);
    parse("Cache-Control: max-stale\n");
    assert_true(cc.flags & CC_MAX_STALE_ANY);
    assert_int_equal(cc.max_stale, CACHE_CC_ABSENT);
}

/* 5.2: arguments may be quoted; a quoted field-name list on no-cache and
 * private (5.2.2.4, 5.2.2.7) keeps its commas. */
static void rfc9111_5_2_quoted_arguments(void **state)
{
    parse("Cache-Control: max-age=\"60\", no-cache=\"Set-Cookie, X-Token\", "
          "private=\"X-User\"\n");
    assert_int_equal(cc.max_age, 60);
    assert_false(cc.flags & CC_NO_CACHE); /* qualified, not the unqualified form */
    assert_false(cc.flags & CC_PRIVATE);
    assert_int_equal(cc.n_no_cache_fields, 1);
    assert_true(cache_control_lists_name(cc.no_cache_fields, cc.n_no_cache_fields,
                                         S("set-cookie")));
    assert_true(
        cache_control_lists_name(cc.no_cache_fields, cc.n_no_cache_fields, S("X-Token")));
    assert_false(
        cache_control_lists_name(cc.no_cache_fields, cc.n_no_cache_fields, S("X-User")));
    assert_true(
        cache_control_lists_name(cc.private_fields, cc.n_private_fields, S("x-user")));
    /* A comma inside quotes does not end the directive. */
    parse("Cache-Control: ext=\"a, max-age=1\", s-maxage=4\n");
    assert_int_equal(cc.max_age, CACHE_CC_ABSENT);
    assert_int_equal(cc.s_maxage, 4);
}

/* 5.2.3: unknown directives (extensions) are ignored. */
static void rfc9111_5_2_3_unknown_ignored(void **state)
{
    parse("Cache-Control: community=\"UCI\", foo, bar=baz, max-age=5\n");
    assert_int_equal(cc.max_age, 5);
    assert_int_equal(cc.flags, 0);
}

/* 5.2: directive names are case-insensitive; several field lines are one
 * list (RFC 9110 5.3). */
static void rfc9111_5_2_case_and_lines(void **state)
{
    parse("Cache-Control: MAX-AGE=5\ncache-control: No-Store\n");
    assert_int_equal(cc.max_age, 5);
    assert_true(cc.flags & CC_NO_STORE);
}

/* 4.2.1: conflicting duplicates of max-age make the response stale; equal
 * ones are harmless; an invalid value is stale too. */
static void rfc9111_4_2_1_duplicates_and_invalid(void **state)
{
    parse("Cache-Control: max-age=5, max-age=10\n");
    assert_int_equal(cc.max_age, 0);
    parse("Cache-Control: max-age=5\nCache-Control: max-age=5\n");
    assert_int_equal(cc.max_age, 5);
    parse("Cache-Control: s-maxage=abc\n");
    assert_int_equal(cc.s_maxage, 0);
    parse("Cache-Control: max-age\n");
    assert_int_equal(cc.max_age, 0);
    /* Other directives: the first valid occurrence. */
    parse("Cache-Control: min-fresh=x, min-fresh=3, min-fresh=8\n");
    assert_int_equal(cc.min_fresh, 3);
}

/* 1.2.2: delta-seconds beyond what fits are 2^31. */
static void rfc9111_1_2_2_delta_overflow(void **state)
{
    parse("Cache-Control: max-age=99999999999999999999999\n");
    assert_int_equal(cc.max_age, CACHE_DELTA_MAX);
}

/* RFC 5861 3 and 4. */
static void rfc5861_directives(void **state)
{
    parse("Cache-Control: max-age=1, stale-while-revalidate=30, stale-if-error=600\n");
    assert_int_equal(cc.stale_while_revalidate, 30);
    assert_int_equal(cc.stale_if_error, 600);
}

/* Malformed elements are skipped, the rest still counts. */
static void malformed_elements(void **state)
{
    parse("Cache-Control: ,, =5, max-age=\"7, no-store\n");
    assert_false(cc.flags & CC_NO_STORE);
    parse("Cache-Control: max-age=3 junk, public\n");
    assert_int_equal(cc.max_age, CACHE_CC_ABSENT);
    assert_true(cc.flags & CC_PUBLIC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc9111_5_2_2_response_directives),
        cmocka_unit_test(rfc9111_5_2_1_request_directives),
        cmocka_unit_test(rfc9111_5_2_quoted_arguments),
        cmocka_unit_test(rfc9111_5_2_3_unknown_ignored),
        cmocka_unit_test(rfc9111_5_2_case_and_lines),
        cmocka_unit_test(rfc9111_4_2_1_duplicates_and_invalid),
        cmocka_unit_test(rfc9111_1_2_2_delta_overflow),
        cmocka_unit_test(rfc5861_directives),
        cmocka_unit_test(malformed_elements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
