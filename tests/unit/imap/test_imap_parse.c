/* test_imap_parse: the argument reader: atoms, quoted strings, literals,
 * astrings, nstrings, numbers, lists and nesting, flags, dates, mailbox
 * names, and every truncation of a few commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "core/utf8.h"
#include "imap_test.h"

static void test_atoms(void **state)
{
    struct t_cmd c;
    const char *a;
    struct imap_parser *p = t_parser(&c, "FOO bar[1] x)", NULL, 0);
    assert_int_equal(imap_atom(p, &a), 0);
    assert_string_equal(a, "FOO");
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_atom(p, &a), 0);
    assert_string_equal(a, "bar[1"); /* '[' is an ATOM-CHAR, ']' is not */
    assert_int_equal(imap_atom(p, &a), -1);
    imap_parser_free(&p);
    for (const char *bad = "(){ %*\"\\]"; *bad; bad++) {
        char text[2] = {*bad, 0};
        p = t_parser(&c, text, NULL, 0);
        assert_int_equal(imap_atom(p, &a), -1);
        imap_parser_free(&p);
    }
    p = t_parser(&c, "", NULL, 0);
    assert_int_equal(imap_atom(p, &a), -1);
    assert_string_equal(c.err, "Missing argument");
    imap_parser_free(&p);
    p = t_parser(&c, "a\x7f", NULL, 0);
    assert_int_equal(imap_atom(p, &a), 0);
    assert_string_equal(a, "a");
    assert_int_equal(imap_end(p), -1);
    imap_parser_free(&p);
}

static void test_quoted(void **state)
{
    struct t_cmd c;
    struct imap_string s;
    struct imap_parser *p = t_parser(&c, "\"\" \"a\\\"b\\\\c\"", NULL, 0);
    assert_int_equal(imap_string(p, &s), 0);
    assert_int_equal(s.len, 0);
    assert_string_equal(s.data, "");
    assert_false(s.literal);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_string(p, &s), 0);
    assert_string_equal(s.data, "a\"b\\c");
    assert_int_equal(imap_end(p), 0);
    imap_parser_free(&p);
    const char *bad[] = {"\"abc", "\"a\\b\"", "\"a\\", "\"\r\"", "\"\\\"", NULL};
    for (size_t i = 0; bad[i]; i++) {
        p = t_parser(&c, bad[i], NULL, IMAP_PARSE_UTF8);
        assert_int_equal(imap_string(p, &s), -1);
        imap_parser_free(&p);
    }
    /* 8-bit: refused for rev1, UTF-8 only for rev2 */
    p = t_parser(&c, "\"caf\xc3\xa9\"", NULL, 0);
    assert_int_equal(imap_string(p, &s), -1);
    assert_string_equal(c.err, "8-bit data in quoted string");
    imap_parser_free(&p);
    p = t_parser(&c, "\"caf\xc3\xa9\"", NULL, IMAP_PARSE_UTF8);
    assert_int_equal(imap_string(p, &s), 0);
    assert_string_equal(s.data, "caf\xc3\xa9");
    imap_parser_free(&p);
    p = t_parser(&c, "\"caf\xc3\"", NULL, IMAP_PARSE_UTF8);
    assert_int_equal(imap_string(p, &s), -1);
    imap_parser_free(&p);
}

