/* Unit tests of httpmsg/chunked.c, fed whole and one byte at a time. */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "httpmsg/chunked.h"

/* Decodes text in steps of `step`; returns the final rc, body in out. */
static enum http_chunked_rc decode(const char *text, size_t len, size_t step, char *out,
                                   size_t *olen, size_t *consumed)
{
    struct http_chunked d;
    http_chunked_init(&d);
    *olen = 0;
    size_t off = 0;
    enum http_chunked_rc rc = HTTP_CHUNKED_MORE;
    while (off < len) {
        size_t n = len - off < step ? len - off : step, used, dlen;
        rc = http_chunked_feed(&d, text + off, n, &used, &dlen);
        memcpy(out + *olen, text + off + used - dlen, dlen);
        *olen += dlen;
        off += used;
        if (rc == HTTP_CHUNKED_DONE || rc == HTTP_CHUNKED_ERROR)
            break;
    }
    *consumed = off;
    return rc;
}

static void check(const char *text, enum http_chunked_rc want, const char *body)
{
    for (size_t step = 1; step <= strlen(text); step += step < 4 ? 1 : 7) {
        char out[256];
        size_t olen, used;
        enum http_chunked_rc rc = decode(text, strlen(text), step, out, &olen, &used);
        assert_int_equal(rc, want);
        if (body) {
            assert_int_equal(olen, strlen(body));
            assert_memory_equal(out, body, olen);
        }
    }
}

static void good(void **state)
{
    check("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n", HTTP_CHUNKED_DONE,
          "hello world");
    check("A\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n", HTTP_CHUNKED_DONE, "0123456789");
    check("000\r\n\r\n", HTTP_CHUNKED_DONE, "");
}

static void stops_at_end(void **state)
{
    const char *t = "1\r\na\r\n0\r\n\r\nGET / HTTP/1.1\r\n";
    char out[64];
    size_t olen, used;
    assert_int_equal(decode(t, strlen(t), 1, out, &olen, &used), HTTP_CHUNKED_DONE);
    assert_int_equal(used, strlen("1\r\na\r\n0\r\n\r\n"));
}

static void bad(void **state)
{
    check("5\nhello\r\n0\r\n\r\n", HTTP_CHUNKED_ERROR, NULL);    /* bare LF */
    check("5\r\nhelloX\r\n0\r\n\r\n", HTTP_CHUNKED_ERROR, NULL); /* data too long */
    check("x\r\n", HTTP_CHUNKED_ERROR, NULL);
    check("\r\n", HTTP_CHUNKED_ERROR, NULL);
    check("11111111111111111\r\n", HTTP_CHUNKED_ERROR, NULL); /* > 64 bits */
    check("5\r\nhello\r\n0\r\nX: \x01\r\n\r\n", HTTP_CHUNKED_ERROR, NULL);
    /* RFC 9112 7.1: after the hex digits only BWS ";" ext or CRLF. A proxy
     * reading "0x38" as 56 and us as 0 would frame the body differently. */
    check("0x38\r\n", HTTP_CHUNKED_ERROR, NULL);
    check("5g\r\nhello\r\n0\r\n\r\n", HTTP_CHUNKED_ERROR, NULL);
    check("5 5\r\nhello\r\n0\r\n\r\n", HTTP_CHUNKED_ERROR, NULL);
    check("5 x;a\r\nhello\r\n0\r\n\r\n", HTTP_CHUNKED_ERROR, NULL);
}

static void bws_before_extension(void **state)
{
    check("5 ;a=b\r\nhello\r\n0\t\r\n\r\n", HTTP_CHUNKED_DONE, "hello");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good),
        cmocka_unit_test(stops_at_end),
        cmocka_unit_test(bad),
        cmocka_unit_test(bws_before_extension),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
