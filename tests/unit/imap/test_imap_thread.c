/* Unit tests of imap/thread.c: RFC 5256 ORDEREDSUBJECT and REFERENCES on
 * hand-made mailboxes (missing parents, loops, duplicate ids, subject
 * merging) and the section 4 rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "imap/thread.h"

/* Message i (1-based) with a date, base subject, ids. */
#define M(i, d, subj, reply, mid, irt, refs)                                             \
    {                                                                                    \
        (i), (i), (d), (subj), (reply), (mid), (irt), (refs)                             \
    }

static void check(const struct thread_item *items, size_t n, bool refs,
                  const char *expect)
{
    struct thread_tree t;
    int rc;
    if (refs)
        rc = thread_references(items, n, &t);
    else
        rc = thread_orderedsubject(items, n, &t);
    assert_int_equal(rc, 0);
    char *s = thread_render(&t, items);
    assert_non_null(s);
    assert_string_equal(s, expect);
    free(s);
    thread_tree_free(&t);
}

static void orderedsubject(void **state)
{
    const struct thread_item items[] = {
        M(1, 100, "apple", false, "<1@x>", "", ""),
        M(2, 50, "banana", false, "<2@x>", "", ""),
        M(3, 300, "apple", true, "<3@x>", "", ""),
        M(4, 200, "Apple", true, "<4@x>", "", ""),
        M(5, 10, "cherry", false, "<5@x>", "", ""),
    };
    /* Threads by their first message's date: cherry (10), banana (50),
     * apple (100) whose later messages are all children of the first. */
    check(items, 5, false, "(5)(2)(1 (4)(3))");
    check(items, 0, false, "");
    const struct thread_item two[] = {
        M(1, 1, "a", false, "", "", ""),
        M(2, 2, "a", false, "", "", ""),
    };
    check(two, 2, false, "(1 2)");
}

static void references_chain(void **state)
{
    const struct thread_item items[] = {
        M(1, 1, "s", false, "<a@x>", "", ""),
        M(2, 2, "s", true, "<b@x>", "<a@x>", "<a@x>"),
        M(3, 3, "s", true, "<c@x>", "<b@x>", "<a@x> <b@x>"),
        M(4, 4, "s", true, "<d@x>", "<b@x>", "<a@x> <b@x>"),
        M(5, 5, "t", false, "<e@x>", "", ""),
    };
    check(items, 5, true, "(1 2 (3)(4))(5)");
}

static void rfc_example_shape(void **state)
{
    /* RFC 5256 4: (2)(3 6 (4 23)(44 7 96)), ids as in the example. */
    const struct thread_item items[] = {
        M(2, 1, "a", false, "<2>", "", ""),
        M(3, 2, "b", false, "<3>", "", ""),
        M(6, 3, "b", true, "<6>", "", "<3>"),
        M(4, 4, "b", true, "<4>", "", "<3> <6>"),
        M(23, 5, "b", true, "<23>", "", "<3> <6> <4>"),
        M(44, 6, "b", true, "<44>", "", "<3> <6>"),
        M(7, 7, "b", true, "<7>", "", "<44>"),
        M(96, 8, "b", true, "<96>", "", "<7>"),
    };
    check(items, 8, true, "(2)(3 6 (4 23)(44 7 96))");
}

static void missing_parents(void **state)
{
    /* Two replies to a message that is not in the mailbox: the dummy
     * stays as the root of their thread (RFC 5256 3 step 3). */
    const struct thread_item items[] = {
        M(1, 1, "x", true, "<b@x>", "", "<gone@x>"),
        M(2, 2, "y", true, "<c@x>", "", "<gone@x>"),
    };
    check(items, 2, true, "((1)(2))");
    /* One reply to a missing message: promoted to the top. */
    const struct thread_item one[] = {
        M(1, 1, "x", true, "<b@x>", "", "<gone@x> <gone2@x>"),
        M(2, 2, "z", false, "<c@x>", "", ""),
    };
    check(one, 2, true, "(1)(2)");
    /* A missing message in the middle of a chain. */
    const struct thread_item mid[] = {
        M(1, 1, "x", false, "<a@x>", "", ""),
        M(2, 2, "x", true, "<c@x>", "", "<a@x> <b@x>"),
    };
    check(mid, 2, true, "(1 2)");
}

static void in_reply_to_fallback(void **state)
{
    const struct thread_item items[] = {
        M(1, 1, "p", false, "<a@x>", "", ""),
        M(2, 2, "q", true, "<b@x>", "<a@x> (comment)", ""),
    };
    check(items, 2, true, "(1 2)");
}

