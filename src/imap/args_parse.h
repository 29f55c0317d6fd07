/* args_parse: the arguments of STORE (RFC 9051 6.4.6, RFC 7162 3.1.3
 * UNCHANGEDSINCE), SELECT/EXAMINE (RFC 9051 6.3.2, RFC 7162 3.1.8
 * CONDSTORE and 3.2.5 QRESYNC), STATUS (RFC 9051 6.3.11, RFC 8438 SIZE,
 * RFC 7889 APPENDLIMIT, RFC 8474 MAILBOXID) and LIST (RFC 9051 6.3.9,
 * RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE, RFC 5819 LIST-STATUS).
 * Each parses to the end of the arguments. Pure syntax. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/parse.h"

struct imap_seqset;

enum imap_store_op { IMAP_STORE_SET, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store {
    struct imap_seqset *set; /* not resolved */
    bool unchangedsince;
    uint64_t modseq; /* UNCHANGEDSINCE mod-sequence-valzer */
    enum imap_store_op op;
    bool silent;
    struct imap_flags flags;
};

/* sequence-set [SP "(" "UNCHANGEDSINCE" SP n ")"] SP ["+"/"-"]
 * "FLAGS"[".SILENT"] SP (flag-list / flag *(SP flag)). */
int imap_store_parse(struct imap_parser *p, struct imap_store **out);
void imap_store_free(struct imap_store **s);

struct imap_select {
    const char *mailbox;
    bool condstore; /* CONDSTORE, or implied by QRESYNC (RFC 7162 3.2.5) */
    bool qresync;
    uint32_t uidvalidity;
    uint64_t modseq;
    struct imap_seqset *known_uids; /* or NULL; "*" refused */
    struct imap_seqset *match_seqs; /* seq-match-data, or NULL */
    struct imap_seqset *match_uids;
};
/* mailbox [SP "(" select-param *(SP select-param) ")"]. On success the
 * caller frees with imap_select_clear. */
int imap_select_parse(struct imap_parser *p, struct imap_select *out);
void imap_select_clear(struct imap_select *s);

enum {
    IMAP_STATUS_MESSAGES = 1 << 0,
    IMAP_STATUS_UIDNEXT = 1 << 1,
    IMAP_STATUS_UIDVALIDITY = 1 << 2,
    IMAP_STATUS_UNSEEN = 1 << 3,
    IMAP_STATUS_DELETED = 1 << 4,
    IMAP_STATUS_SIZE = 1 << 5,
    IMAP_STATUS_HIGHESTMODSEQ = 1 << 6,
    IMAP_STATUS_RECENT = 1 << 7, /* rev1 (RFC 3501 6.3.10) */
    IMAP_STATUS_APPENDLIMIT = 1 << 8,
    IMAP_STATUS_MAILBOXID = 1 << 9,
    IMAP_STATUS_DELETED_STORAGE = 1 << 10, /* RFC 9208 */
};
/* "(" status-att *(SP status-att) ")" as IMAP_STATUS_* bits. */
int imap_status_items(struct imap_parser *p, unsigned *items);
/* mailbox SP "(" status-att ... ")". */
int imap_status_parse(struct imap_parser *p, const char **mailbox, unsigned *items);
/* The name of one item bit ("UIDNEXT"). */
const char *imap_status_item_name(unsigned bit);

enum {
    IMAP_LIST_SEL_SUBSCRIBED = 1 << 0,
    IMAP_LIST_SEL_REMOTE = 1 << 1,
    IMAP_LIST_SEL_RECURSIVEMATCH = 1 << 2,
    IMAP_LIST_SEL_SPECIAL_USE = 1 << 3,
};
enum {
    IMAP_LIST_RET_SUBSCRIBED = 1 << 0,
    IMAP_LIST_RET_CHILDREN = 1 << 1,
    IMAP_LIST_RET_SPECIAL_USE = 1 << 2,
    IMAP_LIST_RET_STATUS = 1 << 3,
};
struct imap_list {
    bool extended;        /* selection or return options, or a pattern list */
    unsigned select, ret; /* IMAP_LIST_SEL_*, IMAP_LIST_RET_* */
    unsigned status;      /* RETURN (STATUS (...)): IMAP_STATUS_* */
    const char *reference;
    size_t npatterns;
    const char *patterns[IMAP_MAX_LIST_PATTERNS];
};
/* [SP? "(" select-opts ")" SP] reference SP (pattern / "(" patterns ")")
 * [SP "RETURN" SP "(" return-opts ")"]. LSUB uses the same call and
 * refuses extended. */
int imap_list_parse(struct imap_parser *p, struct imap_list *out);
