/* flags: IMAP system flags and keywords as the store keeps them: system
 * flags as Maildir info letters in the file name (":2," then D F P R S T in
 * ASCII order), keywords as space-separated atoms in the index. Pure (no
 * I/O). Internal to store/. */
#pragma once
#include <stddef.h>

#include "store/mailbox.h"

#define MAIL_MAX_INFO 32 /* the letters after ":2," (struct maildir_entry) */

/* MAIL_* bits of an info part; letters it does not know are ignored. */
unsigned mail_flags_from_info(const char *info);
/* The info part for flags: the letters of flags, plus every letter of old
 * that is not a system flag (another program's, e.g. Dovecot's keyword
 * letters a-z), all in ASCII order. -1 if it does not fit. */
int mail_flags_to_info(unsigned flags, const char *old, char *out, size_t outlen);

/* Checks and normalises a keyword list: atoms (RFC 9051 9 flag-keyword),
 * one space between, duplicates (compared case-insensitively) dropped,
 * first spelling kept. "$Forwarded" is taken out and reported in *extra
 * as MAIL_FORWARDED (it is Maildir's P). NULL is the empty list. -1 with
 * errno EINVAL (not an atom, starts with '\') or E2BIG (more than
 * MAIL_MAX_KEYWORDS or MAIL_MAX_KEYWORDS_LEN bytes). */
int mail_keywords_normalise(const char *in, char *out, size_t outlen, unsigned *extra);

/* A STORE applied to one message's flags and keywords (both normalised):
 * new values in *flags and out. -1 E2BIG if the result is over the limits. */
int mail_flags_apply(enum mailbox_flag_op op, unsigned ch_flags, const char *ch_keywords,
                     unsigned *flags, const char *keywords, char *out, size_t outlen);
