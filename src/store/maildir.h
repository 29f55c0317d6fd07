/* maildir: the on-disk Maildir++ layout of an account (DESIGN.md "Storage"):
 * users/<domain>/<local>/mail/ is INBOX (cur/ new/ tmp/), other folders are
 * ".Name/" beside them, hierarchy joined with '.'. Message file names are
 * "<unique>,S=<size>,W=<vsize>" in new/ and "<unique>,S=..,W=..:2,<flags>"
 * in cur/. Stored bytes use LF line ends; W is the size with every LF sent
 * as CRLF (size + number of LFs), which POP3 and IMAP report. Blocking. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "core/limits.h"

/* Folders every new account gets besides INBOX (RFC 6154 special uses). */
extern const char *const maildir_default_folders[];

/* Opens (creating with the default folders as needed) the account's mail/
 * directory. Returns a directory fd or -1 with errno. */
int maildir_open(int datadirfd, const struct account *a);

/* Opens a folder's directory beneath the mail/ fd: "INBOX" (any case) is the
 * root, "Sent" is ".Sent", "A/B" is ".A.B" (levels in modified UTF-7,
 * store/folder_name.h). create: make it (with cur/ new/ tmp/) if missing.
 * -1 with errno (EINVAL for a bad name). */
int maildir_folder_open(int mailfd, const char *folder, bool create);

/* One message file as found in new/ or cur/. */
struct maildir_entry {
    char base[MAIL_MAX_FILENAME + 1]; /* name up to ":2," */
    char flags[32];                   /* letters after ":2," as written, or "" */
    bool in_cur;
    uint64_t size, vsize; /* from S= and W=, 0 when the name lacks them */
};

/* Splits a file name into base, flags, size and vsize. -1 if not a message
 * name (dot files, names with '/'). */
int maildir_parse_name(const char *name, bool in_cur, struct maildir_entry *out);
/* "cur/<base>:2,<flags>" or "new/<base>" into out. -1 if it does not fit. */
int maildir_entry_path(const struct maildir_entry *e, char *out, size_t outlen);

/* One file of a scan: as maildir_entry, with its base and flags in the
 * list's text (a 10,000-file scan holds 0.7 MB, not 3 MB of fixed-size
 * entries that the merge then reads in sorted, not memory, order). */
struct maildir_file {
    const char *base, *flags;
    uint16_t base_len, flags_len; /* their strlen (a name is at most NAME_MAX) */
    bool in_cur;
    uint64_t size, vsize;
};
struct maildir_text;
/* The files of a folder: files in the directories' order, sorted the
 * same files by base. */
struct maildir_list {
    struct maildir_file *files;
    const struct maildir_file **sorted;
    size_t n;
    struct maildir_text *text; /* where the names are */
};
/* Lists new/ and cur/ of a folder fd. Sizes come from the names only (0
 * without S=/W=: the index learns them from the file when a reader first
 * needs them, store/index_fill.c). Returns the count or -1; free the
 * list with maildir_list_free either way. */
long maildir_scan(int folderfd, struct maildir_list *out);
void maildir_list_free(struct maildir_list *l);

/* A fresh unique base name "<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>,W=<vsize>". */
int maildir_new_base(uint64_t size, uint64_t vsize, char *out, size_t outlen);

/* Counts size and vsize (size + LFs) of an open file by reading it. */
int maildir_measure(int fd, uint64_t *size, uint64_t *vsize);

/* fsync(2) of a directory beneath dirfd ("." for dirfd itself). */
int maildir_fsync_dir(int dirfd, const char *name);
