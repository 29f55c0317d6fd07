/* sweep: removes uploads a previous run of the server left unfinished (a
 * crash between creating an upload's temporary file and renaming it). */
#pragma once
#include <stdarg.h>
#include <stddef.h>

/* Formats an upload's temporary name: STORE_UPLOAD_PREFIX "<pid>-" then
 * fmt, so that a later run can tell its own uploads from a crashed run's.
 * 0, or -1 if it does not fit. */
int store_upload_name(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Walks every account's file area and unlinks temporary upload files made
 * by another process than this one. Blocking (run it on the work pool);
 * returns how many were removed. */
long store_sweep_uploads(int datadirfd);
