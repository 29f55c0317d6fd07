/* imapstr: IMAP string syntax for what the module writes (RFC 9051 4.3:
 * quoted strings cannot hold 8-bit, CR or LF, so those go as literals). */
#include "mime/module.h"

#include <stdlib.h>
#include <string.h>

/* Quoted strings longer than this are sent as literals. */
#define MIME_MAX_QUOTED 1000

static bool needs_literal(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
        if (*p >= 0x80 || *p == '\r' || *p == '\n')
            return true;
    return n >= MIME_MAX_QUOTED;
}

void mime_put_nstring(GString *out, const char *s)
{
    if (!s) {
        g_string_append(out, "NIL");
        return;
    }
    if (needs_literal(s)) {
        g_string_append_printf(out, "{%zu}\r\n%s", strlen(s), s);
        return;
    }
    g_string_append_c(out, '"');
    const char *run = s;
    for (const char *p = s; *p; p++) {
        if (*p != '"' && *p != '\\')
            continue;
        g_string_append_len(out, run, p - run);
        g_string_append_c(out, '\\');
        run = p;
    }
    g_string_append(out, run);
    g_string_append_c(out, '"');
}

void mime_put_number(GString *out, uint64_t v)
{
    char digits[24];
    size_t n = sizeof digits;
    do {
        digits[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    g_string_append_len(out, digits + n, (gssize)(sizeof digits - n));
}

void mime_put_upper(GString *out, const char *s)
{
    if (!s) {
        g_string_append(out, "NIL");
        return;
    }
    char *up = g_ascii_strup(s, -1);
    mime_put_nstring(out, up);
    g_free(up);
}

char *mime_gstring_steal(GString *g)
{
    char *s = malloc(g->len + 1);
    if (s)
        memcpy(s, g->str, g->len + 1);
    g_string_free(g, TRUE);
    return s;
}
