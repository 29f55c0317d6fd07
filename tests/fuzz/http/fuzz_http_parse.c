/* Fuzzes the HTTP request parser (httpmsg/request.c) and what runs on its output:
 * the framing checks, target decoding, Range, dates, Basic credentials, and
 * a chunked body after the head. A head must parse the same whole and in
 * two pieces; nothing may point outside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "http/auth.h"
#include "http/range.h"
#include "http/uri.h"
#include "httpmsg/chunked.h"
#include "httpmsg/date.h"
#include "httpmsg/request.h"

static struct http_request req, again;

static void inside(const uint8_t *data, size_t size, struct http_str s)
{
    if (s.n && ((const uint8_t *)s.p < data || (const uint8_t *)s.p + s.n > data + size))
        abort();
}

static void use_fields(const uint8_t *data, size_t size)
{
    inside(data, size, req.method);
    inside(data, size, req.target);
    for (size_t i = 0; i < req.nheaders; i++) {
        inside(data, size, req.headers[i].name);
        inside(data, size, req.headers[i].value);
    }
    http_request_check(&req);
    char path[STORE_MAX_PATH + 1];
    struct http_target t;
    if (http_target_decode(req.target, &t, path, sizeof path) == 0 && path[0] != '/')
        abort();
    const struct http_str *f;
    struct http_range r[HTTP_MAX_RANGES];
    if ((f = http_request_get(&req, HH_RANGE))) {
        int n = http_range_parse(*f, 1000, r, HTTP_MAX_RANGES);
        for (int i = 0; i < n; i++)
            if (r[i].first > r[i].last || r[i].last >= 1000)
                abort();
    }
    time_t when;
    if ((f = http_request_get(&req, HH_IF_MODIFIED_SINCE)))
        http_date_parse(*f, &when);
    char user[AUTH_MAX_USERNAME + 1], pass[AUTH_MAX_PASSWORD + 1];
    if ((f = http_request_get(&req, HH_AUTHORIZATION)))
        http_basic_parse(*f, user, sizeof user, pass, sizeof pass);
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
    size_t cut = data[0] % (size);
    data++, size--;
    int rc = http_parse_request((const char *)data, size, &req);
    if (rc > (int)size)
        abort();
    if (rc > 0) {
        /* A prefix must never complete earlier at another length. */
        int rc2 = http_parse_request((const char *)data,
                                     cut < (size_t)rc ? cut : (size_t)rc, &again);
        if (rc2 > 0 && rc2 != rc)
            abort();
        rc = http_parse_request((const char *)data, size, &req);
        use_fields(data, size);
        chunked_body(data + rc, size - (size_t)rc);
    }
    return 0;
}
