/* list: directory listings in the three forms clients parse: LIST as
 * `ls -l` (what lftp, curl and FileZilla read), NLST names (RFC 959 4.1.3)
 * and MLSD/MLST facts (RFC 3659 7). Formatting only; list_dir blocks (run
 * it on the work pool). */
#pragma once
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

struct evbuffer;

enum list_style { LIST_LS, LIST_NLST, LIST_MLSD };

/* Upload temp files (transfer.c) start with this and are never listed. */

/* One entry; name is printed as given. readonly: MLSD perm facts for an
 * anonymous session. link: a symlink's target for LIST, or NULL. */
void list_entry(struct evbuffer *out, enum list_style style, const char *name,
                const struct stat *st, const char *link, bool readonly, time_t now);

/* Every entry of the directory dirfd (not closed), dot files only with
 * all; at most FTP_LIST_MAX_ENTRIES. 0 or -1 with errno. */
int list_dir(int dirfd, enum list_style style, bool all, bool readonly,
             struct evbuffer *out);
