/* scan: the one pass over a stored message (LF line ends) that finds its
 * MIME structure (RFC 2045, RFC 2046 5.1 multipart boundaries, RFC 2046
 * 5.2.1 message/rfc822) and, on the way, every entity's header and body
 * range with the number of LFs in it (so the CRLF sizes IMAP announces cost
 * no second pass). Pure C, no GMime: the values it keeps are raw header
 * text that the module interprets. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The header fields IMAP reports (first occurrence of each kept). */
enum mime_field {
    MF_CONTENT_TYPE,
    MF_CTE,
    MF_CONTENT_ID,
    MF_CONTENT_DESCRIPTION,
    MF_CONTENT_DISPOSITION,
    MF_CONTENT_LANGUAGE,
    MF_CONTENT_LOCATION,
    MF_CONTENT_MD5,
    MF_DATE,
    MF_SUBJECT,
    MF_FROM,
    MF_SENDER,
    MF_REPLY_TO,
    MF_TO,
    MF_CC,
    MF_BCC,
    MF_IN_REPLY_TO,
    MF_MESSAGE_ID,
    MF_REFERENCES,
    MF_COUNT
};

enum mime_kind {
    MIME_LEAF,
    MIME_MULTIPART, /* children are its body parts */
    MIME_MESSAGE,   /* message/rfc822 (or global): one child, the message */
};

/* One entity: a header and a body. The root is the whole file. */
struct mime_entity {
    enum mime_kind kind;
    bool forced_leaf;           /* too deep or too many parts: reported as octets */
    char type[64], subtype[64]; /* lower case; "" when absent or invalid */
    bool type_invalid;          /* Content-Type present but unparsable */
    char *field[MF_COUNT];      /* raw values, unfolded and trimmed; NULL if absent */
    size_t kept;                /* bytes in field[] (MIME_MAX_HEADER_KEEP) */
    int parent, first_child, next_sibling, nchildren; /* indices, -1 none */
    uint64_t header_off, header_lf;                   /* LFs before header_off */
    uint64_t body_off, body_lf;
    uint64_t end_off, end_lf;
    bool end_partial; /* the body's last line has no LF (counts as a line) */
};

struct mime_scan {
    struct mime_entity *ent; /* ent[0] is the root; depth first */
    size_t nent;
    uint64_t size, lfs; /* of the whole file */
};

/* Scans the message in fd from offset 0 (pread: the fd offset is not
 * moved). max_read bounds each read (0: the whole buffer), so tests can
 * feed the scanner a byte at a time. header_only stops after the root
 * header. 0, or -1 on a read or allocation error. */
int mime_scan_fd(int fd, size_t max_read, bool header_only, struct mime_scan *out);
void mime_scan_release(struct mime_scan *s); /* frees what mime_scan_fd made */

/* The raw value of a field of an entity, or NULL. */
const char *mime_entity_field(const struct mime_entity *e, enum mime_field f);

/* Calls fn for every occurrence of header `name` in the root header, with
 * its unfolded raw value (for SEARCH HEADER). 0 or -1. */
int mime_scan_header_values(int fd, const char *name,
                            void (*fn)(const char *value, size_t len, void *arg),
                            void *arg);

/* Content-Type: the type/subtype tokens (lower case) and the boundary
 * parameter; false when the value is not "type/subtype" (RFC 2045 5.1). */
bool mime_parse_ctype(const char *value, char *type, size_t tlen, char *subtype,
                      size_t slen, char *boundary, size_t blen);
