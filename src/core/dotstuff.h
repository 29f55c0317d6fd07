/* dotstuff: the SMTP DATA transparency encoder (RFC 5321 4.5.2), pure and
 * streaming: message bytes in any line-ending convention in, wire bytes
 * out. A line starting with "." gets one more; a bare LF (or a bare CR at
 * end of input) becomes CRLF (RFC 5321 2.3.8); the end adds CRLF if the
 * message did not end with one, then ".\r\n". Output is at most twice the
 * input plus 5 bytes, so a caller feeding chunks keeps memory bounded. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct evbuffer;

struct dotstuff {
    bool line_start; /* the next byte begins a line */
    bool cr;         /* the last byte was a CR not yet followed by LF */
};

void dotstuff_init(struct dotstuff *d);
/* Encodes len bytes into out. 0, or -1 without memory. */
int dotstuff_feed(struct dotstuff *d, const char *data, size_t len, struct evbuffer *out);
/* Finishes the message: the last CRLF if missing, then ".\r\n". */
int dotstuff_end(struct dotstuff *d, struct evbuffer *out);
