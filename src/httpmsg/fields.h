/* fields: the header field section shared by requests and responses
 * (RFC 9112 5, RFC 9110 5), character classes, and the field-list helpers a
 * proxy needs (hop-by-hop fields, RFC 9110 7.6.1). Pure: no I/O, no
 * allocation; spans point into the caller's buffer. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A string inside the caller's buffer (not NUL-terminated). */
struct http_str {
    const char *p;
    size_t n;
};

struct http_header {
    struct http_str name, value;
};

/* Where a field section goes: the caller's array of max fields, and an index
 * of the fields named in names[0..nnames) (lower case): known[k] is 1 + the
 * index of the first such field, bit k of *repeated says it came again. */
struct http_fields {
    struct http_header *headers;
    size_t max, *n;
    const char *const *names;
    int nnames;
    unsigned short *known;
    uint32_t *repeated;
};

enum { HTTP_PARSE_ERROR = -1, HTTP_PARSE_MORE = -2 };

/* Parses the field lines of buf from pos up to and including the empty line
 * ending the section. Returns the offset after it, HTTP_PARSE_MORE, or
 * HTTP_PARSE_ERROR with *status 400 (syntax) or 431 (a limit:
 * HTTP_MAX_HEADER_BYTES from pos, f->max fields). */
int http_fields_parse(const char *buf, size_t len, size_t pos,
                      const struct http_fields *f, int *status);

/* The end of the line starting at pos: *eol is where its CR/LF starts and
 * the return value is the offset after the LF (a bare LF is accepted,
 * RFC 9112 2.2), or 0 when no LF has arrived. */
size_t http_line_end(const char *buf, size_t len, size_t pos, size_t *eol);

/* RFC 9110 5.6.2: tchar. */
bool http_is_tchar(unsigned char c);

/* The value of one hex digit (either case), or -1. */
int http_hex_value(char c);

/* Case-insensitive comparison of s with the NUL-terminated lit. */
bool http_str_ieq(struct http_str s, const char *lit);

/* Calls fn for each element of a comma-separated list (RFC 9110 5.6.1),
 * trimmed of OWS, skipping empty elements. Stops when fn returns non-zero
 * and returns that value. */
int http_list_each(struct http_str v, int (*fn)(struct http_str item, void *arg),
                   void *arg);

/* True when the field called name is hop-by-hop for a message with these
 * fields (RFC 9110 7.6.1): Connection, the fields it names, and the ones
 * defined as connection-specific (Keep-Alive, Proxy-Connection, TE,
 * Transfer-Encoding, Upgrade, Trailer, Proxy-Authorization). A proxy drops
 * them before forwarding. */
bool http_field_is_hop(struct http_str name, const struct http_header *h, size_t n);
