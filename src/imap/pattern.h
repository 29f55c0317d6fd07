/* pattern: LIST/LSUB mailbox pattern matching (RFC 9051 6.3.9: "*"
 * matches anything, "%" anything but the hierarchy delimiter). Pure. */
#pragma once
#include <stdbool.h>

/* Whether name matches pattern with delimiter delim. "INBOX" (and an
 * "INBOX<delim>" prefix) of name matches case-insensitively (RFC 9051
 * 5.1). Names longer than IMAP_PATTERN_MAX_NAME never match. Time is
 * O(pattern * name), never exponential. */
bool imap_pattern_match(const char *pattern, const char *name, char delim);
