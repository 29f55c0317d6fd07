/* dot: one byte at a time through five states. A held byte (the dot at a
 * line start, or the CR after it) is either dropped (the dot: 4.5.2 says
 * the first dot of any line is removed) or emitted with the next byte. */
#include "smtp/dot.h"

/* A byte in the middle of a line (also after a bare CR or LF). */
static enum dot_state mid(char c, char *out, size_t *o)
{
    out[(*o)++] = c;
    return c == '\r' ? DOT_CR : DOT_MID;
}

static enum dot_state step(enum dot_state st, char c, char *out, size_t *o)
{
    switch (st) {
    case DOT_BOL:
        return c == '.' ? DOT_DOT : mid(c, out, o);
    case DOT_CR:
        if (c == '\n') {
            out[(*o)++] = c;
            return DOT_BOL;
        }
        return mid(c, out, o);
    case DOT_DOT: /* leading dot dropped */
        return c == '\r' ? DOT_DOTCR : mid(c, out, o);
    case DOT_DOTCR:
        if (c == '\n')
            return DOT_END;
        out[(*o)++] = '\r'; /* ".\r" then not LF: the CR was content */
        return step(DOT_CR, c, out, o);
    default:
        return mid(c, out, o);
    }
}

size_t dot_feed(struct dot *d, const char *in, size_t n, char *out, size_t *outlen)
{
    size_t i = 0, o = 0;
    while (i < n && d->st != DOT_END)
        d->st = step(d->st, in[i++], out, &o);
    *outlen = o;
    return i;
}
