/* auth: the Basic authentication scheme's credentials (RFC 7617 2) and the
 * per-connection memory of a successful check. Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "httpmsg/request.h"

/* Parses "Basic <base64(user:pass)>" into NUL-terminated user and pass.
 * 0, or -1 if the field is not Basic, not base64, or does not fit. */
int http_basic_parse(struct http_str field, char *user, size_t ulen, char *pass,
                     size_t plen);

/* SHA-256 over salt, user, NUL, password: what a connection remembers of
 * credentials that passed, so that keep-alive requests skip the slow hash.
 * 0, or -1 if hashing failed (then nothing may be remembered). */
int http_auth_digest(const unsigned char salt[16], const char *user, const char *pass,
                     unsigned char out[32]);
