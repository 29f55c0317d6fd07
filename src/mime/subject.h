/* subject: the RFC 5256 2.1 base subject used by SORT SUBJECT and THREAD.
 * Pure C; the input is already RFC 2047-decoded UTF-8. */
#pragma once
#include <stdbool.h>

/* Returns the malloc'd base subject of a decoded subject (NULL: ""), and
 * whether a reply/forward marker was removed (RFC 5256 2.1 note, used by
 * THREAD=REFERENCES 4 (5)(C)). NULL only when out of memory. */
char *mime_base_subject(const char *decoded, bool *is_reply);
