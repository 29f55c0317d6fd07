/* Unit tests of the MIME structure: BODYSTRUCTURE, BODY and ENVELOPE of
 * real-world shaped messages against strings written from RFC 9051 7.5.2
 * (sizes are CRLF sizes, worked out by hand from the LF text), the part
 * map against the bytes, and the scanner fed a byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "messages.h"
#include "mime/envelope.h"
#include "mime/limits.h"
#include "mime/module.h"
#include "mime/scan.h"
#include "mime/summary.h"
#include "mime_test.h"

#include <stdio.h>
#include <stdlib.h>

static struct mime_summary *summary_of(const char *text)
{
    int fd = msg_fd(text);
    assert_true(fd >= 0);
    struct mime_summary *s = portico_mime_summary_fd(fd);
    close(fd);
    assert_non_null(s);
    return s;
}

/* The part's body is exactly `body`, its CRLF sizes agree with the bytes,
 * and its header ends with the blank line (or is empty). */
static void check_part(const char *msg, const struct mime_summary *s, const char *section,
                       const char *body)
{
    const struct mime_part *p = mime_summary_part(s, section);
    assert_non_null(p);
    assert_int_equal(p->body_len, strlen(body));
    assert_memory_equal(msg + p->body_off, body, p->body_len);
    assert_int_equal(p->body_len_crlf,
                     p->body_len + count_lf(msg + p->body_off, p->body_len));
    assert_int_equal(p->header_len_crlf,
                     p->header_len + count_lf(msg + p->header_off, p->header_len));
    assert_int_equal(p->header_off + p->header_len, p->body_off);
    if (p->header_len >= 2)
        assert_memory_equal(msg + p->body_off - 2, "\n\n", 2);
}

static void plain_text_without_mime_headers(void **state)
{
    struct mime_summary *s = summary_of(MSG_PLAIN);
    /* RFC 2045 5.2: no Content-Type is text/plain; charset=us-ascii. Body
     * "line one\nline two\n": 18 octets, 20 with CRLF, 2 lines. */
    assert_string_equal(s->bodystructure,
                        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL "
                        "NIL \"7BIT\" 20 2 NIL NIL NIL NIL)");
    assert_string_equal(
        s->body, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 20 2)");
    /* Sender and Reply-To absent: copies of From (7.5.2). */
    assert_string_equal(s->envelope,
                        "(\"Tue, 1 Dec 2026 10:00:00 +0000\" \"hello\" "
                        "((\"Alice\" NIL \"alice\" \"example.org\")) "
                        "((\"Alice\" NIL \"alice\" \"example.org\")) "
                        "((\"Alice\" NIL \"alice\" \"example.org\")) "
                        "((NIL NIL \"bob\" \"example.net\")) NIL NIL NIL NIL)");
    /* RFC 9051 6.4.5: a non-multipart message's only part is 1. */
    assert_int_equal(s->nparts, 2);
    assert_string_equal(s->parts[0].section, "");
    assert_int_equal(s->parts[0].header_len, 105);
    assert_int_equal(s->parts[0].header_len_crlf, 110);
    assert_int_equal(s->parts[0].lines, 2);
    check_part(MSG_PLAIN, s, "", "line one\nline two\n");
    check_part(MSG_PLAIN, s, "1", "line one\nline two\n");
    assert_null(mime_summary_part(s, "2"));
    assert_null(mime_summary_part(s, "1.1"));
    mime_summary_free(s);
}

