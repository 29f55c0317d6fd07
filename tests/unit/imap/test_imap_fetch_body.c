/* Unit tests of imap/fetch_body.c: LF to CRLF in chunks with partial
 * windows (RFC 9051 6.4.5 <partial>), CRLF lengths, HEADER.FIELDS(.NOT)
 * filtering with continuation lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <event2/buffer.h>

#include "imap/fetch_body.h"

static char *convert(const char *in, size_t chunk, uint64_t skip, uint64_t take)
{
    struct evbuffer *o = evbuffer_new();
    struct crlf_conv c;
    crlf_conv_init(&c, skip, take);
    size_t n = strlen(in);
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        assert_int_equal(crlf_conv_feed(&c, in + i, k, o), 0);
    }
    size_t len = evbuffer_get_length(o);
    char *s = malloc(len + 1);
    evbuffer_remove(o, s, len);
    s[len] = 0;
    evbuffer_free(o);
    return s;
}

static void crlf(void **state)
{
    const char *in = "ab\ncd\r\nef\n\nx";
    const char *want = "ab\r\ncd\r\nef\r\n\r\nx";
    for (size_t chunk = 1; chunk <= strlen(in); chunk++) {
        char *s = convert(in, chunk, 0, UINT64_MAX);
        assert_string_equal(s, want);
        free(s);
        /* Every window, byte at a time. */
        for (uint64_t skip = 0; skip <= strlen(want); skip++)
            for (uint64_t take = 0; take + skip <= strlen(want); take++) {
                char *w = convert(in, chunk, skip, take);
                assert_int_equal(strlen(w), take);
                assert_memory_equal(w, want + skip, take);
                free(w);
            }
    }
    bool cr = false;
    assert_int_equal(crlf_length(in, strlen(in), &cr), strlen(want));
    cr = false;
    assert_int_equal(crlf_length("a\r", 2, &cr), 2);
    assert_true(cr);
    assert_int_equal(crlf_length("\n", 1, &cr), 1); /* CR carried over */
}

static char *filter(const char *hdr, const char *const *names, size_t n, bool not )
{
    char *out = malloc(strlen(hdr) + 2);
    size_t len = fetch_header_filter(hdr, strlen(hdr), names, n, not, out);
    out[len] = 0;
    return out;
}

static void fields(void **state)
{
    const char *hdr =
        "From: a@b\nSubject: one\n two\nTo: c@d\nX-Sub: z\nsubject: again\n\n";
    const char *subj[] = {"SUBJECT"};
    char *s = filter(hdr, subj, 1, false);
    assert_string_equal(s, "Subject: one\n two\nsubject: again\n\n");
    free(s);
    s = filter(hdr, subj, 1, true);
    assert_string_equal(s, "From: a@b\nTo: c@d\nX-Sub: z\n\n");
    free(s);
    const char *none[] = {"Cc"};
    s = filter(hdr, none, 1, false);
    assert_string_equal(s, "\n");
    free(s);
    /* No blank line at the end of the header; a line without a colon. */
    s = filter("To: x\nbogus line\nFrom: y", (const char *[]){"from", "to"}, 2, false);
    assert_string_equal(s, "To: x\nFrom: y\n");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crlf),
        cmocka_unit_test(fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