static void test_literals(void **state)
{
    struct t_cmd c;
    struct imap_string s;
    const char *lits[] = {"hello", "", "x y", NULL};
    struct imap_parser *p = t_parser(&c, "{5} ({0} {3+}) a", lits, 0);
    assert_int_equal(imap_astring(p, &s), 0);
    assert_true(s.literal);
    assert_int_equal(s.len, 5);
    assert_memory_equal(s.data, "hello", 5);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_list_open(p), 0);
    bool first = true;
    assert_int_equal(imap_list_next(p, &first), 1);
    assert_int_equal(imap_string(p, &s), 0);
    assert_int_equal(s.len, 0); /* {0} */
    assert_int_equal(imap_list_next(p, &first), 1);
    assert_int_equal(imap_string(p, &s), 0);
    assert_string_equal(s.data, "x y");
    assert_int_equal(imap_list_next(p, &first), 0);
    assert_int_equal(imap_sp(p), 0);
    const char *a;
    assert_int_equal(imap_atom(p, &a), 0);
    assert_int_equal(imap_end(p), 0);
    imap_parser_free(&p);

    /* a literal at the very end; length mismatch; no literal sent; unused */
    const char *one[] = {"abc", NULL};
    p = t_parser(&c, "x {3}", one, 0);
    assert_int_equal(imap_atom(p, &a), 0);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_string(p, &s), 0);
    assert_int_equal(imap_end(p), 0);
    imap_parser_free(&p);
    p = t_parser(&c, "{4}", one, 0);
    assert_int_equal(imap_string(p, &s), -1);
    assert_string_equal(c.err, "Literal length mismatch");
    imap_parser_free(&p);
    p = t_parser(&c, "{3}", NULL, 0);
    assert_int_equal(imap_string(p, &s), -1);
    imap_parser_free(&p);
    p = t_parser(&c, "x", one, 0);
    assert_int_equal(imap_atom(p, &a), 0);
    assert_int_equal(imap_end(p), -1);
    assert_string_equal(c.err, "Unused literal");
    imap_parser_free(&p);
    p = t_parser(&c, "{99999999999999999999}", one, 0);
    assert_int_equal(imap_string(p, &s), -1);
    imap_parser_free(&p);
    /* literal8 for APPEND; spooled literals are handed out as fd */
    p = t_parser(&c, "~{3}", one, 0);
    assert_int_equal(imap_literal(p, &s), 0);
    assert_true(s.binary);
    imap_parser_free(&p);
    p = t_parser(&c, "{3}", one, 0);
    c.lits[0].data = NULL;
    c.lits[0].fd = 7;
    assert_int_equal(imap_literal(p, &s), 0);
    assert_int_equal(s.fd, 7);
    assert_null(s.data);
    imap_parser_free(&p);
    p = t_parser(&c, "{3}", one, 0);
    c.lits[0].data = NULL;
    c.lits[0].fd = 7;
    const char *txt;
    assert_int_equal(imap_astring_text(p, &txt, NULL), -1);
    imap_parser_free(&p);
}

static void test_nstring_astring(void **state)
{
    struct t_cmd c;
    struct imap_string s;
    bool nil;
    struct imap_parser *p = t_parser(&c, "NIL nil \"NIL\" a]b", NULL, 0);
    assert_int_equal(imap_nstring(p, &s, &nil), 0);
    assert_true(nil);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_nstring(p, &s, &nil), 0);
    assert_true(nil);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_nstring(p, &s, &nil), 0);
    assert_false(nil);
    assert_string_equal(s.data, "NIL");
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_astring(p, &s), 0);
    assert_string_equal(s.data, "a]b"); /* resp-specials are ASTRING-CHARs */
    imap_parser_free(&p);
}

static void test_numbers(void **state)
{
    struct t_cmd c;
    uint32_t n;
    uint64_t v;
    struct imap_parser *p =
        t_parser(&c, "4294967295 4294967296 0 9223372036854775807", NULL, 0);
    assert_int_equal(imap_nz_number(p, &n), 0);
    assert_int_equal(n, 4294967295u);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_number(p, &n), -1); /* overflow refused */
    assert_int_equal(imap_number64(p, &v), 0);
    assert_int_equal(v, 4294967296ull);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_nz_number(p, &n), -1);
    assert_int_equal(imap_number(p, &n), 0);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_modseq(p, &v), 0);
    assert_int_equal(v, 9223372036854775807ull);
    imap_parser_free(&p);
    p = t_parser(&c, "9223372036854775808", NULL, 0);
    assert_int_equal(imap_number64(p, &v), -1);
    imap_parser_free(&p);
    p = t_parser(&c, "0", NULL, 0);
    assert_int_equal(imap_modseq(p, &v), -1);
    assert_int_equal(imap_modseq_valzer(p, &v), 0);
    imap_parser_free(&p);
    p = t_parser(&c, "x", NULL, 0);
    assert_int_equal(imap_number(p, &n), -1);
    imap_parser_free(&p);
}

