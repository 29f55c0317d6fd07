/* uri: from a request target to a virtual path for the sandbox: origin-form
 * and absolute-form (RFC 9112 3.2), percent-decoding (RFC 3986 2.1), and the
 * refusals that keep a decoded path honest (NUL, backslash, controls,
 * invalid or overlong UTF-8). Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "httpmsg/request.h"

struct http_target {
    struct http_str path;  /* raw (still encoded) path, without the query */
    struct http_str query; /* after '?', or empty */
    bool trailing_slash;   /* the decoded path ends in '/' */
};

/* Splits the target and writes its decoded, normalised path ("/a/b") into
 * out (sandbox_join rules: ".." stops at "/"). 0, or -1 with errno: EACCES
 * for a reserved name (answer 403), anything else a bad target (400). */
int http_target_decode(struct http_str target, struct http_target *t, char *out,
                       size_t outlen);

/* Percent-decodes s into out (at most outlen bytes); returns the decoded
 * length or -1 for a bad escape, NUL, backslash, control or bad UTF-8.
 * plus_is_space for form fields. */
long http_percent_decode(const char *s, size_t n, char *out, size_t outlen,
                         bool plus_is_space);

/* Appends s percent-encoded for a path (RFC 3986 3.3 pchar and '/') into
 * out; returns the length written or -1 if it does not fit. */
long http_path_encode(const char *s, size_t n, char *out, size_t outlen);