static void nested_mixed_alternative_related(void **state)
{
    struct mime_summary *s = summary_of(MSG_NESTED);
    assert_string_equal(
        s->bodystructure,
        "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 33 2 NIL NIL NIL "
        "NIL)"
        "((\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 78 2 "
        "NIL NIL "
        "NIL NIL)"
        "(\"IMAGE\" \"PNG\" (\"NAME\" \"logo.png\") \"<logo@example.com>\" NIL "
        "\"BASE64\" 12 NIL "
        "(\"INLINE\" (\"FILENAME\" \"logo.png\")) NIL NIL)"
        " \"RELATED\" (\"BOUNDARY\" \"rel\" \"TYPE\" \"text/html\") NIL NIL NIL)"
        " \"ALTERNATIVE\" (\"BOUNDARY\" \"alt\") NIL NIL NIL)"
        "(\"APPLICATION\" \"PDF\" (\"NAME\" \"q4.pdf\") NIL \"Q4 report\" \"BASE64\" 12 "
        "NIL "
        "(\"ATTACHMENT\" (\"FILENAME\" \"q4.pdf\" \"SIZE\" \"9\")) (\"en\" \"de\") "
        "\"http://example.com/q4.pdf\")"
        " \"MIXED\" (\"BOUNDARY\" \"mix\") NIL NIL NIL)");
    assert_string_equal(
        s->body,
        "(((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL \"7BIT\" 33 2)"
        "((\"TEXT\" \"HTML\" (\"CHARSET\" \"utf-8\") NIL NIL \"QUOTED-PRINTABLE\" 78 2)"
        "(\"IMAGE\" \"PNG\" (\"NAME\" \"logo.png\") \"<logo@example.com>\" NIL "
        "\"BASE64\" 12) \"RELATED\") \"ALTERNATIVE\")"
        "(\"APPLICATION\" \"PDF\" (\"NAME\" \"q4.pdf\") NIL \"Q4 report\" \"BASE64\" 12)"
        " \"MIXED\")");
    /* A quoted display name holding a colon is a name, not a group. */
    assert_string_equal(
        s->envelope,
        "(\"Wed, 2 Dec 2026 09:30:00 +0100\" \"Quarterly report\" "
        "((\"Carol Example\" NIL \"carol\" \"example.com\")) "
        "((\"Carol Example\" NIL \"carol\" \"example.com\")) "
        "((\"Carol Example\" NIL \"carol\" \"example.com\")) "
        "((\"Dave\" NIL \"dave\" \"example.net\")(NIL NIL \"eve\" \"example.org\")) "
        "((\"Team: ops\" NIL \"ops\" \"example.com\")) NIL NIL "
        "\"<q4@example.com>\")");
    const char *sections[] = {"", "1", "1.1", "1.2", "1.2.1", "1.2.2", "2"};
    assert_int_equal(s->nparts, 7);
    for (size_t i = 0; i < 7; i++)
        assert_string_equal(s->parts[i].section, sections[i]); /* depth first */
    check_part(MSG_NESTED, s, "1.1", "Hi Dave,\nthe report is attached.");
    check_part(MSG_NESTED, s, "1.2.2", "iVBORw0KGgo=");
    check_part(MSG_NESTED, s, "2", "JVBERi0xLjQK");
    const struct mime_part *alt = mime_summary_part(s, "1");
    assert_memory_equal(MSG_NESTED + alt->header_off,
                        "Content-Type: multipart/alternative", 35);
    assert_memory_equal(MSG_NESTED + alt->body_off, "--alt\n", 6);
    assert_memory_equal(MSG_NESTED + alt->body_off + alt->body_len - 8, "--alt--\n", 8);
    assert_int_equal(s->sent_date, 1796200200);
    assert_string_equal(s->sort_from, "carol");
    assert_string_equal(s->sort_to, "dave");
    assert_string_equal(s->sort_cc, "ops");
    assert_string_equal(s->display_from, "Carol Example");
    assert_string_equal(s->message_id, "<q4@example.com>");
    mime_summary_free(s);
}

static void message_rfc822_attachment(void **state)
{
    struct mime_summary *s = summary_of(MSG_RFC822);
    /* 7.5.2: MESSAGE/RFC822 has envelope, body structure and lines after
     * the basic fields; 341 = 325 octets + 16 LFs, 17 lines. */
    assert_string_equal(s->bodystructure,
                        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
                        "\"7BIT\" 10 1 NIL NIL NIL NIL)"
                        "(\"MESSAGE\" \"RFC822\" NIL NIL NIL \"7BIT\" 341 "
                        "(\"Wed, 2 Dec 2026 11:00:00 +0000\" \"lunch\" "
                        "((\"Hank\" NIL \"hank\" \"example.com\")) ((\"Hank\" NIL "
                        "\"hank\" \"example.com\")) "
                        "((\"Hank\" NIL \"hank\" \"example.com\")) ((NIL NIL \"fred\" "
                        "\"example.com\")) NIL NIL "
                        "NIL \"<lunch@example.com>\") "
                        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
                        "\"7BIT\" 5 1 NIL NIL NIL NIL)"
                        "(\"TEXT\" \"HTML\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" "
                        "12 1 NIL NIL NIL NIL)"
                        " \"ALTERNATIVE\" (\"BOUNDARY\" \"b2\") NIL NIL NIL) 17 NIL "
                        "(\"ATTACHMENT\" NIL) NIL "
                        "NIL) \"MIXED\" (\"BOUNDARY\" \"b1\") NIL NIL NIL)");
    const struct mime_part *m = mime_summary_part(s, "2");
    assert_non_null(m);
    assert_true(m->is_message);
    assert_int_equal(m->body_len_crlf, 341);
    assert_int_equal(m->lines, 17);
    /* 2.HEADER is the encapsulated header: 203 octets, 211 with CRLF. */
    assert_int_equal(m->msg_header_len, 203);
    assert_int_equal(m->msg_header_len_crlf, 211);
    assert_memory_equal(MSG_RFC822 + m->body_off, "From: Hank", 10);
    assert_memory_equal(MSG_RFC822 + m->body_off + m->msg_header_len - 2, "\n\n--b2", 6);
    assert_memory_equal(MSG_RFC822 + m->header_off, "Content-Type: message/rfc822\n", 29);
    check_part(MSG_RFC822, s, "2.1", "Noon?");
    check_part(MSG_RFC822, s, "2.2", "<p>Noon?</p>");
    assert_null(mime_summary_part(s, "3"));
    assert_string_equal(s->sort_subject, "lunch");
    assert_true(s->subject_reply);
    mime_summary_free(s);
}

