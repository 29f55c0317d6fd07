/* sweep: removes what a previous run of the server left unfinished (a
 * crash between creating an upload's temporary file and renaming it, and
 * Maildir tmp/ files older than 36 hours, the Maildir convention). */
#pragma once
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Formats an upload's temporary name: STORE_UPLOAD_PREFIX "<run>-" then
 * fmt, where <run> is a random marker drawn once per start (not the PID: a
 * server that is always PID 1 in a container would never sweep), so that a
 * later run can tell its own uploads from a crashed run's.
 * 0, or -1 if it does not fit. */
int store_upload_name(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* APPE in place (RFC 959 APPE appends to the file itself): before the
 * first byte, a journal STORE_UPLOAD_PREFIX "appe-<run>-<tag>" beside the
 * file records its size (written and fsynced); a clean end or the
 * acknowledgement removes it. A crash leaves it, and the next start's
 * sweep truncates the file back to that size: an append never
 * acknowledged leaves no partial data. name gets the journal's name. */
int store_appe_journal_begin(int dirfd, const char *leaf, uint64_t size, const char *tag,
                             char *name, size_t namelen);
void store_appe_journal_end(int dirfd, char *name); /* name becomes "" */

/* Walks every account's file area and unlinks temporary upload files made
 * by another run than this one, and every account's Maildir tmp/ files
 * older than STORE_MAILDIR_TMP_MAX_AGE_SEC. Blocking (run it on the work
 * pool, once at every start); returns how many were removed. */
long store_sweep_uploads(int datadirfd);
