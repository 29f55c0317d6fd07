/* Unit tests of httpmsg/request.c: every request is also fed one byte at a time,
 * and each proper prefix must say "need more" (or the same error early). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg/request.h"

static struct http_request req;

/* Parses text; checks that each prefix needs more; returns the result. */
static int parse_all(const char *text)
{
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        int rc = http_parse_request(text, i, &req);
        if (rc == HTTP_PARSE_ERROR)
            return rc; /* an error may be seen before the end */
        assert_int_equal(rc, HTTP_PARSE_MORE);
    }
    return http_parse_request(text, len, &req);
}

static int status_of(const char *text)
{
    int rc = parse_all(text);
    if (rc == HTTP_PARSE_ERROR)
        return req.status;
    assert_true(rc > 0);
    return http_request_check(&req) < 0 ? req.status : 200;
}

static void simple_get(void **state)
{
    const char *t =
        "GET /a/b?x=1 HTTP/1.1\r\nHost: example.org\r\nX-Y:  v v \r\n\r\nNEXT";
    size_t head = (size_t)(strstr(t, "NEXT") - t);
    for (size_t i = 0; i < head; i++)
        assert_int_equal(http_parse_request(t, i, &req), HTTP_PARSE_MORE);
    int rc = http_parse_request(t, strlen(t), &req);
    assert_int_equal(rc, (int)head);
    assert_int_equal(req.m, HTTP_M_GET);
    assert_int_equal(req.minor, 1);
    assert_int_equal(req.target.n, 8);
    assert_int_equal(req.nheaders, 2);
    assert_memory_equal(req.headers[1].value.p, "v v", 3);
    assert_int_equal(req.headers[1].value.n, 3);
    assert_int_equal(http_request_check(&req), 0);
    assert_true(req.keep_alive);
    assert_non_null(http_request_get(&req, HH_HOST));
}

static void bare_lf_and_leading_empty_lines(void **state)
{
    assert_int_equal(status_of("\r\nGET / HTTP/1.0\n\n"), 200);
    assert_false(req.keep_alive);
    assert_int_equal(status_of("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 200);
    assert_true(req.keep_alive);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"),
                     200);
    assert_false(req.keep_alive);
}

static void versions(void **state)
{
    assert_int_equal(status_of("GET / HTTP/2.0\r\n\r\n"), 505);
    assert_int_equal(status_of("GET / HTTP/0.9\r\n\r\n"), 505);
    assert_int_equal(status_of("GET / HTTP/1\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / http/1.1\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /\r\n\r\n"), 400);
}

static void malformed_lines(void **state)
{
    assert_int_equal(status_of("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHo\x01st: a\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    assert_int_equal(status_of("\x16\x03\x01\x02\x00\x01"), 400); /* a TLS hello */
    assert_int_equal(status_of("GET / HTTP/1.1\r\n\r\n"), 400);   /* no Host */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
}

static void framing(void **state)
{
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"),
                     200);
    assert_true(req.has_length);
    assert_int_equal(req.content_length, 5);
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"),
                     400);
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                               "Content-Length: 5\r\n\r\n"),
                     400);
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n"), 400);
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
    assert_int_equal(
        status_of(
            "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n"),
        400);
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"),
        200);
    assert_true(req.chunked);
    assert_int_equal(
        status_of(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
        501);
    assert_int_equal(
        status_of(
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
        400);
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"),
        400);
    assert_int_equal(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
                     400);
    assert_int_equal(
        status_of("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"), 200);
    assert_true(req.expect_continue);
    assert_int_equal(status_of("PUT / HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n"),
                     417);
}

static void limits(void **state)
{
    size_t n = HTTP_MAX_REQUEST_LINE + 100;
    char *t = malloc(n + 1);
    memcpy(t, "GET /", 5);
    memset(t + 5, 'a', n - 5);
    t[n] = '\0';
    assert_int_equal(http_parse_request(t, n, &req), HTTP_PARSE_ERROR);
    assert_int_equal(req.status, 414);
    free(t);
    /* Too many fields, and too many bytes of fields. */
    size_t cap = 64 + 12 * 10000;
    t = malloc(cap);
    size_t o = (size_t)snprintf(t, cap, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 10000; i++)
        o += (size_t)snprintf(t + o, cap - o, "X-%05d: v\r\n", i);
    assert_int_equal(http_parse_request(t, o, &req), HTTP_PARSE_ERROR);
    assert_int_equal(req.status, 431);
    free(t);
    cap = HTTP_MAX_HEADER_BYTES + 200;
    t = malloc(cap);
    o = (size_t)snprintf(t, cap, "GET / HTTP/1.1\r\nX: ");
    memset(t + o, 'v', cap - o);
    assert_int_equal(http_parse_request(t, cap, &req), HTTP_PARSE_ERROR);
    assert_int_equal(req.status, 431);
    free(t);
}

static void methods_case_sensitive(void **state)
{
    assert_int_equal(status_of("get / HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
    assert_int_equal(req.m, HTTP_M_UNKNOWN);
    assert_int_equal(status_of("BREW / HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
    assert_int_equal(req.m, HTTP_M_UNKNOWN);
    assert_int_equal(status_of("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n"), 200);
    assert_int_equal(req.m, HTTP_M_DELETE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple_get),
        cmocka_unit_test(bare_lf_and_leading_empty_lines),
        cmocka_unit_test(versions),
        cmocka_unit_test(malformed_lines),
        cmocka_unit_test(framing),
        cmocka_unit_test(limits),
        cmocka_unit_test(methods_case_sensitive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
