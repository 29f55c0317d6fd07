/* chunked: a byte-driven state machine for RFC 9112 7.1:
 *   chunk-size [ chunk-ext ] CRLF chunk-data CRLF ... 0 CRLF trailers CRLF.
 * Framing bytes need CRLF exactly (no bare LF): lenient framing is how
 * request smuggling starts. Chunk extensions are skipped; trailer fields are
 * read and dropped (RFC 9112 7.1.2: we use none of them). */
#include "httpmsg/chunked.h"

#include "core/limits.h"
#include "httpmsg/fields.h"

#include <string.h>

enum {
    S_SIZE,     /* hex digits */
    S_SIZE_BWS, /* after the size: BWS, then ";" or CR */
    S_EXT,      /* from the ";": extensions, until CR */
    S_SIZE_LF,  /* CR seen after the size line */
    S_DATA,     /* chunk data */
    S_DATA_CR,  /* CRLF after the data */
    S_DATA_LF,
    S_TRAILER, /* start of a trailer line (or the final CRLF) */
    S_TRAILER_LINE,
    S_TRAILER_LF,
    S_FINAL_LF,
    S_DONE,
};

void http_chunked_init(struct http_chunked *d)
{
    memset(d, 0, sizeof *d);
    d->state = S_SIZE;
}

/* One framing byte; returns -1 on a syntax error. */
static int size_byte(struct http_chunked *d, char c)
{
    if (++d->line > HTTP_MAX_CHUNK_LINE)
        return -1;
    int h = http_hex_value(c);
    if (d->state == S_SIZE && h >= 0) {
        if (d->digits == 16) /* would overflow 64 bits */
            return -1;
        d->left = d->left * 16 + (uint64_t)h;
        d->digits++;
        return 0;
    }
    if (d->digits == 0)
        return -1;
    if (c == '\r') {
        d->state = S_SIZE_LF;
        return 0;
    }
    if (d->state == S_EXT) {
        /* chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): skipped,
         * but no controls inside. */
        if ((unsigned char)c < 0x20 && c != '\t')
            return -1;
        return 0;
    }
    /* RFC 9112 7.1: chunk-size = 1*HEXDIG, then only BWS before ";" or the
     * CRLF. Junk ("0x38") is refused: a proxy may read the size otherwise. */
    if (c == ' ' || c == '\t') {
        d->state = S_SIZE_BWS;
        return 0;
    }
    if (c != ';')
        return -1;
    d->state = S_EXT;
    return 0;
}

static int size_lf(struct http_chunked *d, char c)
{
    if (c != '\n')
        return -1;
    d->line = 0;
    d->digits = 0;
    d->state = d->left ? S_DATA : S_TRAILER;
    return 0;
}

static int trailer_byte(struct http_chunked *d, char c)
{
    if (++d->trailer > HTTP_MAX_TRAILER_BYTES)
        return -1;
    switch (d->state) {
    case S_TRAILER:
        d->state = c == '\r' ? S_FINAL_LF : S_TRAILER_LINE;
        return (unsigned char)c < 0x20 && c != '\r' ? -1 : 0;
    case S_TRAILER_LINE:
        if (c == '\r')
            d->state = S_TRAILER_LF;
        else if ((unsigned char)c < 0x20 && c != '\t')
            return -1;
        return 0;
    case S_TRAILER_LF:
        d->state = S_TRAILER;
        return c == '\n' ? 0 : -1;
    default: /* S_FINAL_LF */
        d->state = S_DONE;
        return c == '\n' ? 0 : -1;
    }
}

static int framing_byte(struct http_chunked *d, char c)
{
    switch (d->state) {
    case S_SIZE:
    case S_SIZE_BWS:
    case S_EXT:
        return size_byte(d, c);
    case S_SIZE_LF:
        return size_lf(d, c);
    case S_DATA_CR:
        d->state = S_DATA_LF;
        return c == '\r' ? 0 : -1;
    case S_DATA_LF:
        d->state = S_SIZE;
        return c == '\n' ? 0 : -1;
    default:
        return trailer_byte(d, c);
    }
}

enum http_chunked_rc http_chunked_feed(struct http_chunked *d, const char *in, size_t n,
                                       size_t *used, size_t *dlen)
{
    size_t i = 0;
    *dlen = 0;
    while (i < n && d->state != S_DONE) {
        if (d->state == S_DATA) {
            size_t take = n - i < d->left ? n - i : (size_t)d->left;
            d->left -= take;
            if (d->left == 0)
                d->state = S_DATA_CR;
            *used = i + take;
            *dlen = take;
            return HTTP_CHUNKED_DATA;
        }
        if (framing_byte(d, in[i++]) < 0) {
            *used = i;
            return HTTP_CHUNKED_ERROR;
        }
    }
    *used = i;
    return d->state == S_DONE ? HTTP_CHUNKED_DONE : HTTP_CHUNKED_MORE;
}
