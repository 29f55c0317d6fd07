/* chunked: the streaming decoder of the chunked transfer coding (RFC 9112
 * 7.1) for request and response bodies alike. Pure: it is fed whatever bytes
 * have arrived and hands back spans of body data inside them; after DONE
 * the bytes that follow belong to the next message. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct http_chunked {
    int state;
    uint64_t left;  /* bytes of chunk data still to come */
    size_t line;    /* bytes of the current size or trailer line */
    size_t trailer; /* bytes of the trailer section */
    int digits;
};

enum http_chunked_rc {
    HTTP_CHUNKED_MORE,  /* all input used; feed more */
    HTTP_CHUNKED_DATA,  /* *data is body data (inside the input) */
    HTTP_CHUNKED_DONE,  /* the last chunk and trailers are through */
    HTTP_CHUNKED_ERROR, /* malformed or over a limit: 400 */
};

void http_chunked_init(struct http_chunked *d);

/* Consumes up to n bytes of in; *used says how many. On HTTP_CHUNKED_DATA
 * the data span is in[*used - *dlen .. *used). */
enum http_chunked_rc http_chunked_feed(struct http_chunked *d, const char *in, size_t n,
                                       size_t *used, size_t *dlen);
