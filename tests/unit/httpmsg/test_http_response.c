/* Unit tests of httpmsg/response.c: every head is also fed one byte at a
 * time (each proper prefix must say "need more" or fail early), then the
 * framing rules of RFC 9112 6.3. */
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

#include "httpmsg/response.h"

static struct http_response resp;

static int parse_all(const char *text)
{
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        int rc = http_parse_response(text, i, &resp);
        if (rc == HTTP_PARSE_ERROR)
            return rc;
        assert_int_equal(rc, HTTP_PARSE_MORE);
    }
    return http_parse_response(text, len, &resp);
}

/* 0: parsed and framed; otherwise the error. */
static int frame(const char *text, bool head)
{
    int rc = parse_all(text);
    if (rc == HTTP_PARSE_ERROR)
        return resp.error;
    assert_int_equal(rc, (int)strlen(text));
    return http_response_framing(&resp, head, false) < 0 ? resp.error : 0;
}

static void simple(void **state)
{
    const char *t = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A:  b c \r\n\r\nhello";
    size_t head = strlen(t) - 5;
    for (size_t i = 0; i < head; i++)
        assert_int_equal(http_parse_response(t, i, &resp), HTTP_PARSE_MORE);
    assert_int_equal(http_parse_response(t, strlen(t), &resp), (int)head);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.minor, 1);
    assert_int_equal(resp.reason.n, 2);
    assert_int_equal(resp.nheaders, 2);
    assert_memory_equal(resp.headers[1].value.p, "b c", 3);
    assert_int_equal(http_response_framing(&resp, false, false), 0);
    assert_int_equal(resp.body, HTTP_BODY_LENGTH);
    assert_int_equal(resp.content_length, 5);
    assert_true(resp.keep_alive);
    assert_non_null(http_response_get(&resp, HR_CONTENT_LENGTH));
    assert_null(http_response_get(&resp, HR_ETAG));
}

static void status_lines(void **state)
{
    assert_int_equal(frame("HTTP/1.1 204\r\n\r\n", false), 0); /* no reason */
    assert_int_equal(frame("HTTP/1.1 404 \r\n\r\n", false), 0);
    assert_int_equal(frame("HTTP/1.0 200 Fine\tthanks\r\n\r\n", false), 0);
    assert_int_equal(resp.minor, 0);
    assert_int_equal(frame("HTTP/1.1 200 OK\n\n", false), 0); /* bare LF */
    assert_int_equal(frame("HTTP/2.0 200 OK\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 099 Low\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 600 High\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 20 OK\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 2000 OK\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1  200 OK\r\n\r\n", false), 400);
    assert_int_equal(frame("http/1.1 200 OK\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 O\x01K\r\n\r\n", false), 400);
    assert_int_equal(frame("ICY 200 OK\r\n\r\n", false), 400);
    assert_int_equal(frame("<html>\r\n\r\n", false), 400);
    /* garbage is refused from its first wrong byte */
    assert_int_equal(http_parse_response("HTTX", 4, &resp), HTTP_PARSE_ERROR);
}

static void fields(void **state)
{
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nX : y\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nX: y\r\n folded\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nX: a\x0b\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n"
                           "ETag: \"x\"\r\n\r\n",
                           false),
                     0);
    assert_int_equal(resp.nheaders, 3);
    assert_non_null(http_response_get(&resp, HR_ETAG));
}

static void no_body(void **state)
{
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true), 0);
    assert_int_equal(resp.body, HTTP_BODY_NONE);
    assert_true(resp.keep_alive);
    assert_int_equal(
        frame("HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n", false), 0);
    assert_int_equal(resp.body, HTTP_BODY_NONE);
    assert_int_equal(frame("HTTP/1.1 204 No Content\r\n\r\n", false), 0);
    assert_int_equal(resp.body, HTTP_BODY_NONE);
    assert_true(resp.keep_alive);
    assert_int_equal(frame("HTTP/1.1 100 Continue\r\n\r\n", false), 0);
    assert_int_equal(resp.body, HTTP_BODY_NONE);
    assert_int_equal(
        frame("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", false),
        0);
    assert_int_equal(resp.body, HTTP_BODY_NONE);
    assert_int_equal(parse_all("HTTP/1.1 200 Connection established\r\n\r\n"), 39);
    assert_int_equal(http_response_framing(&resp, false, true), 0);
    assert_int_equal(resp.body, HTTP_BODY_NONE);
}

