/* Unit tests of the text side of the MIME layer: RFC 5256 2.1 base
 * subjects, RFC 5322 address lists as IMAP addresses, and the SEARCH text
 * (decoded headers, decoded bodies of QP and base64 parts in ISO-8859-1
 * and UTF-8, case folding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "mime/addr.h"
#include "mime/module.h"
#include "mime/subject.h"
#include "mime_test.h"

#include <stdbool.h>
#include <stdlib.h>

static void expect_base(const char *subject, const char *base, bool reply)
{
    bool r = !reply;
    char *b = mime_base_subject(subject, &r);
    assert_non_null(b);
    assert_string_equal(b, base);
    assert_int_equal(r, reply);
    free(b);
}

static void base_subjects(void **state)
{
    expect_base("hello", "hello", false);
    expect_base("Re: hello", "hello", true);
    expect_base("RE: Re: re:hello", "hello", true);
    expect_base("Fwd: hello", "hello", true);
    expect_base("Fw: hello", "hello", true);
    expect_base("Re[2]: hello", "hello", true);     /* refwd with a blob */
    expect_base("[list] Re: hello", "hello", true); /* *subj-blob subj-refwd */
    expect_base("[list] hello", "hello", false);    /* step 4 */
    expect_base("[list]", "[list]", false);         /* blob kept if nothing else */
    expect_base("hello (fwd)", "hello", true);      /* subj-trailer */
    expect_base("hello (FWD) (fwd)  ", "hello", true);
    expect_base("[fwd: Re: hello]", "hello", true);     /* step 6 */
    expect_base("[Fwd: [fwd: hello] ]", "hello", true); /* repeated from step 2 */
    expect_base("  Re:   lots \t of\r\n  space  ", "lots of space", true);
    expect_base("Referendum", "Referendum", false); /* "re" needs the colon */
    expect_base("Re hello", "Re hello", false);
    expect_base("", "", false);
    expect_base(NULL, "", false);
    expect_base("Re: ", "", true);
}

static void addresses(void **state)
{
    struct mime_addr_list l;
    assert_int_equal(
        mime_addr_parse("\"Doe, John\" <john@example.com>, jane@x.org (Jane D), "
                        "<@relay.net,@r2.net:odd@y.org>",
                        &l),
        0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.a[0].name, "Doe, John");
    assert_string_equal(l.a[0].mailbox, "john");
    assert_string_equal(l.a[0].host, "example.com");
    assert_string_equal(l.a[1].name, "Jane D"); /* comment as the name */
    assert_string_equal(l.a[1].host, "x.org");
    assert_string_equal(l.a[2].route, "@relay.net,@r2.net");
    assert_string_equal(l.a[2].mailbox, "odd");
    mime_addr_release(&l);

    /* RFC 5322 3.4 groups, an empty one included. */
    assert_int_equal(mime_addr_parse("Friends: a@b.c, Bob <bob@d.e>;, Nobody:;", &l), 0);
    assert_int_equal(l.n, 6);
    assert_int_equal(l.a[0].kind, MIME_ADDR_GROUP_START);
    assert_string_equal(l.a[0].name, "Friends");
    assert_string_equal(l.a[2].name, "Bob");
    assert_int_equal(l.a[3].kind, MIME_ADDR_GROUP_END);
    assert_int_equal(l.a[4].kind, MIME_ADDR_GROUP_START);
    assert_int_equal(l.a[5].kind, MIME_ADDR_GROUP_END);
    assert_int_equal(mime_addr_mailboxes(&l), 2);
    mime_addr_release(&l);

    /* Junk never crashes; a local part alone gets the placeholder host. */
    assert_int_equal(mime_addr_parse("root, <>, @@@, \"unterminated", &l), 0);
    assert_string_equal(l.a[0].mailbox, "root");
    assert_string_equal(l.a[0].host, "MISSING_DOMAIN");
    mime_addr_release(&l);
    assert_int_equal(mime_addr_parse(NULL, &l), 0);
    assert_int_equal(l.n, 0);
    mime_addr_release(&l);
}

static char *body_text(const char *msg, size_t max)
{
    int fd = msg_fd(msg);
    char *s = portico_mime_search_body(fd, max);
    close(fd);
    assert_non_null(s);
    return s;
}

static void search_bodies(void **state)
{
    const char *msg =
        "Subject: =?iso-8859-1?q?Caf=E9?= =?utf-8?b?w4ljbGFpcg==?=\n"
        "Subject: second\n"
        "Content-Type: multipart/mixed; boundary=s\n\n"
        "--s\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\nCaf=E9 CR=C8ME=\n br=FBl=E9e\n"
        "--s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: "
        "base64\n\n"
        "w4ljbGFpciBBVSBDSE9DT0xBVA==\n"
        "--s\nContent-Type: text/html; charset=iso-8859-1\nContent-Transfer-Encoding: "
        "base64\n\n"
        "PGI+U2Now7ZuPC9iPg==\n"
        "--s\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\nQk9HVVM=\n"
        "--s--\n";
    char *s = body_text(msg, 4096);
    /* QP soft line break joined, Latin-1 converted, everything folded. */
    assert_non_null(strstr(s, "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9"
                              "e"));
    assert_non_null(strstr(s, "\xc3\xa9"
                              "clair au chocolat"));
    assert_null(strstr(s, "bogus")); /* image/png is not text */
    /* The html part declares ISO-8859-1 but holds UTF-8 bytes; converted
     * as declared, it still comes out valid UTF-8. */
    assert_true(g_utf8_validate(s, -1, NULL));
    free(s);
    s = body_text(msg, 6);
    assert_true(strlen(s) <= 6);
    assert_true(g_utf8_validate(s, -1, NULL));
    free(s);

    int fd = msg_fd(msg);
    char *h = portico_mime_search_header(fd, "SUBJECT");
    /* RFC 2047 6.2: the space between two encoded words is not text. */
    assert_string_equal(h, "caf\xc3\xa9\xc3\xa9"
                           "clair\nsecond");
    free(h);
    h = portico_mime_search_header(fd, "X-Absent");
    assert_string_equal(h, "");
    free(h);
    close(fd);
}

static void case_folding(void **state)
{
    char *f = portico_mime_casefold("Stra\xc3\x9f"
                                    "e \xc3\x89T\xc3\x89");
    assert_string_equal(f, "strasse \xc3\xa9t\xc3\xa9"); /* full folding: sharp s */
    free(f);
    f = mime_casefold("ABC"); /* through the loader */
    assert_string_equal(f, "abc");
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(base_subjects),
        cmocka_unit_test(addresses),
        cmocka_unit_test(search_bodies),
        cmocka_unit_test(case_folding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
