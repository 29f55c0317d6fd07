/* Unit tests of imap/search_eval.c: RFC 9051 6.4.4 keys evaluated over
 * synthetic messages (flags, keywords, dates, sizes, UIDs, sequence
 * numbers, modseq, headers, body, text), the three rounds (snapshot,
 * summary, text) and "$" (RFC 5182). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "imap/parse.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "imap/seqset.h"
#include "mime/summary.h"
#include "store/mailbox.h"

struct fake {
    const char *subject, *from, *body, *text;
    int64_t sent;
    struct mime_summary sum;
    int text_calls;
    const char *emailid;
};

static const struct mime_summary *f_summary(void *arg)
{
    struct fake *f = arg;
    f->sum.sent_date = f->sent;
    return &f->sum;
}

static const char *f_header(void *arg, const char *name)
{
    struct fake *f = arg;
    f->text_calls++;
    if (strcasecmp(name, "subject") == 0)
        return f->subject;
    if (strcasecmp(name, "from") == 0)
        return f->from;
    return "";
}

static const char *f_body(void *arg)
{
    struct fake *f = arg;
    f->text_calls++;
    return f->body;
}

static const char *f_text(void *arg)
{
    struct fake *f = arg;
    f->text_calls++;
    return f->text;
}

static const char *f_emailid(void *arg)
{
    return ((struct fake *)arg)->emailid;
}

static char *lower(const char *s)
{
    char *d = strdup(s);
    for (char *p = d; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    return d;
}

#define DAY 86400
/* 2026-12-01 00:00 UTC */
#define DEC1 1796083200

static struct mailbox_msg msgs[] = {
    {1, MAIL_SEEN, NULL, 5, DEC1 + 100, 100, 102},
    {4, MAIL_FLAGGED | MAIL_ANSWERED, "work $Label1", 9, DEC1 + DAY, 5000, 5100},
    {7, MAIL_DELETED | MAIL_DRAFT | MAIL_FORWARDED, NULL, 12, DEC1 - DAY, 50, 51},
};
static struct fake fakes[] = {
    {"hello world",
     "bob <bob@example.net>",
     "the body text",
     "subject: hello\nthe body text",
     DEC1 - 3 * DAY,
     {0},
     0,
     "E1"},
    {"re: lunch",
     "alice@example.org",
     "nothing here",
     "subject: re: lunch\nnothing",
     DEC1,
     {0},
     0,
     "E4"},
    {"draft", "carol@x", "lunch menu", "subject: draft\nlunch menu", 0, {0}, 0, "E7"},
};

/* Which of the three messages the program matches: "101". */
static void run(const char *program, const struct imap_seqset *saved, const char *expect)
{
    char err[256] = "";
    struct imap_parser *p =
        imap_parser_new(program, NULL, 0, IMAP_PARSE_UTF8, err, sizeof err);
    struct imap_search *prog = NULL;
    assert_non_null(p);
    if (imap_search_parse(p, &prog) != 0)
        fail_msg("parse %s: %s", program, err);
    struct search_owned *owned = NULL;
    enum search_level need;
    assert_int_equal(search_prepare(prog, lower, 7, 3, saved, &need, &owned), 0);
    char got[4] = "";
    for (int i = 0; i < 3; i++) {
        struct search_msg m = {&msgs[i], (uint32_t)i + 1};
        struct search_src src = {&fakes[i], f_summary, f_header,
                                 f_body,    f_text,    f_emailid};
        int v = search_eval(prog->root, &m, SEARCH_SNAPSHOT, NULL);
        for (int l = SEARCH_SUMMARY; v < 0 && l <= (int)need; l++)
            v = search_eval(prog->root, &m, (enum search_level)l, &src);
        assert_true(v == 0 || v == 1);
        got[i] = (char)('0' + v);
    }
    got[3] = 0;
    if (strcmp(got, expect) != 0)
        fail_msg("%s: got %s, expected %s", program, got, expect);
    search_release(&owned);
    imap_search_free(&prog);
    imap_parser_free(&p);
}

static void flags(void **state)
{
    run("ALL", NULL, "111");
    run("SEEN", NULL, "100");
    run("UNSEEN", NULL, "011");
    run("ANSWERED", NULL, "010");
    run("UNANSWERED", NULL, "101");
    run("FLAGGED", NULL, "010");
    run("UNFLAGGED", NULL, "101");
    run("DELETED", NULL, "001");
    run("UNDELETED", NULL, "110");
    run("DRAFT", NULL, "001");
    run("UNDRAFT", NULL, "110");
    run("KEYWORD work", NULL, "010");
    run("KEYWORD $label1", NULL, "010"); /* case-insensitive */
    run("KEYWORD $Forwarded", NULL, "001");
    run("UNKEYWORD work", NULL, "101");
    run("NEW", NULL, "000");
    run("OLD", NULL, "111");
    run("RECENT", NULL, "000");
}

static void numbers_and_sets(void **state)
{
    run("LARGER 100", NULL, "110");
    run("SMALLER 102", NULL, "001");
    run("UID 4:*", NULL, "011");
    run("UID 1,7", NULL, "101");
    run("2:*", NULL, "011");
    run("1", NULL, "100");
    run("MODSEQ 9", NULL, "011");
    run("EMAILID E4", NULL, "010");
    struct imap_seqset *saved = imap_seqset_new();
    imap_seqset_add(saved, 7, 7);
    imap_seqset_resolve(saved, 0);
    run("$", saved, "001");
    run("UID $", saved, "001");
    run("$", NULL, "000");
    imap_seqset_free(&saved);
}

static void dates(void **state)
{
    run("ON 1-Dec-2026", NULL, "100");
    run("SINCE 1-Dec-2026", NULL, "110");
    run("BEFORE 1-Dec-2026", NULL, "001");
    run("SENTBEFORE 1-Dec-2026", NULL, "101"); /* 3: no Date: INTERNALDATE */
    run("SENTON 1-Dec-2026", NULL, "010");
    run("SENTSINCE 29-Nov-2026", NULL, "011");
}

static void text(void **state)
{
    for (int i = 0; i < 3; i++)
        fakes[i].text_calls = 0;
    run("SUBJECT HELLO", NULL, "100");
    run("FROM example", NULL, "110");
    run("HEADER Subject lunch", NULL, "010");
    run("BODY lunch", NULL, "001");
    run("TEXT lunch", NULL, "011");
    run("TEXT subject", NULL, "111");
    /* The snapshot decides first: no text read for a deleted-only key. */
    for (int i = 0; i < 3; i++)
        fakes[i].text_calls = 0;
    run("DELETED BODY lunch", NULL, "001");
    assert_int_equal(fakes[0].text_calls, 0);
    assert_int_equal(fakes[1].text_calls, 0);
    assert_int_equal(fakes[2].text_calls, 1);
}

static void logic(void **state)
{
    run("OR SEEN FLAGGED", NULL, "110");
    run("NOT SEEN", NULL, "011");
    run("NOT (SEEN DELETED)", NULL, "111");
    run("(SEEN) (LARGER 1)", NULL, "100");
    run("OR (SUBJECT lunch) DRAFT", NULL, "011");
    run("NOT OR SUBJECT hello BODY lunch", NULL, "010");
    run("SEEN UNSEEN", NULL, "000");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flags), cmocka_unit_test(numbers_and_sets),
        cmocka_unit_test(dates), cmocka_unit_test(text),
        cmocka_unit_test(logic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
