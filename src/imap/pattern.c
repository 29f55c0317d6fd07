/* pattern: RFC 9051 6.3.9 list wildcards, matched by dynamic programming
 * over the name so that "*a*a*a*b" costs O(pattern * name). Pure. */
#include "imap/pattern.h"

#include <stddef.h>
#include <string.h>

#include "core/limits.h"

static char upper(char c)
{
    if (c >= 'a' && c <= 'z')
        return (char)(c - 'a' + 'A');
    return c;
}

/* Length of the name's INBOX prefix that compares case-insensitively. */
static size_t inbox_prefix(const char *name, char delim)
{
    if (strncmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == delim))
        return 5;
    return 0;
}

bool imap_pattern_match(const char *pattern, const char *name, char delim)
{
    size_t n = strlen(name);
    if (n > IMAP_PATTERN_MAX_NAME)
        return false;
    size_t ci = inbox_prefix(name, delim);
    /* cur[j]: the pattern so far matches name[0..j) */
    bool a[IMAP_PATTERN_MAX_NAME + 1], b[IMAP_PATTERN_MAX_NAME + 1];
    bool *cur = a, *next = b;
    memset(cur, 0, (n + 1) * sizeof *cur);
    cur[0] = true;
    for (const char *pc = pattern; *pc != '\0'; pc++) {
        if (*pc == '*' && pc[1] == '*')
            continue; /* "**" is "*" */
        bool acc = false;
        for (size_t j = 0; j <= n; j++) {
            if (*pc == '*') {
                acc = acc || cur[j];
                next[j] = acc;
            } else if (*pc == '%') {
                /* "%" may not span a delimiter */
                if (j > 0 && name[j - 1] == delim)
                    acc = false;
                acc = acc || cur[j];
                next[j] = acc;
            } else if (j == 0) {
                next[j] = false;
            } else if (j - 1 < ci) {
                next[j] = cur[j - 1] && upper(*pc) == name[j - 1];
            } else {
                next[j] = cur[j - 1] && *pc == name[j - 1];
            }
        }
        bool *t = cur;
        cur = next;
        next = t;
    }
    return cur[n];
}
