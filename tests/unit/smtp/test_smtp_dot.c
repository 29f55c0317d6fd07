/* test_smtp_dot: the DATA terminator and dot-unstuffing, fed whole and one
 * byte at a time; bare CR/LF never end the data (smuggling). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "smtp/dot.h"

/* Feeds in (step bytes per call); returns consumed count, output in out. */
static size_t run(const char *in, size_t step, char *out, size_t *olen, bool *ended)
{
    struct dot d = {DOT_BOL};
    size_t n = strlen(in), i = 0;
    *olen = 0;
    while (i < n && d.st != DOT_END) {
        size_t chunk = n - i < step ? n - i : step, o = 0;
        i += dot_feed(&d, in + i, chunk, out + *olen, &o);
        *olen += o;
    }
    *ended = d.st == DOT_END;
    return i;
}

static void check(const char *in, const char *want, bool want_end, size_t want_used)
{
    char out[256];
    for (size_t step = 1; step <= strlen(in) + 1; step++) {
        size_t olen;
        bool ended;
        size_t used = run(in, step, out, &olen, &ended);
        assert_int_equal(ended, want_end);
        assert_int_equal(olen, strlen(want));
        assert_memory_equal(out, want, olen);
        if (want_end)
            assert_int_equal(used, want_used);
    }
}

static void test_terminator(void **state)
{
    check("a\r\n.\r\nMAIL", "a\r\n", true, 6);
    check(".\r\n", "", true, 3);
    check("..x\r\n.\r\n", ".x\r\n", true, 8);
    check(".x\r\n.\r\n", "x\r\n", true, 7);
}

static void test_smuggling(void **state)
{
    check("a\n.\nb", "a\n.\nb", false, 0);
    check("a\r.\rb", "a\r.\rb", false, 0);
    check("a\r\n.\nb", "a\r\n\nb", false, 0);
    check("a\n.\r\nb", "a\n.\r\nb", false, 0);
    check("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", true, 11);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_terminator),
        cmocka_unit_test(test_smuggling),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
