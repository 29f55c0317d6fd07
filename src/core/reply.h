/* reply: the pure parser of SMTP-style multi-line replies (RFC 5321 4.2):
 * "250-first", "250-second", "250 last". No I/O: it takes one line at a
 * time (without CRLF, as linebuf_next gives them); the client-mode session
 * and the fuzzer drive it. Limits are explicit: a reply line may be longer
 * than RFC 5321 4.5.3.1.5's 512 octets, up to REPLY_MAX_LINE (the caller's
 * line reader enforces it and reports an overlong line with
 * reply_line_too_long), a reply has at most REPLY_MAX_LINES lines, and its
 * text is kept up to REPLY_MAX_TEXT bytes (the rest is counted, not kept). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define REPLY_MAX_LINE 4096  /* with CRLF; RFC 5321 asks for 512 */
#define REPLY_MAX_LINES 200  /* lines of one reply (EHLO has ~15) */
#define REPLY_MAX_TEXT 16384 /* bytes of text kept per reply */

enum reply_status {
    REPLY_MORE,  /* a continuation line ("250-"): the reply goes on */
    REPLY_DONE,  /* the last line: the reply is complete in p->reply */
    REPLY_ERROR, /* malformed; p->error says why; the connection is unusable */
};

struct reply {
    int code;       /* 100..599: three digits, RFC 5321 4.2 */
    unsigned lines; /* lines in the reply */
    size_t len;     /* of text */
    bool truncated; /* text was longer than REPLY_MAX_TEXT - 1 */
    /* Each line's text after "NNN-" / "NNN " (or nothing), joined by '\n',
     * NUL-terminated. With enhanced status codes (RFC 2034) they stay part
     * of the text; reply_enhanced() picks them out. */
    char text[REPLY_MAX_TEXT];
};

struct reply_parser {
    struct reply reply;
    bool in_reply; /* a continuation line was seen */
    const char *error;
};

/* Starts (or restarts after DONE or ERROR) with an empty reply. */
void reply_parser_init(struct reply_parser *p);
/* One line, without its CRLF; line need not be NUL-terminated and may
 * contain NUL (an error). After DONE, the next call starts a new reply.
 * After ERROR the parser stays in error until reset. Errors: not three
 * digits, a first digit outside 1-5, a code differing from the reply's
 * first line (RFC 5321 4.2.1 "the same code on each line"), a separator
 * other than '-', ' ' or end of line, a control character or NUL in the
 * text, more than REPLY_MAX_LINES lines. */
enum reply_status reply_parser_line(struct reply_parser *p, const char *line, size_t len);
/* The line reader met a line over REPLY_MAX_LINE: the reply is refused
 * (REPLY_ERROR, "reply line too long"). */
enum reply_status reply_line_too_long(struct reply_parser *p);

/* The class of a reply: 2 (ok), 3 (go on), 4 (temporary), 5 (permanent). */
int reply_class(const struct reply *r);
/* The enhanced status code of the first line ("2.1.0", RFC 3463 2) into
 * buf (at least 16 bytes), or "" when there is none. */
void reply_enhanced(const struct reply *r, char *buf, size_t len);
/* The reply as one log-safe line: "250 first / second" (bounded to len). */
void reply_summary(const struct reply *r, char *buf, size_t len);
/* For EHLO replies (RFC 5321 4.1.1.1): whether a line after the first
 * starts with keyword (case-insensitive), and if so its parameters
 * ("SIZE 10240000" gives "10240000"; a keyword alone gives "") into
 * params. */
bool reply_has_keyword(const struct reply *r, const char *keyword, char *params,
                       size_t plen);
