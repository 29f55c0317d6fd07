/* Unit tests of pop3/stream.c: CRLF, byte-stuffing and TOP, fed whole and
 * in every chunk size so each "need more" path runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/stream.h"

static char *convert(const char *in, bool top, uint64_t lines, size_t step)
{
    struct pop3_conv c;
    struct evbuffer *out = evbuffer_new();
    pop3_conv_init(&c, top, lines);
    size_t len = strlen(in);
    for (size_t off = 0; off < len && !c.done; off += step) {
        size_t n = len - off < step ? len - off : step;
        pop3_conv_feed(&c, in + off, n, out);
    }
    pop3_conv_finish(&c, out);
    size_t outlen = evbuffer_get_length(out);
    char *s = malloc(outlen + 1);
    evbuffer_remove(out, s, outlen);
    s[outlen] = '\0';
    evbuffer_free(out);
    return s;
}

static void check_all_steps(const char *in, bool top, uint64_t lines, const char *want)
{
    for (size_t step = 1; step <= strlen(in) + 1; step++) {
        char *got = convert(in, top, lines, step);
        if (strcmp(got, want) != 0)
            fail_msg("step %zu: got \"%s\" want \"%s\"", step, got, want);
        free(got);
    }
}

static void crlf_and_stuffing(void **state)
{
    check_all_steps("Subject: x\n\n.hidden\n..two\nend.\n.\n",
                    false, 0, "Subject: x\r\n\r\n..hidden\r\n...two\r\nend.\r\n..\r\n");
}

static void existing_crlf_kept(void **state)
{
    check_all_steps("A: b\r\n\r\nbody\r\n", false, 0, "A: b\r\n\r\nbody\r\n");
}

static void unterminated_last_line(void **state)
{
    check_all_steps("A: b\n\nlast", false, 0, "A: b\r\n\r\nlast\r\n");
}

static void top_counts_body_lines(void **state)
{
    const char *msg = "From: a\nSubject: s\n\none\n.two\nthree\n";
    check_all_steps(msg, true, 0, "From: a\r\nSubject: s\r\n\r\n");
    check_all_steps(msg, true, 2, "From: a\r\nSubject: s\r\n\r\none\r\n..two\r\n");
    check_all_steps(msg, true, 99, "From: a\r\nSubject: s\r\n\r\none\r\n..two\r\nthree\r\n");
    /* A CRLF blank line ends the header too. */
    check_all_steps("A: 1\r\n\r\nx\r\ny\r\n", true, 1, "A: 1\r\n\r\nx\r\n");
}

static void headers_only(void **state)
{
    check_all_steps("A: 1\nB: 2", true, 5, "A: 1\r\nB: 2\r\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crlf_and_stuffing),   cmocka_unit_test(existing_crlf_kept),
        cmocka_unit_test(unterminated_last_line), cmocka_unit_test(top_counts_body_lines),
        cmocka_unit_test(headers_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
