/* folder_name: folder names of the API (UTF-8, '/' between levels, "INBOX"
 * any case) checked and mapped to their Maildir++ directory (".A.B", each
 * level in modified UTF-7, as Courier and Dovecot write them) and back.
 * Pure. Internal to store/. */
#pragma once
#include <stddef.h>

#include "core/limits.h"

/* Checks name and writes its canonical form ("INBOX" upper-case, also as
 * the first level of "INBOX/x"). -1 with errno EINVAL for: empty, longer
 * than MAIL_MAX_FOLDER, invalid UTF-8, a control character, '/' at either
 * end or twice in a row, '.' (the on-disk separator; so no ".."), or the
 * LIST wildcards '%' and '*' (RFC 9051 5.1). */
int folder_name_canon(const char *name, char *out, size_t outlen);
/* Canonical name to its directory beneath mail/: "." for INBOX, else
 * ".<mutf7 levels joined with '.'>". -1 EINVAL (bad or too long on disk). */
int folder_name_to_dir(const char *name, char *out, size_t outlen);
/* A directory name of mail/ (".A.B") back to its API name; -1 if it is not
 * a folder (no leading '.', ".", "..", bad modified UTF-7). */
int folder_name_from_dir(const char *dir, char *out, size_t outlen);
/* Whether canonical name is INBOX itself. */
int folder_name_is_inbox(const char *name);
