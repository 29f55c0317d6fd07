/* sasl: decoding of the SASL PLAIN (RFC 4616) and LOGIN mechanisms and the
 * base64 they travel in (RFC 4648 4, via OpenSSL). Pure functions. */
#pragma once
#include <stddef.h>

/* Strict base64 decode; "=" alone decodes to empty (RFC 4954 4). Returns the
 * decoded length, or -1 if malformed or longer than outlen. out is NUL
 * terminated when room allows (outlen must exceed the decoded length). */
long sasl_base64_decode(const char *in, char *out, size_t outlen);
/* The same for len bytes that need not be NUL-terminated (no "=" rule). */
long base64_decode(const char *in, size_t len, char *out, size_t outlen);
/* Returns the encoded length (NUL terminated), or -1 if outlen is too small. */
long sasl_base64_encode(const void *in, size_t len, char *out, size_t outlen);

/* RFC 4616 2: message = [authzid] NUL authcid NUL passwd. Decodes the base64
 * response; authzid must be empty or equal to authcid (no proxying). Rejects
 * NULs or overlong parts. Returns 0 or -1. */
int sasl_plain_decode(const char *b64, char *authcid, size_t authcid_len, char *passwd,
                      size_t passwd_len);
