/* Unit tests of http/multipart.c, fed whole and one byte at a time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/multipart.h"

struct collect {
    int parts, ends;
    char data[4][256];
    size_t len[4];
    char names[4][64];
};

static int on_part(void *arg, const char *hdr, size_t n)
{
    struct collect *c = arg;
    if (http_multipart_filename(hdr, n, c->names[c->parts], 64) < 0)
        return -1;
    c->parts++;
    return 0;
}

static int on_data(void *arg, const char *p, size_t n)
{
    struct collect *c = arg;
    memcpy(c->data[c->parts - 1] + c->len[c->parts - 1], p, n);
    c->len[c->parts - 1] += n;
    return 0;
}

static int on_end(void *arg)
{
    ((struct collect *)arg)->ends++;
    return 0;
}

static const struct http_multipart_cb cb = {on_part, on_data, on_end};

static const char body[] =
    "preamble\r\n--XyZ\r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"C:\\\\dir\\\\a.txt\"\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "line1\r\n--XyNOT\r\r\n--Xy\r\n"
    "\r\n--XyZ\r\n"
    "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
    "hello\r\n--XyZ--\r\nepilogue";

static void feed(size_t step, struct collect *c)
{
    struct http_multipart m;
    const char *ct = "multipart/form-data; boundary=XyZ";
    memset(c, 0, sizeof *c);
    assert_int_equal(http_multipart_init(&m, (struct http_str){ct, strlen(ct)}, &cb, c), 0);
    size_t len = sizeof body - 1;
    for (size_t off = 0; off < len; off += step) {
        size_t n = len - off < step ? len - off : step;
        assert_int_equal(http_multipart_feed(&m, body + off, n), 0);
    }
    assert_true(http_multipart_done(&m));
}

static void parts(void **state)
{
    for (size_t step = 1; step < sizeof body; step++) {
        struct collect c;
        feed(step, &c);
        assert_int_equal(c.parts, 2);
        assert_int_equal(c.ends, 2);
        assert_string_equal(c.names[0], "a.txt");
        assert_string_equal(c.names[1], "");
        const char want[] = "line1\r\n--XyNOT\r\r\n--Xy\r\n";
        assert_int_equal(c.len[0], sizeof want - 1);
        assert_memory_equal(c.data[0], want, sizeof want - 1);
        assert_int_equal(c.len[1], 5);
    }
}

static void bad_types(void **state)
{
    struct http_multipart m;
    struct collect c;
    const char *bad[] = {"text/plain", "multipart/form-data", "multipart/form-data; boundary=",
                         "multipart/mixed; boundary=a"};
    for (int i = 0; i < 4; i++)
        assert_int_equal(http_multipart_init(&m, (struct http_str){bad[i], strlen(bad[i])}, &cb, &c), -1);
    const char *q = "multipart/form-data; boundary=\"a b\"";
    assert_int_equal(http_multipart_init(&m, (struct http_str){q, strlen(q)}, &cb, &c), 0);
}

static void filenames(void **state)
{
    char out[64];
    static const char ok[] = "Content-Disposition: form-data; name=\"f\"; filename=\"dir/sub/a.txt\"";
    assert_int_equal(http_multipart_filename(ok, sizeof ok - 1, out, sizeof out), 1);
    assert_string_equal(out, "a.txt");
    static const char win[] = "Content-Disposition: form-data; filename=\"C:\\dir\\b.txt\"";
    assert_int_equal(http_multipart_filename(win, sizeof win - 1, out, sizeof out), 1);
    assert_string_equal(out, "b.txt");
    static const char nul[] = "Content-Disposition: form-data; filename=\"ab\0cd\"";
    assert_int_equal(http_multipart_filename(nul, sizeof nul - 1, out, sizeof out), -1);
    static const char ctl[] = "Content-Disposition: form-data; filename=\"a\x01b\"";
    assert_int_equal(http_multipart_filename(ctl, sizeof ctl - 1, out, sizeof out), -1);
    static const char none[] = "Content-Disposition: form-data; name=\"f\"";
    assert_int_equal(http_multipart_filename(none, sizeof none - 1, out, sizeof out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parts),
        cmocka_unit_test(bad_types),
        cmocka_unit_test(filenames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