static void rfc2231_parameters_are_decoded(void **state)
{
    struct mime_summary *s = summary_of(MSG_RFC2231);
    /* name*0*=utf-8''%E2%82%AC%20 name*1=rates.txt: "€ rates.txt", 13
     * octets of UTF-8, so a literal (RFC 9051 4.3). */
    assert_string_equal(s->bodystructure,
                        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
                        "\"7BIT\" 1 1 NIL NIL NIL NIL)"
                        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\" \"NAME\" "
                        "{13}\r\n\xe2\x82\xac rates.txt) NIL "
                        "NIL \"7BIT\" 5 1 NIL (\"ATTACHMENT\" (\"FILENAME\" "
                        "{13}\r\n\xe2\x82\xac rates.txt)) NIL "
                        "NIL) \"MIXED\" (\"BOUNDARY\" \"z\") NIL NIL NIL)");
    check_part(MSG_RFC2231, s, "2", "1 EUR");
    mime_summary_free(s);
}

static void eight_bit_and_encoded_words(void **state)
{
    struct mime_summary *s = summary_of(MSG_EIGHTBIT);
    /* Encoded words stay as the header has them; 8-bit text is a literal. */
    assert_string_equal(
        s->envelope,
        "(\"Fri, 4 Dec 2026 08:00:00 +0100\" {19}\r\nGr\xc3\xbc\xc3\x9f"
        "e aus Z\xc3\xbcrich "
        "((\"=?iso-8859-1?q?Andr=E9?= Muller\" NIL \"andre\" \"example.fr\")) "
        "((\"=?iso-8859-1?q?Andr=E9?= Muller\" NIL \"andre\" \"example.fr\")) "
        "((\"=?iso-8859-1?q?Andr=E9?= Muller\" NIL \"andre\" \"example.fr\")) "
        "(({4}\r\nZo\xc3\xab NIL \"zoe\" \"example.ch\")) NIL NIL NIL NIL)");
    assert_string_equal(s->bodystructure,
                        "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"utf-8\") NIL NIL "
                        "\"8BIT\" 9 1 NIL NIL NIL NIL)");
    /* The sort and display keys are decoded (RFC 5256 2.1, RFC 5957). */
    assert_string_equal(s->display_from, "Andr\xc3\xa9 Muller");
    assert_string_equal(s->sort_subject, "Gr\xc3\xbc\xc3\x9f"
                                         "e aus Z\xc3\xbcrich");
    mime_summary_free(s);
}

static void malformed_boundaries(void **state)
{
    /* No delimiter of the declared boundary: one empty part (1*body). */
    struct mime_summary *s = summary_of(MSG_BADBOUNDARY);
    assert_string_equal(s->body,
                        "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
                        "\"7BIT\" 0 0) \"MIXED\")");
    const struct mime_part *p = mime_summary_part(s, "1");
    assert_non_null(p);
    assert_int_equal(p->body_len, 0);
    mime_summary_free(s);
    /* No close delimiter: the last part runs to the end of the file and
     * its unterminated last line still counts. */
    s = summary_of(MSG_TRUNCATED);
    assert_string_equal(
        s->body, "((\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 5 1)"
                 "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 33 1)"
                 " \"MIXED\")");
    check_part(MSG_TRUNCATED, s, "2", "second, and the message ends here");
    mime_summary_free(s);
    /* multipart without a boundary: invalid, so text/plain (RFC 2045 5.2). */
    s = summary_of(MSG_NOBOUNDARY);
    assert_string_equal(s->body, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL "
                                 "\"7BIT\" 11 1)");
    mime_summary_free(s);
}

/* A part header ended by a delimiter (no blank line): the LF before the
 * delimiter is the delimiter's, so the body is empty and the encapsulated
 * header fits inside its message (found by fuzzing). */
static void header_cut_by_delimiter(void **state)
{
    const char *msg = "Content-Type: multipart/mixed; boundary=o\n\n"
                      "--o\nContent-Type: message/rfc822\n\nSubject: inner\n--o--\n";
    struct mime_summary *s = summary_of(msg);
    const struct mime_part *p = mime_summary_part(s, "1");
    assert_non_null(p);
    assert_true(p->is_message);
    assert_int_equal(p->body_len, strlen("Subject: inner"));
    assert_int_equal(p->msg_header_len, p->body_len);
    const struct mime_part *in = mime_summary_part(s, "1.1");
    assert_non_null(in);
    assert_int_equal(in->body_len, 0);
    assert_int_equal(in->body_off, p->body_off + p->body_len);
    mime_summary_free(s);
}

