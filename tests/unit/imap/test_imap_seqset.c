/* test_imap_seqset: sequence-set parsing (ranges either way, "*", "$",
 * 0 and overflow refused, the range limit), resolution, membership,
 * iteration, filtering and the compact writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "imap/seqset.h"
#include "imap_test.h"

static struct imap_seqset *parse(const char *text, unsigned flags, uint32_t star)
{
    struct t_cmd c;
    struct imap_parser *p = t_parser(&c, text, NULL, 0);
    struct imap_seqset *s = NULL;
    if (imap_seqset_parse(p, flags, &s) < 0 || imap_end(p) < 0) {
        imap_seqset_free(&s);
        imap_parser_free(&p);
        return NULL;
    }
    imap_parser_free(&p);
    if (!s->saved)
        assert_int_equal(imap_seqset_resolve(s, star), 0);
    return s;
}

static void expect(const char *text, uint32_t star, const char *canonical)
{
    struct imap_seqset *s = parse(text, 0, star);
    assert_non_null(s);
    uint32_t v, vals[1000];
    size_t n = 0;
    struct imap_seqset_iter it = {0};
    while (n < 1000 && imap_seqset_next(s, &it, &v))
        vals[n++] = v;
    char buf[256];
    imap_seqset_format(vals, n, buf, sizeof buf);
    assert_string_equal(buf, canonical);
    assert_int_equal(imap_seqset_count(s), n);
    imap_seqset_free(&s);
}

static void test_parse(void **state)
{
    expect("1", 10, "1");
    expect("1:*", 10, "1:10");
    expect("*:1", 10, "1:10");
    expect("*", 10, "10");
    expect("5:3,1,2,9:*", 10, "1:5,9:10");
    expect("12:*", 10, "10:12"); /* RFC 9051 6.4.1: n:* where n > * */
    expect("3,3,3:3", 10, "3");
    expect("4294967295", 10, "4294967295");
    struct imap_seqset *s = parse("4294967294:4294967295,1", 0, 1);
    assert_non_null(s);
    assert_true(imap_seqset_contains(s, 4294967295u));
    assert_false(imap_seqset_contains(s, 2));
    assert_int_equal(imap_seqset_max(s), 4294967295u);
    imap_seqset_free(&s);
    const char *bad[] = {"0",  "1:0",  "4294967296", "99999999999999999999",
                         "",   ",",    "1,",         "1:",
                         ":1", "1::2", "a",          "1 2",
                         "-1", "$,1",  NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_null(parse(bad[i], IMAP_SEQ_ALLOW_SAVED, 10));
    assert_null(parse("1:*", IMAP_SEQ_NO_STAR, 10));
    assert_null(parse("$", 0, 10));
    s = parse("$", IMAP_SEQ_ALLOW_SAVED, 10);
    assert_non_null(s);
    assert_true(s->saved);
    assert_int_equal(imap_seqset_resolve(s, 10), -1);
    imap_seqset_free(&s);
}

static void test_limit(void **state)
{
    size_t n = IMAP_MAX_SEQ_RANGES + 1, len = 0;
    char *text = malloc(n * 8 + 1);
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, 9, "%s%zu", i ? "," : "", 2 * i + 1);
    assert_null(parse(text, 0, 10));
    /* one fewer is accepted */
    *strrchr(text, ',') = '\0';
    struct imap_seqset *s = parse(text, 0, 10);
    assert_non_null(s);
    assert_int_equal(s->n, IMAP_MAX_SEQ_RANGES);
    imap_seqset_free(&s);
    free(text);
}

static void test_filter(void **state)
{
    uint32_t uids[] = {2, 4, 5, 6, 9, 100, 4000};
    size_t idx[7];
    struct imap_seqset *s = parse("5:9,1,3000:*", 0, 4000);
    assert_int_equal(imap_seqset_filter(s, uids, 7, idx), 4);
    assert_int_equal(idx[0], 2);
    assert_int_equal(idx[1], 3);
    assert_int_equal(idx[2], 4);
    assert_int_equal(idx[3], 6);
    imap_seqset_free(&s);
    s = parse("1:*", 0, 0); /* empty mailbox: "*" is 0 */
    assert_int_equal(imap_seqset_filter(s, uids, 0, idx), 0);
    imap_seqset_free(&s);
}

static void test_format(void **state)
{
    uint32_t v[] = {1, 2, 3, 4, 5, 7, 9, 10, 11, 12};
    char buf[64];
    assert_int_equal(imap_seqset_format(v, 10, buf, sizeof buf), 10);
    assert_string_equal(buf, "1:5,7,9:12");
    assert_int_equal(imap_seqset_format(v, 0, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    /* truncation keeps snprintf semantics */
    assert_int_equal(imap_seqset_format(v, 10, buf, 5), 10);
    assert_string_equal(buf, "1:5,");
    uint32_t big[] = {4294967294u, 4294967295u};
    assert_int_equal(imap_seqset_format(big, 2, buf, sizeof buf), 21);
    assert_string_equal(buf, "4294967294:4294967295");
    struct imap_seqset *s = imap_seqset_from_array(v, 10);
    assert_int_equal(s->n, 3);
    assert_true(imap_seqset_contains(s, 10));
    assert_false(imap_seqset_contains(s, 8));
    imap_seqset_free(&s);
}

static int parse_only(struct imap_parser *p)
{
    struct imap_seqset *s;
    if (imap_seqset_parse(p, IMAP_SEQ_ALLOW_SAVED, &s) < 0)
        return -1;
    imap_seqset_free(&s);
    return imap_end(p);
}

static void test_truncations(void **state)
{
    /* "1", "1:5", "1:5,7", "1:5,7,*" and the whole parse */
    assert_int_equal(t_truncations("1:5,7,*:9", parse_only), 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),       cmocka_unit_test(test_limit),
        cmocka_unit_test(test_filter),      cmocka_unit_test(test_format),
        cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
