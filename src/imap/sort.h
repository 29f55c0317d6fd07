/* sort: RFC 5256 SORT (and RFC 5957 DISPLAYFROM/DISPLAYTO) as a pure
 * function over an array of keys taken from the index and the cached
 * summary. No I/O and no IMAP syntax: the HTTP mail API reuses it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One message's sort keys. Strings are never NULL ("" when absent). */
struct sort_item {
    uint32_t seq;               /* position in the mailbox: the final tie-break */
    uint32_t uid;               /* carried along for the caller */
    int64_t arrival;            /* INTERNALDATE */
    int64_t date;               /* the Date: header, 0 when missing or bad */
    uint64_t size;              /* RFC822.SIZE */
    const char *subject;        /* RFC 5256 2.1 base subject */
    const char *from, *to, *cc; /* first addr-mailbox, lower case */
    const char *display_from, *display_to; /* RFC 5957 */
};

/* RFC 5256 3 sort keys. */
enum sort_key {
    SORT_ARRIVAL,
    SORT_CC,
    SORT_DATE,
    SORT_FROM,
    SORT_SIZE,
    SORT_SUBJECT,
    SORT_TO,
    SORT_DISPLAYFROM,
    SORT_DISPLAYTO,
};

struct sort_criterion {
    enum sort_key key;
    bool reverse;
};

#define SORT_MAX_CRITERIA 16

/* Sorts items in place by the criteria in order; messages equal under all
 * of them stay in mailbox (seq) order (RFC 5256 3). */
void sort_items(struct sort_item *items, size_t n, const struct sort_criterion *crit,
                size_t ncrit);

/* The i;unicode-casemap comparison used for the string keys (RFC 5256 3
 * with RFC 5051): ASCII letters case-insensitively, other octets as they
 * are (the keys are already decoded UTF-8). */
int sort_strcmp(const char *a, const char *b);

/* RFC 5256 2.2 sent date: the Date: header, else INTERNALDATE. */
int64_t sort_sent_date(const struct sort_item *it);
