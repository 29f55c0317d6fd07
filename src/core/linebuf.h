/* linebuf: takes CRLF (or bare LF) terminated lines out of an evbuffer with
 * a hard maximum length. No I/O: the session layer and the fuzzer drive it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct evbuffer;

enum line_status {
    LINE_OK,       /* a line is in out */
    LINE_MORE,     /* no complete line yet */
    LINE_TOO_LONG, /* a line exceeded max; reported once, its rest is dropped */
};

struct linebuf {
    bool discarding; /* inside the tail of an overlong line */
};

/* max counts the line with its terminator; out must hold max + 1 bytes.
 * The line is returned without CR LF and NUL-terminated; *outlen is its
 * length (a NUL inside the line is kept: compare with strlen). */
enum line_status linebuf_next(struct linebuf *lb, struct evbuffer *in, size_t max,
                              char *out, size_t *outlen);
