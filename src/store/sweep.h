/* sweep: removes what a previous run of the server left unfinished (a
 * crash between creating an upload's temporary file and renaming it, and
 * Maildir tmp/ files older than 36 hours, the Maildir convention). */
#pragma once
#include <stdarg.h>
#include <stddef.h>

/* Formats an upload's temporary name: STORE_UPLOAD_PREFIX "<run>-" then
 * fmt, where <run> is a random marker drawn once per start (not the PID: a
 * server that is always PID 1 in a container would never sweep), so that a
 * later run can tell its own uploads from a crashed run's.
 * 0, or -1 if it does not fit. */
int store_upload_name(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Walks every account's file area and unlinks temporary upload files made
 * by another run than this one, and every account's Maildir tmp/ files
 * older than STORE_MAILDIR_TMP_MAX_AGE_SEC. Blocking (run it on the work
 * pool, once at every start); returns how many were removed. */
long store_sweep_uploads(int datadirfd);
