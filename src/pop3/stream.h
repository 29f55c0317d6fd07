/* pop3 stream: turns stored message bytes (LF line ends, as the Maildir holds
 * them) into the POP3 wire form: CRLF line ends and byte-stuffing of lines
 * that start with "." (RFC 1939 3); for TOP (RFC 1939 7) it stops after the
 * header, the blank line and n body lines. Pure: no I/O. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

struct pop3_conv {
    bool line_start; /* the next byte starts a line */
    bool prev_cr;    /* the last byte seen was CR */
    bool in_body;    /* past the blank line that ends the header */
    bool header_line_empty; /* the current header line has no bytes yet */
    bool limited;    /* TOP: stop after body_left body lines */
    uint64_t body_left;
    bool done;
};

void pop3_conv_init(struct pop3_conv *c, bool top, uint64_t body_lines);
/* Converts n bytes into out; returns how many were consumed (fewer than n
 * only once done is set). */
size_t pop3_conv_feed(struct pop3_conv *c, const char *in, size_t n, struct evbuffer *out);
/* At the end of the file: ends an unterminated last line with CRLF. */
void pop3_conv_finish(struct pop3_conv *c, struct evbuffer *out);
