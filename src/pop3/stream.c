/* pop3 stream: a byte-at-a-time state machine, emitted in runs: the bytes
 * between two line ends are copied in one evbuffer_add. A CR already before
 * an LF is kept as is (files dropped in by other programs), so the octet
 * count matches the Maildir W= size (size + LFs not preceded by CR). */
#include "pop3/stream.h"

#include <event2/buffer.h>
#include <string.h>

void pop3_conv_init(struct pop3_conv *c, bool top, uint64_t body_lines)
{
    memset(c, 0, sizeof *c);
    c->line_start = true;
    c->header_line_empty = true;
    c->limited = top;
    c->body_left = body_lines;
}

/* A line ended (its LF was just written): advance the TOP bookkeeping. */
static void end_of_line(struct pop3_conv *c)
{
    if (!c->in_body) {
        if (c->header_line_empty) {
            c->in_body = true; /* the blank line: the body starts */
            if (c->limited && c->body_left == 0)
                c->done = true;
        }
    } else if (c->limited && --c->body_left == 0) {
        c->done = true;
    }
    c->line_start = true;
    c->header_line_empty = true;
}

size_t pop3_conv_feed(struct pop3_conv *c, const char *in, size_t n, struct evbuffer *out)
{
    size_t i = 0;
    while (i < n && !c->done) {
        if (c->line_start && in[i] == '.')
            evbuffer_add(out, ".", 1); /* RFC 1939 3: byte-stuff */
        const char *lf = memchr(in + i, '\n', n - i);
        size_t run = lf ? (size_t)(lf - (in + i)) : n - i;
        if (run) {
            evbuffer_add(out, in + i, run);
            bool only_cr = run == 1 && in[i] == '\r';
            if (!(only_cr && c->line_start))
                c->header_line_empty = c->header_line_empty && only_cr;
            c->prev_cr = in[i + run - 1] == '\r';
            c->line_start = false;
            i += run;
        }
        if (!lf)
            break;
        evbuffer_add(out, c->prev_cr ? "\n" : "\r\n", c->prev_cr ? 1 : 2);
        c->prev_cr = false;
        i++;
        end_of_line(c);
    }
    return i;
}

void pop3_conv_finish(struct pop3_conv *c, struct evbuffer *out)
{
    if (!c->line_start && !c->done)
        evbuffer_add(out, "\r\n", 2);
    c->done = true;
}
