/* test_imap_args: STORE, SELECT/EXAMINE (CONDSTORE, QRESYNC), STATUS and
 * LIST (LIST-EXTENDED) arguments, and the LIST pattern matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "imap/args_parse.h"
#include "imap/pattern.h"
#include "imap/seqset.h"
#include "imap_test.h"

static struct imap_store *store(const char *text)
{
    struct t_cmd c;
    struct imap_parser *p = t_parser(&c, text, NULL, 0);
    struct imap_store *s = NULL;
    if (imap_store_parse(p, &s) < 0)
        s = NULL;
    imap_parser_free(&p);
    return s;
}

static void test_store(void **state)
{
    struct imap_store *s = store("2:4 +FLAGS (\\Deleted $Junk)");
    assert_non_null(s);
    assert_int_equal(s->op, IMAP_STORE_ADD);
    assert_false(s->silent);
    assert_int_equal(s->flags.system, IMAP_FLAG_DELETED);
    assert_int_equal(s->flags.nkeywords, 1);
    imap_store_free(&s);
    s = store("1 -flags.silent \\Seen \\Flagged");
    assert_non_null(s);
    assert_int_equal(s->op, IMAP_STORE_REMOVE);
    assert_true(s->silent);
    assert_int_equal(s->flags.system, IMAP_FLAG_SEEN | IMAP_FLAG_FLAGGED);
    imap_store_free(&s);
    s = store("1:* (UNCHANGEDSINCE 0) FLAGS ()");
    assert_non_null(s);
    assert_true(s->unchangedsince);
    assert_int_equal(s->modseq, 0);
    assert_int_equal(s->op, IMAP_STORE_SET);
    imap_store_free(&s);
    const char *bad[] = {"1 +FLAGS (\\Recent)",
                         "1 FLAGS",
                         "1 +FLAG (\\Seen)",
                         "1 FLAGS.SILENT",
                         "1 (UNCHANGEDSINCE) FLAGS ()",
                         "1 (FOO 1) FLAGS ()",
                         "0 FLAGS ()",
                         "1 *FLAGS ()",
                         "1 FLAGS (\\Seen",
                         "1 FLAGS \\Seen ",
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        if (store(bad[i]) != NULL)
            fail_msg("accepted: %s", bad[i]);
}

static int select_parse(const char *text, struct imap_select *s)
{
    static struct t_cmd c;
    imap_parser_free(&c.p);
    struct imap_parser *p = t_parser(&c, text, NULL, 0);
    int r = imap_select_parse(p, s);
    return r;
}

static void test_select(void **state)
{
    struct imap_select s;
    assert_int_equal(select_parse("inbox", &s), 0);
    assert_string_equal(s.mailbox, "INBOX");
    assert_false(s.condstore);
    imap_select_clear(&s);
    assert_int_equal(select_parse("Sent (CONDSTORE)", &s), 0);
    assert_true(s.condstore);
    imap_select_clear(&s);
    /* RFC 7162 3.2.5.2 example */
    assert_int_equal(select_parse("INBOX (QRESYNC (67890007 20050715194045000 "
                                  "41,43:211,214:541))",
                                  &s),
                     0);
    assert_true(s.qresync);
    assert_true(s.condstore);
    assert_int_equal(s.uidvalidity, 67890007);
    assert_int_equal(s.modseq, 20050715194045000ull);
    assert_non_null(s.known_uids);
    assert_null(s.match_seqs);
    imap_select_clear(&s);
    assert_int_equal(
        select_parse("INBOX (QRESYNC (67890007 90060115194045000 1:29997 "
                     "(5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,"
                     "29976,29979,29982,29985,29988,29991,29994,29997)))",
                     &s),
        0);
    assert_non_null(s.match_seqs);
    assert_non_null(s.match_uids);
    imap_select_clear(&s);
    assert_int_equal(select_parse("INBOX (QRESYNC (1 2 (1:2 3:4)))", &s), 0);
    assert_null(s.known_uids);
    assert_non_null(s.match_uids);
    imap_select_clear(&s);
    const char *bad[] = {"INBOX (QRESYNC (0 5))",
                         "INBOX (QRESYNC (1 0))",
                         "INBOX (QRESYNC (1 5 1:*))",
                         "INBOX (QRESYNC (1))",
                         "INBOX (QRESYNC (1 5) QRESYNC (1 5))",
                         "INBOX (FOO)",
                         "INBOX ()x",
                         "INBOX (CONDSTORE",
                         "",
                         "INBOX (QRESYNC (1 2 (1:2)))",
                         NULL};
    for (size_t i = 0; bad[i]; i++) {
        if (select_parse(bad[i], &s) == 0)
            fail_msg("accepted: %s", bad[i]);
        assert_null(s.known_uids);
    }
}

