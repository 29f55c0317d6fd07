/* parse: the IMAP argument reader (RFC 9051 9 formal syntax, RFC 3501 for
 * rev1 clients). Pure syntax: no I/O, no session, no store. It reads the
 * text of one assembled command (after tag and verb, literal announcements
 * kept in place) together with that command's literals, in order (see
 * struct session_literal in core/session.h). Every function returns 0 on
 * success or -1 with a message for "BAD <message>" in the parser's error
 * buffer; nothing reads past the text or past a literal's length.
 * Strings handed out live as long as the parser (text-borne ones are
 * copied, NUL-terminated, into the parser's scratch) or as long as the
 * session's literals (literal-borne ones are references). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

struct session_literal;
struct imap_scratch_block;

enum {
    /* 8-bit UTF-8 is allowed in quoted strings (RFC 9051 4.3; RFC 6855
     * UTF8=ACCEPT); without it 8-bit octets are refused there (RFC 3501
     * 9 QUOTED-CHAR is 7-bit). */
    IMAP_PARSE_UTF8 = 1 << 0,
    /* Mailbox names are modified UTF-7 (rev1 client, RFC 3501 5.1.3):
     * imap_mailbox() decodes them to UTF-8. */
    IMAP_PARSE_MUTF7 = 1 << 1,
};

struct imap_parser {
    const char *s; /* the command's arguments */
    size_t len, pos;
    const struct session_literal *lits;
    size_t nlits, lit_next;             /* the next literal a marker maps to */
    unsigned flags;                     /* IMAP_PARSE_* */
    unsigned depth;                     /* open parentheses */
    struct imap_scratch_block *scratch; /* copies of text-borne strings */
    char *err;
    size_t errlen;
};

/* A string value (RFC 9051 9 string / astring / nstring). */
struct imap_string {
    const char *data; /* NUL-terminated; NULL for a spooled literal */
    uint64_t len;
    int fd;       /* a spooled literal's file (read from offset 0), or -1 */
    bool literal; /* came as a literal (may hold anything but NUL) */
    bool binary;  /* "~{n}" literal8 (RFC 3516 4.3: may hold NUL) */
};

/* A reader over args (NUL-terminated) and lits[0..nlits); err gets the
 * message on failure. NULL when out of memory. */
struct imap_parser *imap_parser_new(const char *args, const struct session_literal *lits,
                                    size_t nlits, unsigned flags, char *err,
                                    size_t errlen);
void imap_parser_free(struct imap_parser **p);