static void test_nesting(void **state)
{
    /* 10,000 nested parentheses fail cleanly at the depth cap */
    size_t depth = 10000;
    char *text = malloc(2 * depth + 1);
    memset(text, '(', depth);
    memset(text + depth, ')', depth);
    text[2 * depth] = '\0';
    struct t_cmd c;
    struct imap_parser *p = t_parser(&c, text, NULL, 0);
    assert_int_equal(imap_skip_value(p), -1);
    assert_string_equal(c.err, "Too deeply nested parentheses");
    imap_parser_free(&p);
    /* exactly the cap is fine */
    char ok[2 * IMAP_MAX_LIST_DEPTH + 2];
    memset(ok, '(', IMAP_MAX_LIST_DEPTH);
    ok[IMAP_MAX_LIST_DEPTH] = 'a';
    memset(ok + IMAP_MAX_LIST_DEPTH + 1, ')', IMAP_MAX_LIST_DEPTH);
    ok[2 * IMAP_MAX_LIST_DEPTH + 1] = '\0';
    p = t_parser(&c, ok, NULL, 0);
    assert_int_equal(imap_skip_value(p), 0);
    assert_int_equal(imap_end(p), 0);
    imap_parser_free(&p);
    free(text);
    /* unbalanced and badly separated lists */
    const char *bad[] = {"(a", "(a b", "(a  b)", "(a )", "( a)", "(a b))", ")", NULL};
    for (size_t i = 0; bad[i]; i++) {
        p = t_parser(&c, bad[i], NULL, 0);
        int r = imap_skip_value(p);
        if (r == 0)
            r = imap_end(p);
        assert_int_equal(r, -1);
        imap_parser_free(&p);
    }
}

static void test_flags(void **state)
{
    struct t_cmd c;
    struct imap_flags f;
    struct imap_parser *p = t_parser(
        &c, "(\\Seen \\answered \\Flagged \\Deleted \\Draft $Junk foo $junk)", NULL, 0);
    assert_int_equal(imap_flag_list(p, &f), 0);
    assert_int_equal(f.system, IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED | IMAP_FLAG_FLAGGED |
                                   IMAP_FLAG_DELETED | IMAP_FLAG_DRAFT);
    assert_int_equal(f.nkeywords, 2); /* $junk is $Junk */
    assert_string_equal(f.keywords[0], "$Junk");
    assert_string_equal(f.keywords[1], "foo");
    imap_parser_free(&p);
    p = t_parser(&c, "()", NULL, 0);
    assert_int_equal(imap_flag_list(p, &f), 0);
    assert_int_equal(f.system, 0);
    imap_parser_free(&p);
    const char *bad[] = {"(\\Recent)", "(\\Foo)", "(\\)", "(\\Seen", "(a\"b)", NULL};
    for (size_t i = 0; bad[i]; i++) {
        p = t_parser(&c, bad[i], NULL, 0);
        assert_int_equal(imap_flag_list(p, &f), -1);
        imap_parser_free(&p);
    }
}

static void test_date_time(void **state)
{
    struct t_cmd c;
    int64_t t;
    int zone;
    struct imap_parser *p = t_parser(&c, "\"17-Jul-1996 02:44:25 -0700\"", NULL, 0);
    assert_int_equal(imap_date_time(p, &t, &zone), 0);
    assert_int_equal(t, 837596665); /* 1996-07-17T09:44:25Z */
    assert_int_equal(zone, -420);
    imap_parser_free(&p);
    p = t_parser(&c, "\" 7-feb-1994 21:52:25 +0000\"", NULL, 0);
    assert_int_equal(imap_date_time(p, &t, &zone), 0);
    assert_int_equal(t, 760657945);
    imap_parser_free(&p);
    const char *bad[] = {
        "\"7-Feb-1994 21:52:25 +0000\"",  "\"07-Feb-94 21:52:25 +0000\"",
        "\"30-Feb-2024 00:00:00 +0000\"", "\"01-Foo-2024 00:00:00 +0000\"",
        "\"01-Jan-2024 24:00:00 +0000\"", "\"01-Jan-2024 00:00:00 0000\"",
        "\"01-Jan-2024 00:00:00 +0060\"", "17-Jul-1996 02:44:25 -0700",
        "\"01-Jan-2024 00:00:00 +0000",   NULL};
    for (size_t i = 0; bad[i]; i++) {
        p = t_parser(&c, bad[i], NULL, 0);
        assert_int_equal(imap_date_time(p, &t, &zone), -1);
        imap_parser_free(&p);
    }
}

static void test_date(void **state)
{
    struct t_cmd c;
    int64_t d;
    struct imap_parser *p =
        t_parser(&c, "1-Jan-1970 \"29-Feb-2024\" 01-mar-2024", NULL, 0);
    assert_int_equal(imap_date(p, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_date(p, &d), 0);
    assert_int_equal(d, 19782);
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_date(p, &d), 0);
    assert_int_equal(d, 19783);
    imap_parser_free(&p);
    const char *bad[] = {"29-Feb-2023",  "1-Jan-70",   "\"1-Jan-2024",
                         "123-Jan-2024", "0-Jan-2024", NULL};
    for (size_t i = 0; bad[i]; i++) {
        p = t_parser(&c, bad[i], NULL, 0);
        assert_int_equal(imap_date(p, &d), -1);
        imap_parser_free(&p);
    }
}

