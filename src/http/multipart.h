/* multipart: a streaming multipart/form-data parser (RFC 7578, RFC 2046
 * 5.1.1) for the upload form: fed body bytes as they arrive, it calls back
 * with each part's header block, its data in pieces, and its end. Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "core/limits.h"
#include "httpmsg/request.h"

struct http_multipart_cb {
    int (*part)(void *arg, const char *hdr, size_t n); /* header block */
    int (*data)(void *arg, const char *p, size_t n);
    int (*end)(void *arg);
};

struct http_multipart {
    char delim[4 + 70 + 1]; /* CRLF "--" boundary */
    size_t dlen, match, hlen;
    int state;
    bool in_part;
    const struct http_multipart_cb *cb;
    void *arg;
    char hdr[HTTP_MAX_PART_HEADER];
};

/* Takes the boundary from a Content-Type field; -1 if the field is not
 * multipart/form-data with a valid boundary (RFC 2046 5.1.1: 1-70 chars). */
int http_multipart_init(struct http_multipart *m, struct http_str content_type,
                        const struct http_multipart_cb *cb, void *arg);
/* -1: malformed or a callback failed; 0: fed. */
int http_multipart_feed(struct http_multipart *m, const char *p, size_t n);
/* The close delimiter has been seen. */
bool http_multipart_done(const struct http_multipart *m);

/* The filename parameter of a part's Content-Disposition, reduced to its
 * last path component: 1 found (non-empty), 0 none, -1 malformed. */
int http_multipart_filename(const char *hdr, size_t n, char *out, size_t outlen);