/* Fails with the message (printf style) in the error buffer; returns -1. */
int imap_error(struct imap_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Scratch memory that lives as long as the parser (for decoded strings):
 * reserve n bytes, then commit what was used; or put a NUL-terminated
 * copy. NULL when out of memory. */
char *imap_scratch_reserve(struct imap_parser *p, size_t n);
void imap_scratch_commit(struct imap_parser *p, size_t n);
char *imap_scratch_put(struct imap_parser *p, const char *s, size_t n);

/* The next character, or -1 at the end of the text. */
int imap_peek(const struct imap_parser *p);
/* Consumes c if it is next; true if it did. */
bool imap_accept(struct imap_parser *p, char c);
/* Consumes c or fails with "Expected 'c'". */
int imap_expect(struct imap_parser *p, char c);
/* Exactly one SP (RFC 9051 9: arguments are separated by one SP). */
int imap_sp(struct imap_parser *p);
/* True at the end of the text. */
bool imap_at_end(const struct imap_parser *p);
/* The end of the arguments: fails on extra text or unused literals. */
int imap_end(struct imap_parser *p);
/* Consumes a case-insensitive word if it is next and ends there (before
 * SP, '(', ')', '[', ']' or the end); true if it did. */
bool imap_accept_word(struct imap_parser *p, const char *word);

/* RFC 9051 9 atom: 1*ATOM-CHAR. */
int imap_atom(struct imap_parser *p, const char **out);
/* 1*(ATOM-CHAR or a character of extra) except the characters of stop:
 * "]" for ASTRING-CHAR, "%*]" for list-char, stop "[<" for "BODY[". */
int imap_chars(struct imap_parser *p, const char *extra, const char *stop,
               const char **out);
/* RFC 9051 9 string: quoted / literal. A spooled literal is given as fd. */
int imap_string(struct imap_parser *p, struct imap_string *out);
/* RFC 9051 9 astring: 1*ASTRING-CHAR / string. */
int imap_astring(struct imap_parser *p, struct imap_string *out);
/* RFC 9051 9 nstring: string / "NIL"; *nil says which. */
int imap_nstring(struct imap_parser *p, struct imap_string *out, bool *nil);
/* An astring as text: in memory, no NUL inside (search strings, header
 * names, keywords as strings). */
int imap_astring_text(struct imap_parser *p, const char **out, size_t *len);
int imap_string_text(struct imap_parser *p, const char **out, size_t *len);
/* A literal only (APPEND's message, RFC 9051 6.3.12; literal8 too). */
int imap_literal(struct imap_parser *p, struct imap_string *out);

/* Numbers (RFC 9051 9): number (0..2^32-1), nz-number (1..2^32-1);
 * number64 (0..2^63-1, RFC 9051 9); mod-sequence-value (1..2^63-1,
 * RFC 7162 7) and mod-sequence-valzer (0..2^63-1). */
int imap_number(struct imap_parser *p, uint32_t *out);
int imap_nz_number(struct imap_parser *p, uint32_t *out);
int imap_number64(struct imap_parser *p, uint64_t *out);
int imap_modseq(struct imap_parser *p, uint64_t *out);
int imap_modseq_valzer(struct imap_parser *p, uint64_t *out);

/* Lists: "(" opens (refused beyond IMAP_MAX_LIST_DEPTH). Then
 * imap_list_next(p, &first) returns 1 before each item, 0 once the ")"
 * has been read, -1 on a syntax error; items are separated by one SP. */
int imap_list_open(struct imap_parser *p);
int imap_list_next(struct imap_parser *p, bool *first);
/* Skips any one value (atom, string, NIL, nested list) under the depth
 * cap: for extension parameters the server ignores. */
int imap_skip_value(struct imap_parser *p);

/* Flags (RFC 9051 2.3.2, 9 flag): system flags as bits, keywords kept. */
enum {
    IMAP_FLAG_SEEN = 1 << 0,
    IMAP_FLAG_ANSWERED = 1 << 1,
    IMAP_FLAG_FLAGGED = 1 << 2,
    IMAP_FLAG_DELETED = 1 << 3,
    IMAP_FLAG_DRAFT = 1 << 4,
};
struct imap_flags {
    unsigned system; /* IMAP_FLAG_* */
    size_t nkeywords;
    const char *keywords[IMAP_MAX_FLAG_KEYWORDS]; /* as written */
};
/* One flag added to *f: a system flag or a keyword (atom). \Recent and
 * other "\"-flags are refused (RFC 9051 6.4.6 / 6.3.12: the client may not
 * set \Recent; flag-extension is for servers to define). */
int imap_flag(struct imap_parser *p, struct imap_flags *f);
/* RFC 9051 9 flag-list: "(" [flag *(SP flag)] ")"; *f is reset first. */
int imap_flag_list(struct imap_parser *p, struct imap_flags *f);

/* RFC 9051 9 date-time: DQUOTE date-day-fixed "-" date-month "-"
 * date-year SP time SP zone DQUOTE, as seconds since the epoch (UTC) and
 * the zone in minutes east. */
int imap_date_time(struct imap_parser *p, int64_t *utc, int *zone_min);
/* RFC 9051 9 date (SEARCH): date-text / DQUOTE date-text DQUOTE, as days
 * since 1970-01-01 (time and zone are disregarded, 6.4.4). */
int imap_date(struct imap_parser *p, int64_t *days);
/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
int64_t imap_days_from_civil(int year, unsigned mon, unsigned day);

/* RFC 9051 9 mailbox: "INBOX" (any case, 5.1) / astring; validated UTF-8
 * without controls (after modified UTF-7 decoding with IMAP_PARSE_MUTF7);
 * "INBOX" in any case is returned as "INBOX". At most MAIL_MAX_FOLDER
 * bytes. */
int imap_mailbox(struct imap_parser *p, const char **out);
/* RFC 9051 9 list-mailbox: 1*list-char / string (LIST patterns keep '*'
 * and '%'); decoded like imap_mailbox() but "INBOX" is not special. */
int imap_list_mailbox(struct imap_parser *p, const char **out);
