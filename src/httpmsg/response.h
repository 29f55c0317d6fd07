/* response: the HTTP/1.1 response head parser (RFC 9112 4-5) and the
 * response framing rules (RFC 9112 6.3). Pure: no I/O, no allocation, no
 * copies; it points into the caller's buffer. Stateless like the request
 * parser: call again with more bytes until it stops saying "need more". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"
#include "httpmsg/fields.h"

/* Response fields a proxy or a cache acts on, found once while parsing. */
enum http_rhdr {
    HR_CONNECTION,
    HR_CONTENT_LENGTH,
    HR_TRANSFER_ENCODING,
    HR_UPGRADE,
    HR_DATE,
    HR_AGE,
    HR_CACHE_CONTROL,
    HR_EXPIRES,
    HR_LAST_MODIFIED,
    HR_ETAG,
    HR_VARY,
    HR_CONTENT_TYPE,
    HR_LOCATION,
    HR_COUNT,
};

/* How the body of a response is delimited (RFC 9112 6.3). */
enum http_body_kind {
    HTTP_BODY_NONE,    /* HEAD, 1xx, 204, 304 (and 2xx to CONNECT) */
    HTTP_BODY_LENGTH,  /* Content-Length bytes */
    HTTP_BODY_CHUNKED, /* the chunked coding (httpmsg/chunked.h) */
    HTTP_BODY_CLOSE,   /* until the connection closes */
};

struct http_response {
    int minor;  /* HTTP/1.minor */
    int status; /* 100..599 */
    struct http_str reason;
    size_t nheaders;
    struct http_header headers[HTTP_MAX_HEADERS];
    /* Index+1 into headers of the first field of each kind (0: absent). */
    unsigned short known[HR_COUNT];
    uint32_t repeated; /* bit h: a known field came more than once */
    /* Framing, from http_response_framing. */
    enum http_body_kind body;
    uint64_t content_length;
    bool keep_alive; /* the connection may carry another request after it */
    /* Why parsing or framing failed: 400 syntax, 431 a limit (a proxy
     * answers 502 for both). */
    int error;
};

/* Parses a response head from buf[0..len). Returns the length of the head
 * (status line through the empty line), HTTP_PARSE_MORE when it is not
 * complete yet (and no limit is exceeded), or HTTP_PARSE_ERROR with
 * r->error set. The status line is limited to HTTP_MAX_REQUEST_LINE bytes,
 * the fields like a request's. */
int http_parse_response(const char *buf, size_t len, struct http_response *r);

/* Applies RFC 9112 6.3 to a parsed head, given the request method it
 * answers (HEAD and CONNECT matter): sets body, content_length and
 * keep_alive. Refuses (-1, r->error = 400) Transfer-Encoding with
 * Content-Length, Transfer-Encoding in HTTP/1.0 or other than exactly
 * "chunked", and Content-Length values that are not one decimal number
 * (identical duplicates are one value, RFC 9110 8.6). */
int http_response_framing(struct http_response *r, bool head_request,
                          bool connect_request);

/* The value of a known response field, or NULL. */
const struct http_str *http_response_get(const struct http_response *r, enum http_rhdr h);