static void lengths(void **state)
{
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false), 0);
    assert_int_equal(resp.body, HTTP_BODY_LENGTH);
    assert_int_equal(resp.content_length, 0);
    /* RFC 9110 8.6: identical duplicates are one value */
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: 7, 7\r\n\r\n", false), 0);
    assert_int_equal(resp.content_length, 7);
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 7\r\n\r\n", false),
        0);
    assert_int_equal(resp.content_length, 7);
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n", false),
        400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: 7, 8\r\n\r\n", false),
                     400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n", false),
                     400);
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", false),
        400);
    /* even where no body follows, a bad length is not forwarded */
    assert_int_equal(frame("HTTP/1.1 304 x\r\nContent-Length: 1, 2\r\n\r\n", false), 400);
}

static void codings(void **state)
{
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false), 0);
    assert_int_equal(resp.body, HTTP_BODY_CHUNKED);
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n", false), 0);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                           "Content-Length: 5\r\n\r\n",
                           false),
                     400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n",
                           false),
                     400);
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", false), 400);
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", false), 400);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n",
                           false),
                     400);
    assert_int_equal(
        frame("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false), 400);
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n", false), 400);
}

static void close_delimited_and_connection(void **state)
{
    assert_int_equal(frame("HTTP/1.1 200 OK\r\n\r\n", false), 0);
    assert_int_equal(resp.body, HTTP_BODY_CLOSE);
    assert_false(resp.keep_alive);
    assert_int_equal(
        frame("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\n", false),
        0);
    assert_false(resp.keep_alive);
    assert_int_equal(frame("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", false), 0);
    assert_false(resp.keep_alive);
    assert_int_equal(
        frame("HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n",
              false),
        0);
    assert_true(resp.keep_alive);
    assert_int_equal(frame("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: x\r\n"
                           "Connection: close\r\n\r\n",
                           false),
                     0);
    assert_false(resp.keep_alive);
}

static void limits(void **state)
{
    size_t n = HTTP_MAX_REQUEST_LINE + 100;
    char *t = malloc(n + 1);
    memcpy(t, "HTTP/1.1 200 ", 13);
    memset(t + 13, 'a', n - 13);
    t[n] = '\0';
    assert_int_equal(http_parse_response(t, n, &resp), HTTP_PARSE_ERROR);
    assert_int_equal(resp.error, 431);
    free(t);
    size_t cap = 64 + 12 * 1000;
    t = malloc(cap);
    size_t o = (size_t)snprintf(t, cap, "HTTP/1.1 200 OK\r\n");
    for (int i = 0; i < 1000; i++)
        o += (size_t)snprintf(t + o, cap - o, "X-%05d: v\r\n", i);
    assert_int_equal(http_parse_response(t, o, &resp), HTTP_PARSE_ERROR);
    assert_int_equal(resp.error, 431);
    free(t);
    /* 1 MiB of one header field: refused once the limit is passed, without
     * waiting for the end of the line */
    cap = 1 << 20;
    t = malloc(cap);
    o = (size_t)snprintf(t, cap, "HTTP/1.1 200 OK\r\nX: ");
    memset(t + o, 'v', cap - o);
    assert_int_equal(http_parse_response(t, HTTP_MAX_HEADER_BYTES + 100, &resp),
                     HTTP_PARSE_ERROR);
    assert_int_equal(resp.error, 431);
    assert_int_equal(http_parse_response(t, cap, &resp), HTTP_PARSE_ERROR);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simple),
        cmocka_unit_test(status_lines),
        cmocka_unit_test(fields),
        cmocka_unit_test(no_body),
        cmocka_unit_test(lengths),
        cmocka_unit_test(codings),
        cmocka_unit_test(close_delimited_and_connection),
        cmocka_unit_test(limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
