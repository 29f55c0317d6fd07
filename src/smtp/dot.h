/* dot: the end-of-data state machine of SMTP DATA (RFC 5321 4.1.1.4 and
 * 4.5.2): removes the leading dot of every line (transparency) and finds
 * the terminator. Only CR LF "." CR LF ends the data: a bare LF or bare CR
 * before or inside the dot line is content, never an end (the SMTP
 * smuggling class of attacks). Line starts are only after CR LF; bare CR
 * and LF pass through unchanged here and are normalised to line ends when
 * the message is stored (store/deliver.h). Pure; fuzzed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum dot_state { DOT_BOL, DOT_MID, DOT_CR, DOT_DOT, DOT_DOTCR, DOT_END };

struct dot {
    enum dot_state st; /* starts at DOT_BOL: DATA's own CRLF began a line */
};

/* Consumes input up to and including the terminator. out needs n + 1
 * bytes; *outlen gets the content bytes written. Returns the bytes
 * consumed; d->st == DOT_END once the terminator was seen. */
size_t dot_feed(struct dot *d, const char *in, size_t n, char *out, size_t *outlen);
