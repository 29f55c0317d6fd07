/* seqset: IMAP sequence sets (RFC 9051 9 sequence-set; "$" from RFC 5182
 * SEARCHRES): parsed from a command, resolved against the highest message
 * number or UID for "*", then a sorted list of disjoint ranges to test
 * membership in or to walk; and the reverse, a sorted array of UIDs
 * written as a compact set ("1:5,7,9:12") for COPYUID (RFC 4315), ESEARCH
 * ALL (RFC 4731) and VANISHED (RFC 7162). Pure. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct imap_parser;

struct imap_range {
    uint32_t lo, hi; /* before resolving, 0 stands for "*" and lo > hi may be */
};

struct imap_seqset {
    size_t n, cap;
    struct imap_range *r;
    bool star;     /* a "*" not yet resolved */
    bool saved;    /* "$": the server substitutes its saved result */
    bool resolved; /* sorted, merged, lo <= hi (imap_seqset_resolve) */
};

enum {
    IMAP_SEQ_NO_STAR = 1 << 0,     /* "*" refused (RFC 7162 known-uids) */
    IMAP_SEQ_ALLOW_SAVED = 1 << 1, /* "$" accepted (RFC 5182 2.1) */
};

/* Parses a sequence-set at the cursor (at most IMAP_MAX_SEQ_RANGES
 * ranges; 0 refused, numbers up to 4294967295). 0 or -1. */
int imap_seqset_parse(struct imap_parser *p, unsigned flags, struct imap_seqset **out);
struct imap_seqset *imap_seqset_new(void);
void imap_seqset_free(struct imap_seqset **s);
/* Appends lo:hi (either order, 0 for "*"); -1 past the range limit or
 * out of memory. */
int imap_seqset_add(struct imap_seqset *s, uint32_t lo, uint32_t hi);
/* Replaces "*" by star (the highest message number or UID in use, 0 for
 * an empty mailbox), orders each range, sorts and merges. 0 or -1 (out of
 * memory is impossible; a "$" set must be replaced first: -1). */
int imap_seqset_resolve(struct imap_seqset *s, uint32_t star);
/* A resolved set of the values of sorted[0..n) (SEARCHRES SAVE). */
struct imap_seqset *imap_seqset_from_array(const uint32_t *sorted, size_t n);

/* Resolved sets only. */
bool imap_seqset_contains(const struct imap_seqset *s, uint32_t v);
uint64_t imap_seqset_count(const struct imap_seqset *s);
uint32_t imap_seqset_max(const struct imap_seqset *s); /* 0 when empty */
/* Walks the values in order: start with it = {0}; false when done. */
struct imap_seqset_iter {
    size_t i;
    uint64_t next;
};
bool imap_seqset_next(const struct imap_seqset *s, struct imap_seqset_iter *it,
                      uint32_t *v);
/* The indexes i of sorted[0..n) (ascending UIDs or message numbers) whose
 * value is in s, written to idx (room for n); returns how many. */
size_t imap_seqset_filter(const struct imap_seqset *s, const uint32_t *sorted, size_t n,
                          size_t *idx);

/* Writes sorted[0..n) (ascending; duplicates allowed) as a compact set,
 * snprintf style: returns the length needed without the NUL, writes at
 * most outlen bytes with the NUL. "" for n == 0. */
size_t imap_seqset_format(const uint32_t *sorted, size_t n, char *out, size_t outlen);
