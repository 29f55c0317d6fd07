/* pop3 stream: a line-at-a-time state machine writing straight into space
 * reserved in the output evbuffer (one reservation per chunk read). A CR already before
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

/* Converts into dst (room for 2n + 1 bytes: every byte may become CRLF,
 * plus one stuffed dot); returns the bytes written, *used the bytes read. */
static size_t convert(struct pop3_conv *c, const char *in, size_t n, char *dst, size_t *used)
{
    char *o = dst;
    size_t i = 0;
    while (i < n && !c->done) {
        if (c->line_start && in[i] == '.')
            *o++ = '.'; /* RFC 1939 3: byte-stuff */
        const char *lf = memchr(in + i, '\n', n - i);
        size_t run = lf ? (size_t)(lf - (in + i)) : n - i;
        if (run) {
            memcpy(o, in + i, run);
            o += run;
            bool only_cr = run == 1 && in[i] == '\r';
            if (!(only_cr && c->line_start))
                c->header_line_empty = c->header_line_empty && only_cr;
            c->prev_cr = in[i + run - 1] == '\r';
            c->line_start = false;
            i += run;
        }
        if (!lf)
            break;
        if (!c->prev_cr)
            *o++ = '\r';
        *o++ = '\n';
        c->prev_cr = false;
        i++;
        end_of_line(c);
    }
    *used = i;
    return (size_t)(o - dst);
}

size_t pop3_conv_feed(struct pop3_conv *c, const char *in, size_t n, struct evbuffer *out)
{
    struct evbuffer_iovec v;
    if (evbuffer_reserve_space(out, (ev_ssize_t)(2 * n + 1), &v, 1) != 1)
        return 0;
    size_t used;
    v.iov_len = convert(c, in, n, v.iov_base, &used);
    evbuffer_commit_space(out, &v, 1);
    return used;
}

void pop3_conv_finish(struct pop3_conv *c, struct evbuffer *out)
{
    if (!c->line_start && !c->done)
        evbuffer_add(out, "\r\n", 2);
    c->done = true;
}
