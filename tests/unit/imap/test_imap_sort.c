/* Unit tests of imap/sort.c: every RFC 5256 key, REVERSE, several
 * criteria and the mailbox-order tie-break. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "imap/sort.h"

static const struct sort_item base[] = {
    /* seq uid arrival date size subject from to cc dfrom dto */
    {1, 10, 300, 0, 500, "b", "carol@x", "zed@x", "", "Carol", "Zed"},
    {2, 20, 100, 200, 100, "A", "alice@x", "bob@x", "m@x", "alice", "bob"},
    {3, 30, 200, 100, 300, "c", "Bob@x", "", "a@x", "Bob", ""},
    {4, 40, 100, 50, 100, "a", "alice@x", "amy@x", "", "Alice", "Amy"},
};

static void run(const struct sort_criterion *c, size_t nc, const char *expect)
{
    struct sort_item items[4];
    memcpy(items, base, sizeof items);
    sort_items(items, 4, c, nc);
    char got[16];
    for (int i = 0; i < 4; i++)
        got[i] = (char)('0' + items[i].seq);
    got[4] = 0;
    assert_string_equal(got, expect);
}

#define ONE(k, rev, expect)                                                              \
    do {                                                                                 \
        struct sort_criterion c_[] = {{k, rev}};                                         \
        run(c_, 1, expect);                                                              \
    } while (0)

static void each_key(void **state)
{
    ONE(SORT_ARRIVAL, false, "2431"); /* ties (100) in mailbox order */
    ONE(SORT_DATE, false, "4321");    /* 1 has no Date: its arrival 300 */
    ONE(SORT_SIZE, false, "2431");
    ONE(SORT_SUBJECT, false, "2413"); /* "A" = "a": mailbox order */
    ONE(SORT_FROM, false, "2431");    /* case-insensitive */
    ONE(SORT_TO, false, "3421");      /* missing sorts first */
    ONE(SORT_CC, false, "1432");
    ONE(SORT_DISPLAYFROM, false, "2431");
    ONE(SORT_DISPLAYTO, false, "3421");
}

static void reverse(void **state)
{
    ONE(SORT_ARRIVAL, true, "1324"); /* ties still in mailbox order */
    ONE(SORT_DATE, true, "1234");
    ONE(SORT_SIZE, true, "1324");
    ONE(SORT_SUBJECT, true, "3124");
    ONE(SORT_FROM, true, "1324");
    ONE(SORT_TO, true, "1243");
    ONE(SORT_CC, true, "2314");
}

static void several(void **state)
{
    struct sort_criterion c[] = {{SORT_FROM, false}, {SORT_DATE, true}};
    run(c, 2, "2431");
    struct sort_criterion d[] = {{SORT_SIZE, false}, {SORT_SUBJECT, true}};
    run(d, 2, "2431");
    struct sort_criterion e[] = {{SORT_ARRIVAL, false}, {SORT_SIZE, true}};
    run(e, 2, "2431");
    run(NULL, 0, "1234");
}

static void strcmp_casemap(void **state)
{
    assert_int_equal(sort_strcmp("abc", "ABC"), 0);
    assert_true(sort_strcmp("", "a") < 0);
    assert_true(sort_strcmp("b", "A") > 0);
    assert_true(sort_strcmp("a", "ab") < 0);
    assert_true(sort_strcmp("\xc3\xa9", "z") > 0); /* UTF-8 after ASCII */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_key),
        cmocka_unit_test(reverse),
        cmocka_unit_test(several),
        cmocka_unit_test(strcmp_casemap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
