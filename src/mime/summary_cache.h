/* summary_cache: internal to the MIME layer; the string fields of a
 * summary in their cache order (shared by the writer and the reader). */
#pragma once
#include "mime/summary.h"

#define MIME_SUMMARY_NSTRINGS 12

/* Pointers to the string members of s, in cache order. */
void mime_summary_strings(struct mime_summary *s, char **out[MIME_SUMMARY_NSTRINGS]);