/* The scanner's results do not depend on how the reads are cut. */
static void scan_byte_at_a_time(void **state)
{
    const char *msgs[] = {MSG_PLAIN,    MSG_NESTED,    MSG_RFC822,      MSG_RFC2231,
                          MSG_EIGHTBIT, MSG_TRUNCATED, MSG_BADBOUNDARY, MSG_NOBOUNDARY};
    for (size_t m = 0; m < sizeof msgs / sizeof msgs[0]; m++) {
        int fd = msg_fd(msgs[m]);
        struct mime_scan whole, bytes;
        assert_int_equal(mime_scan_fd(fd, 0, false, &whole), 0);
        for (size_t step = 1; step <= 7; step += 6) {
            assert_int_equal(mime_scan_fd(fd, step, false, &bytes), 0);
            assert_int_equal(bytes.nent, whole.nent);
            for (size_t i = 0; i < whole.nent; i++) {
                const struct mime_entity *a = &whole.ent[i], *b = &bytes.ent[i];
                assert_int_equal(a->header_off, b->header_off);
                assert_int_equal(a->body_off, b->body_off);
                assert_int_equal(a->end_off, b->end_off);
                assert_int_equal(a->end_lf, b->end_lf);
                assert_int_equal(a->end_partial, b->end_partial);
                assert_int_equal(a->kind, b->kind);
            }
            mime_scan_release(&bytes);
        }
        assert_int_equal(whole.size, strlen(msgs[m]));
        assert_int_equal(whole.lfs, count_lf(msgs[m], strlen(msgs[m])));
        mime_scan_release(&whole);
        close(fd);
    }
}

/* A line longer than the read buffer is skipped whole, not split. */
static void long_lines(void **state)
{
    size_t n = MIME_READ_BUF * 2 + 10;
    const char *head = "Content-Type: multipart/mixed; boundary=q\n\n--q\n\n";
    const char *tail = "\n--q--\n";
    char *msg = malloc(strlen(head) + n + strlen(tail) + 1);
    memcpy(msg, head, strlen(head));
    memset(msg + strlen(head), 'x', n);
    memcpy(msg + strlen(head) + n, tail, strlen(tail) + 1);
    struct mime_summary *s = summary_of(msg);
    const struct mime_part *p = mime_summary_part(s, "1");
    assert_non_null(p);
    assert_int_equal(p->body_len, n);
    assert_int_equal(p->body_len_crlf, n);
    assert_int_equal(p->lines, 1);
    mime_summary_free(s);
    free(msg);
}

/* Deep nesting stops at MIME_MAX_DEPTH as octets, without recursion past it. */
static void deep_nesting(void **state)
{
    size_t levels = MIME_MAX_DEPTH + 10, cap = levels * 80 + 64;
    char *msg = malloc(cap);
    size_t o = 0;
    for (size_t i = 0; i < levels; i++)
        o += (size_t)snprintf(msg + o, cap - o,
                              "Content-Type: multipart/mixed; boundary=b%zu\n\n--b%zu\n",
                              i, i);
    snprintf(msg + o, cap - o, "\nleaf\n");
    struct mime_summary *s = summary_of(msg);
    assert_non_null(strstr(s->bodystructure, "\"APPLICATION\" \"OCTET-STREAM\""));
    mime_summary_free(s);
    free(msg);
}

/* Through the loader and the dlopen'd module, as the daemon calls it. */
static void through_the_loader(void **state)
{
    int fd = msg_fd(MSG_NESTED);
    struct mime_summary *s = mime_summary_fd(fd);
    assert_non_null(s);
    assert_int_equal(s->nparts, 7);
    char *env = mime_envelope_fd(fd);
    assert_string_equal(env, s->envelope);
    free(env);
    mime_summary_free(s);
    mime_summary_free(NULL);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_text_without_mime_headers),
        cmocka_unit_test(nested_mixed_alternative_related),
        cmocka_unit_test(message_rfc822_attachment),
        cmocka_unit_test(rfc2231_parameters_are_decoded),
        cmocka_unit_test(eight_bit_and_encoded_words),
        cmocka_unit_test(malformed_boundaries),
        cmocka_unit_test(header_cut_by_delimiter),
        cmocka_unit_test(scan_byte_at_a_time),
        cmocka_unit_test(long_lines),
        cmocka_unit_test(deep_nesting),
        cmocka_unit_test(through_the_loader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