static void test_mailbox(void **state)
{
    struct t_cmd c;
    const char *m;
    struct imap_parser *p =
        t_parser(&c, "inbox \"InBoX\" Inbox/sub \"caf\xc3\xa9\"", NULL, IMAP_PARSE_UTF8);
    assert_int_equal(imap_mailbox(p, &m), 0);
    assert_string_equal(m, "INBOX");
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_mailbox(p, &m), 0);
    assert_string_equal(m, "INBOX");
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_mailbox(p, &m), 0);
    assert_string_equal(m, "Inbox/sub"); /* only the name INBOX itself */
    assert_int_equal(imap_sp(p), 0);
    assert_int_equal(imap_mailbox(p, &m), 0);
    assert_string_equal(m, "caf\xc3\xa9");
    imap_parser_free(&p);
    /* rev1: modified UTF-7 decoded */
    p = t_parser(&c, "~peter/mail/&U,BTFw-/&ZeVnLIqe-", NULL, IMAP_PARSE_MUTF7);
    assert_int_equal(imap_mailbox(p, &m), 0);
    assert_string_equal(m, "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
                           "\xe8\xaa\x9e");
    imap_parser_free(&p);
    p = t_parser(&c, "&Jjo!", NULL, IMAP_PARSE_MUTF7);
    assert_int_equal(imap_mailbox(p, &m), -1);
    imap_parser_free(&p);
    /* a literal with invalid UTF-8 or a control character */
    const char *lits[] = {"a\xff", NULL};
    p = t_parser(&c, "{2}", lits, IMAP_PARSE_UTF8);
    assert_int_equal(imap_mailbox(p, &m), -1);
    imap_parser_free(&p);
    const char *ctl[] = {"a\tb", NULL};
    p = t_parser(&c, "{3}", ctl, IMAP_PARSE_UTF8);
    assert_int_equal(imap_mailbox(p, &m), -1);
    imap_parser_free(&p);
    char longname[MAIL_MAX_FOLDER + 3];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    p = t_parser(&c, longname, NULL, 0);
    assert_int_equal(imap_mailbox(p, &m), -1);
    imap_parser_free(&p);
    /* LIST patterns keep wildcards */
    p = t_parser(&c, "INBOX/%/*", NULL, 0);
    assert_int_equal(imap_list_mailbox(p, &m), 0);
    assert_string_equal(m, "INBOX/%/*");
    imap_parser_free(&p);
}

static void test_utf8(void **state)
{
    assert_true(
        utf8_valid((const unsigned char *)"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10));
    const char *bad[] = {
        "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80",     "\xf4\x90\x80\x80",
        "\x80",     "\xc3",         "\xf5\x80\x80\x80", NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_false(utf8_valid((const unsigned char *)bad[i], strlen(bad[i])));
    unsigned char out[4];
    assert_int_equal(utf8_encode(0xd800, out), 0);
    assert_int_equal(utf8_encode(0x110000, out), 0);
    assert_int_equal(utf8_encode(0x1f600, out), 4);
}

static int parse_all_values(struct imap_parser *p)
{
    do {
        if (imap_skip_value(p) < 0)
            return -1;
    } while (imap_accept(p, ' '));
    return imap_end(p);
}

static int parse_append(struct imap_parser *p)
{
    struct imap_flags f;
    int64_t t;
    int z;
    const char *m;
    if (imap_mailbox(p, &m) < 0 || imap_sp(p) < 0 || imap_flag_list(p, &f) < 0 ||
        imap_sp(p) < 0 || imap_date_time(p, &t, &z) < 0)
        return -1;
    return imap_end(p);
}

static void test_truncations(void **state)
{
    assert_int_equal(
        t_truncations("(a (b \"c\\\"d\") NIL) \"x\" ((()))", parse_all_values) > 0, true);
    size_t ok =
        t_truncations("Sent (\\Seen $x) \"17-Jul-1996 02:44:25 -0700\"", parse_append);
    assert_int_equal(ok, 1); /* only the whole command parses */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atoms),    cmocka_unit_test(test_quoted),
        cmocka_unit_test(test_literals), cmocka_unit_test(test_nstring_astring),
        cmocka_unit_test(test_numbers),  cmocka_unit_test(test_nesting),
        cmocka_unit_test(test_flags),    cmocka_unit_test(test_date_time),
        cmocka_unit_test(test_date),     cmocka_unit_test(test_mailbox),
        cmocka_unit_test(test_utf8),     cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
