/* dotstuff: SMTP DATA transparency (RFC 5321 4.5.2) and line endings made
 * CRLF (RFC 5321 2.3.8: no bare CR or LF on the wire), streaming. */
#include "core/dotstuff.h"

#include <event2/buffer.h>

void dotstuff_init(struct dotstuff *d)
{
    d->line_start = true;
    d->cr = false;
}

/* Writes the bytes [from, to) unchanged. */
static int flush_run(struct evbuffer *out, const char *from, const char *to)
{
    if (to == from)
        return 0;
    return evbuffer_add(out, from, (size_t)(to - from));
}

int dotstuff_feed(struct dotstuff *d, const char *data, size_t len, struct evbuffer *out)
{
    const char *run = data;
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        const char *here = data + i;
        if (d->cr && ch != '\n') {
            /* A bare CR ends a line too: CRLF. */
            if (flush_run(out, run, here) < 0 || evbuffer_add(out, "\n", 1) < 0)
                return -1;
            run = here;
            d->line_start = true;
        }
        if (ch == '\n' && !d->cr) {
            if (flush_run(out, run, here) < 0 || evbuffer_add(out, "\r", 1) < 0)
                return -1;
            run = here;
        }
        if (d->line_start && ch == '.') {
            if (flush_run(out, run, here) < 0 || evbuffer_add(out, ".", 1) < 0)
                return -1;
            run = here;
        }
        d->cr = ch == '\r';
        d->line_start = ch == '\n';
    }
    return flush_run(out, run, data + len);
}

int dotstuff_end(struct dotstuff *d, struct evbuffer *out)
{
    if (d->cr) {
        if (evbuffer_add(out, "\n", 1) < 0)
            return -1;
        d->cr = false;
        d->line_start = true;
    }
    if (!d->line_start && evbuffer_add(out, "\r\n", 2) < 0)
        return -1;
    d->line_start = true;
    return evbuffer_add(out, ".\r\n", 3);
}
