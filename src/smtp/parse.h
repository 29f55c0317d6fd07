/* parse: SMTP command arguments without I/O (RFC 5321 4.1.2, RFC 6531 3.3):
 * the reverse/forward path of MAIL and RCPT with quoted local parts, source
 * routes and UTF-8, and the ESMTP parameters after it. Fuzzed
 * (tests/fuzz/smtp). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "core/limits.h"

struct smtp_addr {
    bool null;       /* "<>" (MAIL only) */
    bool postmaster; /* "<Postmaster>" without a domain (RCPT only, 4.1.1.3) */
    bool utf8;       /* holds non-ASCII (needs SMTPUTF8, RFC 6531 3.4) */
    char local[SMTP_MAX_LOCAL * 2 + 3]; /* unquoted local part */
    char domain[SMTP_MAX_DOMAIN + 1];   /* lower-case for ASCII; or a [literal] */
    char address[SMTP_MAX_PATH + 1];    /* local@domain as written (quotes kept) */
};

struct smtp_param {
    char key[32];      /* upper-cased */
    const char *value; /* into the parsed line, or NULL for "KEY" */
};

struct smtp_args {
    struct smtp_addr addr;
    int nparams;
    struct smtp_param params[SMTP_MAX_PARAMS];
};

enum smtp_parse_error {
    SMTP_PARSE_OK = 0,
    SMTP_PARSE_SYNTAX = -1,   /* 501 5.5.4 / 5.1.3 */
    SMTP_PARSE_TOO_LONG = -2, /* 501 5.5.4: path or part over the 4.5.3.1 limits */
    SMTP_PARSE_UTF8 = -3,     /* non-ASCII without SMTPUTF8: 553 5.6.7 */
};

/* Parses "FROM:<path> [params]" (keyword "FROM") or "TO:<path> [params]"
 * (keyword "TO") in place: line is modified (values point into it).
 * utf8_ok: the transaction announced SMTPUTF8 (for RCPT) or the MAIL line
 * carries it (checked here for MAIL). */
enum smtp_parse_error smtp_parse_mail_rcpt(char *line, const char *keyword, bool utf8_ok,
                                           struct smtp_args *out);

/* Parses a path "<...>" of len bytes (no NUL inside). */
enum smtp_parse_error smtp_parse_path(const char *s, size_t len, bool utf8_ok,
                                      struct smtp_addr *out);

/* The value of param key (upper case) or NULL; *present tells "KEY" alone. */
const struct smtp_param *smtp_param_find(const struct smtp_args *a, const char *key);

/* "BDAT <size> [LAST]" arguments (RFC 3030 2). 0 or -1. */
int smtp_parse_bdat(const char *args, unsigned long long *size, bool *last);
/* A decimal number of at most 20 digits; 0 or -1. */
int smtp_parse_u64(const char *s, unsigned long long *out);

/* RFC 3461 4: xtext (xchar or "+" two upper-case hex digits), 1..max chars. */
bool smtp_xtext_valid(const char *s, size_t max);
/* RFC 3461 4.1: "NEVER" or a comma list of SUCCESS, FAILURE, DELAY, any
 * case; the QN_* bits (queue/queue.h) or 0 when malformed. */
unsigned smtp_parse_notify(const char *s);
