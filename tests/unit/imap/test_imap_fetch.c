/* test_imap_fetch: FETCH attributes, macros, sections, partials, BINARY,
 * modifiers, the response names, and every truncation of a real
 * Thunderbird FETCH. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "imap/fetch_parse.h"
#include "imap/seqset.h"
#include "imap_test.h"

static struct imap_fetch *fetch(const char *text, bool uid)
{
    struct t_cmd c;
    struct imap_parser *p = t_parser(&c, text, NULL, 0);
    struct imap_fetch *f = NULL;
    if (imap_fetch_parse(p, uid, &f) < 0)
        f = NULL;
    imap_parser_free(&p);
    return f;
}

/* The response names of every item, space-separated. */
static void names(const struct imap_fetch *f, char *out, size_t len)
{
    out[0] = '\0';
    for (size_t i = 0; i < f->n; i++) {
        size_t l = strlen(out);
        if (i > 0)
            l += (size_t)snprintf(out + l, len - l, " ");
        imap_fetch_item_name(&f->items[i], out + l, len - l);
    }
}

static void test_macros(void **state)
{
    char buf[512];
    struct imap_fetch *f = fetch("1:* ALL", false);
    names(f, buf, sizeof buf);
    assert_string_equal(buf, "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE");
    imap_fetch_free(&f);
    f = fetch("1 fast", false);
    names(f, buf, sizeof buf);
    assert_string_equal(buf, "FLAGS INTERNALDATE RFC822.SIZE");
    imap_fetch_free(&f);
    f = fetch("1 FULL", false);
    names(f, buf, sizeof buf);
    assert_string_equal(buf, "FLAGS INTERNALDATE RFC822.SIZE ENVELOPE BODY");
    imap_fetch_free(&f);
    assert_null(fetch("1 (ALL)", false)); /* macros stand alone */
}

static void test_atts(void **state)
{
    char buf[1024];
    struct imap_fetch *f = fetch("2,4:6 (FLAGS UID MODSEQ EMAILID THREADID BODYSTRUCTURE "
                                 "RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE BODY)",
                                 false);
    assert_non_null(f);
    names(f, buf, sizeof buf);
    assert_string_equal(buf, "FLAGS UID MODSEQ EMAILID THREADID BODYSTRUCTURE RFC822 "
                             "RFC822.HEADER RFC822.TEXT RFC822.SIZE BODY");
    assert_true(imap_fetch_sets_seen(f)); /* RFC822 */
    assert_int_equal(imap_seqset_resolve(f->set, 9), 0);
    assert_int_equal(imap_seqset_count(f->set), 4);
    imap_fetch_free(&f);
}

