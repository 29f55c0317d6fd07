/* summary: what IMAP needs to know about a message without reading it
 * again (RFC 9051 7.5.2 ENVELOPE, BODY, BODYSTRUCTURE; RFC 5256 SORT and
 * THREAD keys; the byte ranges of every MIME part for BODY[section]).
 * Computed once with GMime (mime_summary_fd, in the portico-mime module)
 * and cached in the mail index as the text mime_summary_serialise makes;
 * the parse and serialise functions are pure (no GMime, no I/O). */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* One MIME part. Offsets are into the stored file (LF line ends); the
 * *_crlf sizes are the same ranges sent with CRLF line ends (what IMAP
 * announces as a literal's size). */
struct mime_part {
    char section[64]; /* "" for the whole message, "1", "1.2", ... */
    uint64_t header_off, header_len,
        header_len_crlf; /* the part's header, blank line included */
    uint64_t body_off, body_len, body_len_crlf;
    uint64_t lines; /* body lines (text/... and message/rfc822) */
    int is_message; /* message/rfc822: its HEADER/TEXT sections exist */
    /* is_message: the encapsulated message's header (section.HEADER) is
     * the first msg_header_len bytes of the body; section.TEXT is the rest
     * (body_len - msg_header_len, body_len_crlf - msg_header_len_crlf).
     * parts[0]'s header and body are the message's HEADER and TEXT. */
    uint64_t msg_header_len, msg_header_len_crlf;
};

struct mime_summary {
    char *envelope;      /* "(date subject from sender reply-to to cc bcc in-reply-to
                            message-id)" */
    char *body;          /* BODY: BODYSTRUCTURE without extension data */
    char *bodystructure; /* with extension data (RFC 9051 7.5.2) */
    int64_t sent_date; /* the Date: header as seconds since the epoch, 0 if none or bad */
    char *sort_subject;                  /* RFC 5256 2.1 base subject, decoded, UTF-8 */
    char *sort_from, *sort_to, *sort_cc; /* RFC 5256 3: first addr-mailbox, lower case */
    char *display_from, *display_to;     /* RFC 5957 DISPLAY: display name or address */
    char *message_id, *in_reply_to;      /* "<...>" as found, or "" */
    char *references;                    /* message ids, space-separated, in order */
    size_t nparts;
    struct mime_part *parts; /* parts[0] is the whole message; then depth first */
    int subject_reply;       /* RFC 5256 2.1: a Re:/Fwd:/(fwd) was removed from the
                              * subject (THREAD=REFERENCES 4 (5)(C)) */
};

/* Parses the message in fd (read from offset 0; fd stays open) with GMime.
 * NULL if it cannot be read. A message that is not valid MIME still gets
 * a summary (as text/plain, RFC 2045 5.2). */
struct mime_summary *mime_summary_fd(int fd);
void mime_summary_free(struct mime_summary *s); /* NULL is a no-op */
/* The whole message's size with CRLF line ends (IMAP RFC822.SIZE), from
 * parts[0]; 0 for NULL or no parts. */
uint64_t mime_summary_vsize(const struct mime_summary *s);

/* The cache form: one malloc'd string, and back. NULL / -1 on error (a
 * corrupt cache entry is recomputed by the caller). */
char *mime_summary_serialise(const struct mime_summary *s);
struct mime_summary *mime_summary_parse(const char *text);
/* The ENVELOPE in a cache text, without parsing the rest: a pointer into
 * text and its length in *len, or NULL when text is not a summary. */
const char *mime_summary_envelope(const char *text, size_t *len);

/* The part for an IMAP section number ("" or "1.2"), or NULL. */
const struct mime_part *mime_summary_part(const struct mime_summary *s,
                                          const char *section);

/* SEARCH text (RFC 9051 6.4.4: case-insensitive substring matching on
 * decoded text). Each returns a malloc'd, case-folded UTF-8 string, or NULL
 * if the message cannot be read. */
/* Every value of the header field `name` (any case), RFC 2047 encoded
 * words decoded, joined with "\n"; "" when the field is absent. */
char *mime_search_header(int fd, const char *name);
/* The decoded text of every text/... part (transfer encodings undone,
 * charsets converted to UTF-8), at most max bytes. */
char *mime_search_body(int fd, size_t max);
/* The case-folded form of a UTF-8 search string (for the needle). */
char *mime_casefold(const char *utf8);
