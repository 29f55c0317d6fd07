/* search_parse: the SEARCH program (RFC 9051 6.4.4 search-key, RFC 3501
 * 6.4.4 rev1 keys, RFC 7162 MODSEQ, RFC 8474 EMAILID/THREADID, RFC 5182
 * "$"), its CHARSET and RFC 4731 RETURN options, as a tree of nodes the
 * server evaluates; and the arguments of SORT (RFC 5256, RFC 5957
 * DISPLAYFROM/DISPLAYTO, RFC 5267 ESORT) and THREAD. Pure syntax. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

struct imap_parser;
struct imap_seqset;

enum imap_search_key {
    /* no argument */
    IMAP_SK_ALL,
    IMAP_SK_ANSWERED,
    IMAP_SK_DELETED,
    IMAP_SK_DRAFT,
    IMAP_SK_FLAGGED,
    IMAP_SK_SEEN,
    IMAP_SK_UNANSWERED,
    IMAP_SK_UNDELETED,
    IMAP_SK_UNDRAFT,
    IMAP_SK_UNFLAGGED,
    IMAP_SK_UNSEEN,
    IMAP_SK_NEW, /* RFC 3501 6.4.4: RECENT and UNSEEN */
    IMAP_SK_OLD, /* RFC 3501: NOT RECENT */
    IMAP_SK_RECENT,
    IMAP_SK_UNRECENT,
    /* str */
    IMAP_SK_KEYWORD,
    IMAP_SK_UNKEYWORD,
    IMAP_SK_BCC,
    IMAP_SK_BODY,
    IMAP_SK_CC,
    IMAP_SK_FROM,
    IMAP_SK_SUBJECT,
    IMAP_SK_TEXT,
    IMAP_SK_TO,
    IMAP_SK_HEADER, /* field and str */
    IMAP_SK_EMAILID,
    IMAP_SK_THREADID,
    /* date (days since the epoch) */
    IMAP_SK_BEFORE,
    IMAP_SK_ON,
    IMAP_SK_SINCE,
    IMAP_SK_SENTBEFORE,
    IMAP_SK_SENTON,
    IMAP_SK_SENTSINCE,
    /* num */
    IMAP_SK_LARGER,
    IMAP_SK_SMALLER,
    IMAP_SK_MODSEQ, /* num, and the optional entry */
    /* set */
    IMAP_SK_UID,
    IMAP_SK_SEQSET,
    /* children */
    IMAP_SK_AND, /* "(" search-key *(SP search-key) ")" and the program */
    IMAP_SK_OR,  /* exactly two children */
    IMAP_SK_NOT, /* one child */
};

/* RFC 7162 3.1.5 entry-type-req. */
enum imap_modseq_type { IMAP_MODSEQ_ALL, IMAP_MODSEQ_PRIV, IMAP_MODSEQ_SHARED };

struct imap_search_node {
    enum imap_search_key key;
    struct imap_search_node *child; /* AND/OR/NOT: the first child */
    struct imap_search_node *next;  /* the next sibling */
    const char *field;              /* HEADER: the field name */
    const char *str;                /* the string argument, NUL-terminated */
    size_t str_len;
    int64_t date;            /* days since 1970-01-01 */
    uint64_t num;            /* LARGER, SMALLER, MODSEQ */
    struct imap_seqset *set; /* UID, SEQSET: not resolved ("*" and "$" kept) */
    const char *entry;       /* MODSEQ: the flag of "/flags/<flag>", or NULL */
    enum imap_modseq_type entry_type;
    struct imap_search_node *alloc_next; /* every node, for freeing */
};

/* RFC 4731 3.1 search-return-opt (SAVE: RFC 5182). */
enum {
    IMAP_SEARCH_RET_MIN = 1 << 0,
    IMAP_SEARCH_RET_MAX = 1 << 1,
    IMAP_SEARCH_RET_ALL = 1 << 2,
    IMAP_SEARCH_RET_COUNT = 1 << 3,
    IMAP_SEARCH_RET_SAVE = 1 << 4,
};

struct imap_search {
    struct imap_search_node *root; /* an AND of the program's keys */
    bool esearch;                  /* RETURN was given: reply ESEARCH */
    unsigned ret;                  /* IMAP_SEARCH_RET_*; "RETURN ()" is ALL */
    bool modseq;                   /* a MODSEQ key: reply with (MODSEQ n) */
    size_t nodes;
    struct imap_search_node *all;
};

/* RFC 9051 6.4.4: an unsupported CHARSET is "NO [BADCHARSET (UTF-8
 * US-ASCII)]", not BAD: the one return value besides 0 and -1. */
#define IMAP_SEARCH_BADCHARSET (-2)

/* SEARCH's arguments: [RETURN (...)] [CHARSET x] search-key *(SP key),
 * to the end. 0, -1 (BAD, message in the parser) or
 * IMAP_SEARCH_BADCHARSET. */
int imap_search_parse(struct imap_parser *p, struct imap_search **out);
void imap_search_free(struct imap_search **s);

/* RFC 5256 3 sort-key, with REVERSE. */
enum imap_sort_key {
    IMAP_SORT_ARRIVAL,
    IMAP_SORT_CC,
    IMAP_SORT_DATE,
    IMAP_SORT_FROM,
    IMAP_SORT_SIZE,
    IMAP_SORT_SUBJECT,
    IMAP_SORT_TO,
    IMAP_SORT_DISPLAYFROM, /* RFC 5957 */
    IMAP_SORT_DISPLAYTO,
};
struct imap_sort {
    size_t n;
    struct {
        enum imap_sort_key key;
        bool reverse;
    } keys[IMAP_MAX_SORT_KEYS];
};

/* SORT's arguments (RFC 5256 3, RFC 5267 3.2 ESORT RETURN): [RETURN (...)]
 * (criteria) charset search-key *(SP key). Same returns as SEARCH. */
int imap_sort_parse(struct imap_parser *p, struct imap_sort *sort,
                    struct imap_search **out);

enum imap_thread_alg { IMAP_THREAD_ORDEREDSUBJECT, IMAP_THREAD_REFERENCES };
/* THREAD's arguments (RFC 5256 4): algorithm charset search-key *(SP key).
 * An unknown algorithm is BAD. */
int imap_thread_parse(struct imap_parser *p, enum imap_thread_alg *alg,
                      struct imap_search **out);

/* The key's name as in the RFC ("UNSEEN"), for logs and tests. */
const char *imap_search_key_name(enum imap_search_key k);
