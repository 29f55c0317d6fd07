/* mutf7: IMAP's modified UTF-7 (RFC 3501 5.1.3, RFC 9051 5.1.3), the form
 * Courier and Dovecot use for Maildir++ folder names on disk. Pure: no
 * I/O, no allocation. Internal to store/ (the folder names of the API are
 * UTF-8; imap/ has its own codec for rev1 clients on the wire). */
#pragma once
#include <stddef.h>

/* UTF-8 to modified UTF-7 into out (NUL-terminated). -1 for invalid UTF-8
 * (overlong forms, surrogates, > U+10FFFF) or when out is too small. */
int mutf7_encode(const char *utf8, char *out, size_t outlen);
/* Modified UTF-7 to UTF-8. -1 for a malformed name (a bad base64 run, an
 * unterminated shift, printable ASCII encoded, '&' not written "&-"). */
int mutf7_decode(const char *mutf7, char *out, size_t outlen);