static void test_status(void **state)
{
    struct t_cmd c;
    const char *m;
    unsigned items;
    struct imap_parser *p = t_parser(
        &c,
        "Drafts (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ RECENT "
        "APPENDLIMIT MAILBOXID DELETED-STORAGE)",
        NULL, 0);
    assert_int_equal(imap_status_parse(p, &m, &items), 0);
    assert_string_equal(m, "Drafts");
    assert_int_equal(items, (1u << 11) - 1);
    assert_string_equal(imap_status_item_name(IMAP_STATUS_HIGHESTMODSEQ),
                        "HIGHESTMODSEQ");
    imap_parser_free(&p);
    const char *bad[] = {
        "Drafts ()",           "Drafts (FOO)",      "Drafts", "Drafts MESSAGES",
        "Drafts (MESSAGES) x", "Drafts (DELETED-)", NULL};
    for (size_t i = 0; bad[i]; i++) {
        p = t_parser(&c, bad[i], NULL, 0);
        assert_int_equal(imap_status_parse(p, &m, &items), -1);
        imap_parser_free(&p);
    }
}

static int list(const char *text, struct imap_list *l)
{
    /* strings live in the parser: keep it until the next call */
    static struct t_cmd c;
    imap_parser_free(&c.p);
    struct imap_parser *p = t_parser(&c, text, NULL, IMAP_PARSE_MUTF7);
    int r = imap_list_parse(p, l);
    return r;
}

static void test_list(void **state)
{
    struct imap_list l;
    assert_int_equal(list("\"\" *", &l), 0);
    assert_false(l.extended);
    assert_string_equal(l.reference, "");
    assert_int_equal(l.npatterns, 1);
    assert_string_equal(l.patterns[0], "*");
    assert_int_equal(list("~/Mail/ %", &l), 0);
    assert_string_equal(l.reference, "~/Mail/");
    assert_int_equal(
        list("(SUBSCRIBED RECURSIVEMATCH) \"\" (\"%\" &U,BTFw-/* INBOX) RETURN "
             "(CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))",
             &l),
        0);
    assert_true(l.extended);
    assert_int_equal(l.select, IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_RECURSIVEMATCH);
    assert_int_equal(l.npatterns, 3);
    assert_string_equal(l.patterns[1], "\xe5\x8f\xb0\xe5\x8c\x97/*");
    assert_int_equal(l.ret, IMAP_LIST_RET_CHILDREN | IMAP_LIST_RET_SPECIAL_USE |
                                IMAP_LIST_RET_STATUS);
    assert_int_equal(l.status, IMAP_STATUS_MESSAGES | IMAP_STATUS_UNSEEN);
    assert_int_equal(list("() \"\" % RETURN ()", &l), 0);
    assert_true(l.extended);
    const char *bad[] = {"(RECURSIVEMATCH) \"\" *",
                         "(REMOTE RECURSIVEMATCH) \"\" *",
                         "(FOO) \"\" *",
                         "\"\"",
                         "\"\" * RETURN",
                         "\"\" * RETURN (FOO)",
                         "\"\" ()",
                         "\"\" * x",
                         "\"\" &Jjo",
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        if (list(bad[i], &l) == 0)
            fail_msg("accepted: %s", bad[i]);
}

static void test_pattern(void **state)
{
    assert_true(imap_pattern_match("*", "a/b/c", '/'));
    assert_true(imap_pattern_match("%", "abc", '/'));
    assert_false(imap_pattern_match("%", "a/b", '/'));
    assert_true(imap_pattern_match("a/%", "a/b", '/'));
    assert_false(imap_pattern_match("a/%", "a/b/c", '/'));
    assert_true(imap_pattern_match("a/%/c", "a/b/c", '/'));
    assert_true(imap_pattern_match("a*c", "a/b/c", '/'));
    assert_false(imap_pattern_match("a%c", "a/b/c", '/'));
    assert_true(imap_pattern_match("%/%", "a/b", '/'));
    assert_true(imap_pattern_match("", "", '/'));
    assert_false(imap_pattern_match("", "a", '/'));
    assert_true(imap_pattern_match("inbox", "INBOX", '/'));
    assert_true(imap_pattern_match("Inbox/%", "INBOX/Sub", '/'));
    assert_false(
        imap_pattern_match("inbox/sub", "INBOX/Sub", '/')); /* only INBOX folds */
    assert_false(imap_pattern_match("inboxes", "INBOXES", '/'));
    assert_false(imap_pattern_match("Sent", "sent", '/'));
    /* a pathological pattern stays fast */
    char pat[4001];
    for (int i = 0; i < 2000; i++)
        memcpy(pat + 2 * i, "*a", 2);
    pat[4000] = '\0';
    char name[1001];
    memset(name, 'a', 1000);
    name[1000] = '\0';
    assert_false(imap_pattern_match(pat, name, '/'));
    name[999] = 'b';
    assert_false(imap_pattern_match("*a*a*a*a*a*a*a*a*a*a*a*c", name, '/'));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store),   cmocka_unit_test(test_select),
        cmocka_unit_test(test_status),  cmocka_unit_test(test_list),
        cmocka_unit_test(test_pattern),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
