/* Unit tests of the summary cache text (mime/summary_cache.c): a
 * serialise -> parse round trip keeps every field, and corrupt or
 * truncated entries are refused (the caller then recomputes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "messages.h"
#include "mime/module.h"
#include "mime/summary.h"
#include "mime_test.h"

#include <stdio.h>
#include <stdlib.h>

static struct mime_summary *summary_of(const char *text)
{
    int fd = msg_fd(text);
    struct mime_summary *s = portico_mime_summary_fd(fd);
    close(fd);
    assert_non_null(s);
    return s;
}

static void assert_same(const struct mime_summary *a, const struct mime_summary *b)
{
    assert_string_equal(a->envelope, b->envelope);
    assert_string_equal(a->body, b->body);
    assert_string_equal(a->bodystructure, b->bodystructure);
    assert_int_equal(a->sent_date, b->sent_date);
    assert_string_equal(a->sort_subject, b->sort_subject);
    assert_string_equal(a->sort_from, b->sort_from);
    assert_string_equal(a->sort_to, b->sort_to);
    assert_string_equal(a->sort_cc, b->sort_cc);
    assert_string_equal(a->display_from, b->display_from);
    assert_string_equal(a->display_to, b->display_to);
    assert_string_equal(a->message_id, b->message_id);
    assert_string_equal(a->in_reply_to, b->in_reply_to);
    assert_string_equal(a->references, b->references);
    assert_int_equal(a->subject_reply, b->subject_reply);
    assert_int_equal(a->nparts, b->nparts);
    assert_memory_equal(a->parts, b->parts, a->nparts * sizeof *a->parts);
}

static void round_trip(void **state)
{
    const char *msgs[] = {MSG_PLAIN, MSG_NESTED, MSG_RFC822, MSG_RFC2231, MSG_EIGHTBIT};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        struct mime_summary *s = summary_of(msgs[i]);
        char *text = mime_summary_serialise(s);
        assert_non_null(text);
        struct mime_summary *back = mime_summary_parse(text);
        assert_non_null(back);
        assert_same(s, back);
        char *again = mime_summary_serialise(back);
        assert_string_equal(text, again);
        assert_non_null(mime_summary_part(back, ""));
        /* The envelope read without the parse is the parsed one. */
        size_t elen = 0;
        const char *env = mime_summary_envelope(text, &elen);
        assert_non_null(env);
        assert_int_equal(elen, strlen(back->envelope));
        assert_memory_equal(env, back->envelope, elen);
        free(again);
        free(text);
        mime_summary_free(back);
        mime_summary_free(s);
    }
}

/* A hand-built summary with every field set, including negative dates. */
static void round_trip_by_hand(void **state)
{
    struct mime_part parts[2] = {{.section = "",
                                  .header_off = 0,
                                  .header_len = 10,
                                  .header_len_crlf = 12,
                                  .body_off = 10,
                                  .body_len = 5,
                                  .body_len_crlf = 6,
                                  .lines = 1},
                                 {.section = "1.22.3",
                                  .header_off = 1,
                                  .header_len = 2,
                                  .header_len_crlf = 3,
                                  .body_off = 3,
                                  .body_len = 40,
                                  .body_len_crlf = 44,
                                  .lines = 4,
                                  .is_message = 1,
                                  .msg_header_len = 20,
                                  .msg_header_len_crlf = 22}};
    struct mime_summary s = {.envelope = "(NIL {3}\r\na\nb NIL)",
                             .body = "b",
                             .bodystructure = "bs",
                             .sent_date = -86400,
                             .sort_subject = "",
                             .sort_from = "f",
                             .sort_to = "t",
                             .sort_cc = "c",
                             .display_from = "F",
                             .display_to = "T",
                             .message_id = "<m@x>",
                             .in_reply_to = "",
                             .references = "<a@b> <c@d>",
                             .nparts = 2,
                             .parts = parts,
                             .subject_reply = 1};
    char *text = mime_summary_serialise(&s);
    struct mime_summary *back = mime_summary_parse(text);
    assert_non_null(back);
    assert_same(&s, back);
    assert_int_equal(mime_summary_part(back, "1.22.3")->msg_header_len, 20);
    assert_null(mime_summary_part(back, "1.22"));
    assert_null(mime_summary_part(back, NULL));
    mime_summary_free(back);
    free(text);
}

/* Every prefix of a valid entry, and single-byte changes in its numbers,
 * are refused or parse to something self-consistent; never a crash. */
static void truncated_and_corrupt(void **state)
{
    struct mime_summary *s = summary_of(MSG_NESTED);
    char *text = mime_summary_serialise(s);
    size_t n = strlen(text);
    for (size_t cut = 0; cut < n; cut++) {
        char *prefix = strndup(text, cut);
        assert_null(mime_summary_parse(prefix));
        free(prefix);
    }
    const char *bad[] = {
        "",
        "portico-summary 2\n",
        "portico-summary 1\n99999999999999999999999:x\n",
        "portico-summary 1\n5:ab\n",
        "portico-summary 1\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0 0 0\n",
        "portico-summary 1\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0 2 1\n"
        "0: 0 0 0 0 0 0 0 0 0 0\n",
        /* parts[0] must be the whole message */
        "portico-summary 1\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0 0 1\n"
        "1:1 0 0 0 0 0 0 0 0 0 0\n",
        /* CRLF size below the LF size */
        "portico-summary 1\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0 0 1\n"
        "0: 0 5 4 0 0 0 0 0 0 0\n",
        /* a bad section */
        "portico-summary 1\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0 0 2\n"
        "0: 0 0 0 0 0 0 0 0 0 0\n2:1. 0 0 0 0 0 0 0 0 0 0\n",
        /* trailing garbage */
        "portico-summary 1\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0 0 1\n"
        "0: 0 0 0 0 0 0 0 0 0 0\nx",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_null(mime_summary_parse(bad[i]));
    const char *good =
        "portico-summary 1\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n0:\n"
        "0 0 1\n0: 0 0 0 0 0 0 0 0 0 0\n";
    struct mime_summary *g = mime_summary_parse(good);
    assert_non_null(g);
    mime_summary_free(g);
    assert_null(mime_summary_parse(NULL));
    assert_null(mime_summary_serialise(NULL));
    free(text);
    mime_summary_free(s);
}

/* Not a summary, a cut length or a missing newline: NULL, never a read
 * past the text. */
static void envelope_of_bad_texts(void **state)
{
    size_t n;
    assert_null(mime_summary_envelope(NULL, &n));
    assert_null(mime_summary_envelope("", &n));
    assert_null(mime_summary_envelope("portico-summary 2\n3:(a)\n", &n));
    assert_null(mime_summary_envelope("portico-summary 1\n30:(NIL)\n", &n));
    assert_null(mime_summary_envelope("portico-summary 1\n5:(NIL)", &n));
    assert_null(mime_summary_envelope("portico-summary 1\nx:(NIL)\n", &n));
    const char *env = mime_summary_envelope("portico-summary 1\n5:(NIL)\n", &n);
    assert_non_null(env);
    assert_int_equal(n, 5);
    assert_memory_equal(env, "(NIL)", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(round_trip_by_hand),
        cmocka_unit_test(truncated_and_corrupt),
        cmocka_unit_test(envelope_of_bad_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