static void loops(void **state)
{
    /* References that contradict each other: 1 says b is its parent, 2
     * says a is its parent. The first link made stands; no loop. */
    const struct thread_item items[] = {
        M(1, 1, "p", false, "<a@x>", "", "<b@x>"),
        M(2, 2, "q", false, "<b@x>", "", "<a@x>"),
    };
    check(items, 2, true, "(2 1)");
    /* A message that refers to itself. */
    const struct thread_item self[] = {
        M(1, 1, "p", false, "<a@x>", "", "<a@x>"),
    };
    check(self, 1, true, "(1)");
    /* A cycle inside one References header. */
    const struct thread_item cyc[] = {
        M(1, 1, "p", false, "<c@x>", "", "<a@x> <b@x> <a@x>"),
        M(2, 2, "q", false, "<a@x>", "", ""),
    };
    check(cyc, 2, true, "(2 1)");
}

static void duplicates_and_no_ids(void **state)
{
    const struct thread_item items[] = {
        M(1, 1, "p", false, "<a@x>", "", ""),
        M(2, 2, "q", false, "<a@x>", "", ""),
        M(3, 3, "r", false, "", "", ""),
        M(4, 4, "p", true, "<d@x>", "", "<a@x>"),
    };
    check(items, 4, true, "(1 4)(2)(3)");
}

static void subject_merging(void **state)
{
    /* A reply whose references are lost joins the original by subject. */
    const struct thread_item reply[] = {
        M(1, 1, "lunch", false, "<a@x>", "", ""),
        M(2, 2, "lunch", true, "<b@x>", "", ""),
    };
    check(reply, 2, true, "(1 2)");
    /* Two originals with one subject: a dummy holds both. */
    const struct thread_item both[] = {
        M(1, 1, "lunch", false, "<a@x>", "", ""),
        M(2, 2, "lunch", false, "<b@x>", "", ""),
        M(3, 3, "other", false, "<c@x>", "", ""),
    };
    check(both, 3, true, "((1)(2))(3)");
    /* An empty subject never merges. */
    const struct thread_item empty[] = {
        M(1, 1, "", false, "<a@x>", "", ""),
        M(2, 2, "", false, "<b@x>", "", ""),
    };
    check(empty, 2, true, "(1)(2)");
    /* A dummy thread and a message with its subject: the message joins. */
    const struct thread_item dummy[] = {
        M(1, 1, "s", true, "<b@x>", "", "<gone@x>"),
        M(2, 2, "s", true, "<c@x>", "", "<gone@x>"),
        M(3, 3, "s", false, "<d@x>", "", ""),
    };
    check(dummy, 3, true, "((1)(2)(3))");
}

static void dates_order_threads(void **state)
{
    const struct thread_item items[] = {
        M(1, 500, "a", false, "<a@x>", "", ""),
        M(2, 100, "b", false, "<b@x>", "", ""),
        M(3, 50, "a", true, "<c@x>", "", "<a@x>"),
    };
    /* Threads by the date of their first message; children by date. */
    check(items, 3, true, "(2)(1 3)");
}

static void big_chain(void **state)
{
    /* A 20,000-deep chain: nothing recursive. */
    enum { N = 20000 }; /* linear: parents have no children yet */
    struct thread_item *items = calloc(N, sizeof *items);
    char(*ids)[16] = calloc(N, 16);
    assert_non_null(items);
    for (int i = 0; i < N; i++) {
        snprintf(ids[i], 16, "<%d>", i);
        items[i] = (struct thread_item){
            (uint32_t)i + 1, (uint32_t)i + 1, i,  "s",
            i > 0,           ids[i],          "", i ? ids[i - 1] : ""};
    }
    struct thread_tree t;
    assert_int_equal(thread_references(items, N, &t), 0);
    char *s = thread_render(&t, items);
    assert_non_null(s);
    assert_memory_equal(s, "(1 2 3 ", 7);
    free(s);
    thread_tree_free(&t);
    free(items);
    free(ids);
}

static void reply_subjects(void **state)
{
    assert_true(thread_subject_is_reply("Re: x"));
    assert_true(thread_subject_is_reply("RE : x"));
    assert_true(thread_subject_is_reply("Fwd: x"));
    assert_true(thread_subject_is_reply("fw: x"));
    assert_true(thread_subject_is_reply("[list] Re: x"));
    assert_true(thread_subject_is_reply("Re[2]: x"));
    assert_true(thread_subject_is_reply("x (fwd)"));
    assert_true(thread_subject_is_reply("[Fwd: x]"));
    assert_false(thread_subject_is_reply("Regarding x"));
    assert_false(thread_subject_is_reply("x"));
    assert_false(thread_subject_is_reply(""));
    assert_false(thread_subject_is_reply("[unclosed Re: x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(orderedsubject),        cmocka_unit_test(references_chain),
        cmocka_unit_test(rfc_example_shape),     cmocka_unit_test(missing_parents),
        cmocka_unit_test(in_reply_to_fallback),  cmocka_unit_test(loops),
        cmocka_unit_test(duplicates_and_no_ids), cmocka_unit_test(subject_merging),
        cmocka_unit_test(dates_order_threads),   cmocka_unit_test(big_chain),
        cmocka_unit_test(reply_subjects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
