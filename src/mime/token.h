/* token: the RFC 2045 5.1 lexical classes shared by the Content-Type
 * scanner (scan.c) and the parameter reader (params.c). */
#pragma once
#include <stdbool.h>

/* token := 1*<any (US-ASCII) CHAR except SPACE, CTLs, or tspecials> */
static inline bool mime_token_char(unsigned char c)
{
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '@':
    case ',':
    case ';':
    case ':':
    case '\\':
    case '"':
    case '/':
    case '[':
    case ']':
    case '?':
    case '=':
        return false; /* tspecials */
    default:
        return c > 32 && c < 127;
    }
}
