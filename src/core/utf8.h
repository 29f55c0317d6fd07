/* utf8: the one UTF-8 validator (DESIGN.md "Text": one shared
 * validator). Pure functions, no allocation. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 3629 4: well-formed UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF). NUL bytes are valid UTF-8; callers that refuse them
 * check separately. */
bool utf8_valid(const unsigned char *s, size_t n);

/* Decodes one code point at s[0..n): its length (1..4) with *cp set, or 0
 * if the bytes there are not a well-formed sequence (RFC 3629 4). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

/* Encodes cp (<= U+10FFFF, not a surrogate) into out[4]: its length, or 0
 * for a value that has no UTF-8 form. */
size_t utf8_encode(uint32_t cp, unsigned char out[4]);