static void test_sections(void **state)
{
    char buf[1024];
    struct imap_fetch *f = fetch(
        "1 (BODY[] BODY.PEEK[HEADER] BODY[1.2.MIME] BODY[3.TEXT]<0.1024> "
        "BODY.PEEK[HEADER.FIELDS (From \"To\" {2})] BODY[2.HEADER.FIELDS.NOT (X-A)] "
        "BODY[4.1] BINARY.PEEK[1]<5.6> BINARY[] BINARY.SIZE[2])",
        false);
    assert_null(f); /* a literal marker without its literal */
    struct t_cmd c;
    const char *lits[] = {"Cc", NULL};
    struct imap_parser *p = t_parser(
        &c,
        "1 (BODY[] BODY.PEEK[HEADER] BODY[1.2.MIME] BODY[3.TEXT]<0.1024> "
        "BODY.PEEK[HEADER.FIELDS (From \"To\" {2})] BODY[2.HEADER.FIELDS.NOT (X-A)] "
        "BODY[4.1] BINARY.PEEK[1]<5.6> BINARY[] BINARY.SIZE[2])",
        lits, 0);
    assert_int_equal(imap_fetch_parse(p, false, &f), 0);
    names(f, buf, sizeof buf);
    assert_string_equal(buf, "BODY[] BODY[HEADER] BODY[1.2.MIME] BODY[3.TEXT]<0> "
                             "BODY[HEADER.FIELDS (From To Cc)] "
                             "BODY[2.HEADER.FIELDS.NOT (X-A)] BODY[4.1] BINARY[1]<5> "
                             "BINARY[] BINARY.SIZE[2]");
    assert_true(f->items[1].peek);
    assert_int_equal(f->items[3].text, IMAP_SECT_TEXT);
    assert_string_equal(f->items[3].part, "3");
    assert_true(f->items[3].partial);
    assert_int_equal(f->items[3].length, 1024);
    assert_int_equal(f->items[4].nfields, 3);
    assert_int_equal(f->items[7].offset, 5);
    assert_true(imap_fetch_sets_seen(f));
    imap_fetch_free(&f);
    imap_parser_free(&p);

    f = fetch("1 BODY.PEEK[HEADER]", false);
    assert_false(imap_fetch_sets_seen(f));
    imap_fetch_free(&f);
    const char *bad[] = {"1 BODY[MIME]",
                         "1 BODY[0]",
                         "1 BODY[1.]",
                         "1 BODY[HEADER.FIELDS]",
                         "1 BODY[HEADER.FIELDS ()]",
                         "1 BODY[HEADER.FIELDS (a:b)]",
                         "1 BODY[TEXT",
                         "1 BODY[]<0.0>",
                         "1 BODY[]<1>",
                         "1 BINARY[TEXT]",
                         "1 BINARY[1.MIME]",
                         "1 BINARY.SIZE[1]<0.1>",
                         "1 BODY[FOO]",
                         "1 BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17]",
                         "1 FOO",
                         "1 ()",
                         "1 (FLAGS",
                         "1 FLAGS)",
                         "FLAGS",
                         "1",
                         "1  FLAGS",
                         NULL};
    for (size_t i = 0; bad[i]; i++) {
        f = fetch(bad[i], false);
        if (f != NULL)
            fail_msg("accepted: %s", bad[i]);
    }
}

static void test_modifiers(void **state)
{
    struct imap_fetch *f = fetch("1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)", true);
    assert_non_null(f);
    assert_true(f->changedsince);
    assert_int_equal(f->modseq, 12345);
    assert_true(f->vanished);
    imap_fetch_free(&f);
    f = fetch("1:* FLAGS (CHANGEDSINCE 0)", false);
    assert_non_null(f);
    imap_fetch_free(&f);
    assert_null(fetch("1:* FLAGS (CHANGEDSINCE 1 VANISHED)", false)); /* not UID FETCH */
    assert_null(fetch("1:* FLAGS (VANISHED)", true)); /* no CHANGEDSINCE */
    assert_null(fetch("1:* FLAGS (FOO)", true));
    assert_null(fetch("1:* FLAGS ()", true));
}

static void test_limits(void **state)
{
    char text[4096] = "1 (";
    for (int i = 0; i <= IMAP_MAX_FETCH_ATTS; i++)
        strcat(text, i ? " UID" : "UID");
    strcat(text, ")");
    assert_null(fetch(text, false));
    text[strlen(text) - 5] = ')';
    text[strlen(text) - 4] = '\0';
    struct imap_fetch *f = fetch(text, false);
    assert_non_null(f);
    assert_int_equal(f->n, IMAP_MAX_FETCH_ATTS);
    imap_fetch_free(&f);
}

static int parse_fetch(struct imap_parser *p)
{
    struct imap_fetch *f;
    if (imap_fetch_parse(p, true, &f) < 0)
        return -1;
    imap_fetch_free(&f);
    return 0;
}

static void test_truncations(void **state)
{
    size_t ok = t_truncations(
        "1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date "
        "Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type "
        "Reply-To)])",
        parse_fetch);
    assert_int_equal(ok, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_macros),   cmocka_unit_test(test_atts),
        cmocka_unit_test(test_sections), cmocka_unit_test(test_modifiers),
        cmocka_unit_test(test_limits),   cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
