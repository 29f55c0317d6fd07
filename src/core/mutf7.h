/* mutf7: modified UTF-7 (RFC 3501 5.1.3), the mailbox-name encoding of
 * IMAP4rev1 clients and of Maildir++ folder names on disk, to and from
 * UTF-8. Strict both ways: only the canonical encoding of a name is
 * accepted, so each name has exactly one spelling. Pure. */
#pragma once
#include <stddef.h>

enum {
    MUTF7_OK = 0,
    MUTF7_INVALID = -1, /* not (canonical) modified UTF-7, or bad UTF-8 */
    MUTF7_NO_ROOM = -2, /* out is too small */
};

/* Decodes in[0..n) into out (NUL-terminated, at most outlen bytes with
 * the NUL); *outn gets the length. Refused: octets outside 0x20..0x7e,
 * "&" not closed by "-", base64 that encodes printable US-ASCII or NUL,
 * leftover bits that are not zero or make a whole base64 character, lone
 * or reversed surrogates, and two encoded runs side by side. */
int mutf7_decode(const char *in, size_t n, char *out, size_t outlen, size_t *outn);

/* Encodes the UTF-8 in[0..n) (validated; NUL refused) into out the same
 * way. "&" becomes "&-". */
int mutf7_encode(const char *in, size_t n, char *out, size_t outlen, size_t *outn);
