/* request: the HTTP/1.1 request head parser (RFC 9112 2-5) and the checks on
 * its framing fields (RFC 9112 6, RFC 9110 7.2). Pure: no I/O, no allocation,
 * no copies; it points into the caller's buffer. Like picohttpparser it is
 * stateless: call again with more bytes until it stops saying "need more". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "httpmsg/fields.h"

enum http_method {
    HTTP_M_UNKNOWN,
    HTTP_M_GET,
    HTTP_M_HEAD,
    HTTP_M_POST,
    HTTP_M_PUT,
    HTTP_M_DELETE,
    HTTP_M_OPTIONS,
    HTTP_M_TRACE,
    HTTP_M_CONNECT,
    HTTP_M_PATCH,
};

/* Header fields the server acts on, found once while parsing. */
enum http_hdr {
    HH_HOST,
    HH_CONNECTION,
    HH_CONTENT_LENGTH,
    HH_TRANSFER_ENCODING,
    HH_EXPECT,
    HH_IF_MATCH,
    HH_IF_NONE_MATCH,
    HH_IF_MODIFIED_SINCE,
    HH_IF_UNMODIFIED_SINCE,
    HH_IF_RANGE,
    HH_RANGE,
    HH_AUTHORIZATION,
    HH_CONTENT_TYPE,
    HH_USER_AGENT,
    HH_REFERER,
    HH_COUNT,
};

struct http_request {
    struct http_str method, target;
    enum http_method m;
    int minor; /* HTTP/1.minor */
    size_t nheaders;
    struct http_header headers[HTTP_MAX_HEADERS];
    /* Index+1 into headers of the first field of each kind (0: absent). */
    unsigned short known[HH_COUNT];
    uint32_t repeated; /* bit h: a known field came more than once */
    /* Framing, from http_request_check. */
    bool chunked;
    bool has_length;
    uint64_t content_length;
    bool keep_alive;
    bool expect_continue;
    int status; /* on error: the status to answer (400, 414, 431, 501, 505) */
};

/* Parses a request head from buf[0..len). Returns the length of the head
 * (request line through the empty line), HTTP_PARSE_MORE when it is not
 * complete yet (and no limit is exceeded), or HTTP_PARSE_ERROR with
 * r->status set. Empty lines before the request line are skipped (RFC 9112
 * 2.2) and counted in the length. */
int http_parse_request(const char *buf, size_t len, struct http_request *r);

/* Applies the framing and header rules to a parsed head: Content-Length,
 * Transfer-Encoding, Host, Connection, Expect. 0, or -1 with r->status. */
int http_request_check(struct http_request *r);

/* The value of a known header field, or NULL. */
const struct http_str *http_request_get(const struct http_request *r, enum http_hdr h);
