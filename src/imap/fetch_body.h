/* fetch_body: the byte side of FETCH body sections (RFC 9051 6.4.5):
 * which range of the stored file (LF line ends) a section is, how long it
 * is once sent with CRLF line ends, the LF to CRLF conversion in chunks
 * (with a <partial> window cut out of the converted bytes), and
 * HEADER.FIELDS(.NOT) filtering. Pure apart from pread on a given fd. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct mime_summary;
struct imap_fetch_item;

/* A section as a range of the file: len bytes (LF form) from off, crlf
 * bytes once converted. nil: the section does not exist (sent as NIL). */
struct fetch_range {
    bool nil;
    uint64_t off, len, crlf;
};

/* The range of item's section in a message of size/vsize whose summary is
 * sum (NULL only when the item is the whole message). HEADER.FIELDS gives
 * the range of the header it filters. */
void fetch_section_range(const struct mime_summary *sum, const struct imap_fetch_item *it,
                         uint64_t size, uint64_t vsize, struct fetch_range *out);

/* LF to CRLF (an LF already after a CR is kept as is, so the count matches
 * the store's vsize), skipping the first `skip` converted bytes and
 * stopping after `take`. */
struct crlf_conv {
    bool prev_cr;
    uint64_t skip, take;
};
void crlf_conv_init(struct crlf_conv *c, uint64_t skip, uint64_t take);
/* Converts in[0..n) and appends what falls in the window to out. */
int crlf_conv_feed(struct crlf_conv *c, const char *in, size_t n, struct evbuffer *out);
/* The converted length of in[0..n) (prev_cr carried in *prev_cr). */
uint64_t crlf_length(const char *in, size_t n, bool *prev_cr);

/* Reads len bytes at off of fd into a malloc'd buffer (NUL-terminated);
 * NULL on a short read or error. */
char *fetch_read(int fd, uint64_t off, uint64_t len);

/* RFC 9051 6.4.5 HEADER.FIELDS / HEADER.FIELDS.NOT: the header lines (with
 * their continuations) of hdr[0..n) whose field name is (not) in names,
 * then the blank line. Writes into out (room for n + 1 bytes); returns the
 * length. */
size_t fetch_header_filter(const char *hdr, size_t n, const char *const *names,
                           size_t nnames, bool not, char *out);
