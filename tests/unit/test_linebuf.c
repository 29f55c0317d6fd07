/* Unit tests of core/linebuf.c, fed whole and one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include <string.h>

#include "core/linebuf.h"

#define MAX 16

struct result {
    int ok, too_long;
    char lines[8][MAX + 1];
};

/* Feeds text in chunks of `step` bytes and collects what comes out. */
static void feed(const char *text, size_t len, size_t step, struct result *r)
{
    struct evbuffer *in = evbuffer_new();
    struct linebuf lb = {0};
    memset(r, 0, sizeof *r);
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        evbuffer_add(in, text + off, n);
        char out[MAX + 1];
        size_t outlen;
        enum line_status st;
        while ((st = linebuf_next(&lb, in, MAX, out, &outlen)) != LINE_MORE) {
            if (st == LINE_TOO_LONG)
                r->too_long++;
            else if (r->ok < 8)
                memcpy(r->lines[r->ok++], out, outlen + 1);
        }
        assert_true(evbuffer_get_length(in) < MAX);
    }
    evbuffer_free(in);
}

static void crlf_and_bare_lf(void **state)
{
    const char t[] = "NOOP\r\nQUIT\nX\r\r\n\r\n";
    for (size_t step = 1; step <= sizeof t; step++) {
        struct result r;
        feed(t, sizeof t - 1, step, &r);
        assert_int_equal(r.ok, 4);
        assert_string_equal(r.lines[0], "NOOP");
        assert_string_equal(r.lines[1], "QUIT");
        assert_string_equal(r.lines[2], "X\r");
        assert_string_equal(r.lines[3], "");
        assert_int_equal(r.too_long, 0);
    }
}

static void exact_limit(void **state)
{
    /* 14 bytes + CRLF = 16 = MAX: accepted; one more is too long. */
    struct result r;
    const char t[] = "ABCDEFGHIJKLMN\r\nABCDEFGHIJKLMNO\r\nOK\r\n";
    feed(t, sizeof t - 1, 1, &r);
    assert_int_equal(r.ok, 2);
    assert_string_equal(r.lines[0], "ABCDEFGHIJKLMN");
    assert_string_equal(r.lines[1], "OK");
    assert_int_equal(r.too_long, 1);
}

static void huge_line_reported_once(void **state)
{
    char big[100000];
    memset(big, 'x', sizeof big);
    memcpy(big + sizeof big - 6, "\nOK\r\n", 5);
    for (size_t step = 1; step < 5000; step = step * 7 + 1) {
        struct result r;
        feed(big, sizeof big - 1, step, &r);
        assert_int_equal(r.too_long, 1);
        assert_int_equal(r.ok, 1);
        assert_string_equal(r.lines[0], "OK");
    }
}

static void nul_is_kept(void **state)
{
    struct evbuffer *in = evbuffer_new();
    struct linebuf lb = {0};
    evbuffer_add(in, "AB\0CD\r\n", 7);
    char out[MAX + 1];
    size_t n;
    assert_int_equal(linebuf_next(&lb, in, MAX, out, &n), LINE_OK);
    assert_int_equal(n, 5);
    assert_int_equal(strlen(out), 2);
    evbuffer_free(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crlf_and_bare_lf),
        cmocka_unit_test(exact_limit),
        cmocka_unit_test(huge_line_reported_once),
        cmocka_unit_test(nul_is_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
