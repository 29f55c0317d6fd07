/* Fuzzes the HTTP response parser (httpmsg/response.c), its framing rules
 * and the hop-by-hop helper, then a chunked or length-delimited body after
 * the head. A head must parse the same whole and cut short; nothing may
 * point outside the input; the framing must be one of its four kinds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpmsg/chunked.h"
#include "httpmsg/fields.h"
#include "httpmsg/response.h"

static struct http_response resp, again;

static void inside(const uint8_t *data, size_t size, struct http_str s)
{
    if (s.n && ((const uint8_t *)s.p < data || (const uint8_t *)s.p + s.n > data + size))
        abort();
}

static void use_fields(const uint8_t *data, size_t size)
{
    inside(data, size, resp.reason);
    if (resp.status < 100 || resp.status > 599 || resp.nheaders > HTTP_MAX_HEADERS)
        abort();
    for (size_t i = 0; i < resp.nheaders; i++) {
        inside(data, size, resp.headers[i].name);
        inside(data, size, resp.headers[i].value);
        http_field_is_hop(resp.headers[i].name, resp.headers, resp.nheaders);
    }
}

static void chunked_body(const uint8_t *p, size_t n)
{
    struct http_chunked d;
    http_chunked_init(&d);
    size_t off = 0;
    while (off < n) {
        size_t used, dlen;
        enum http_chunked_rc rc =
            http_chunked_feed(&d, (const char *)p + off, n - off, &used, &dlen);
        if (used > n - off || dlen > used)
            abort();
        off += used;
        if (rc == HTTP_CHUNKED_DONE || rc == HTTP_CHUNKED_ERROR || used == 0)
            break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cut = data[0] % size;
    bool head = data[0] & 1, connect = data[0] & 2;
    data++, size--;
    int rc = http_parse_response((const char *)data, size, &resp);
    if (rc > (int)size)
        abort();
    if (rc <= 0)
        return 0;
    int rc2 = http_parse_response((const char *)data, cut < (size_t)rc ? cut : (size_t)rc,
                                  &again);
    if (rc2 > 0 && rc2 != rc)
        abort();
    rc = http_parse_response((const char *)data, size, &resp);
    use_fields(data, size);
    if (http_response_framing(&resp, head, connect) < 0)
        return 0;
    if (resp.body > HTTP_BODY_CLOSE ||
        (resp.body != HTTP_BODY_LENGTH && resp.content_length))
        abort();
    if (resp.body == HTTP_BODY_CLOSE && resp.keep_alive)
        abort();
    if (resp.body == HTTP_BODY_CHUNKED)
        chunked_body(data + rc, size - (size_t)rc);
    return 0;
}
