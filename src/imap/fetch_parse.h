/* fetch_parse: FETCH's arguments (RFC 9051 6.4.5 and 9 fetch-att; RFC
 * 3516 BINARY; RFC 7162 3.1.4 CHANGEDSINCE, 3.2.6 VANISHED; RFC 8474
 * EMAILID/THREADID) as a list of items the server walks. Pure syntax.
 * STORE, SELECT, STATUS and LIST arguments are in args_parse.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

struct imap_parser;
struct imap_seqset;

enum imap_fetch_att {
    IMAP_FA_FLAGS,
    IMAP_FA_INTERNALDATE,
    IMAP_FA_RFC822_SIZE,
    IMAP_FA_ENVELOPE,
    IMAP_FA_BODY, /* BODYSTRUCTURE without extension data */
    IMAP_FA_BODYSTRUCTURE,
    IMAP_FA_UID,
    IMAP_FA_MODSEQ,
    IMAP_FA_EMAILID,
    IMAP_FA_THREADID,
    IMAP_FA_RFC822,        /* BODY[], sets \Seen */
    IMAP_FA_RFC822_HEADER, /* BODY.PEEK[HEADER] */
    IMAP_FA_RFC822_TEXT,   /* BODY[TEXT], sets \Seen */
    IMAP_FA_BODY_SECTION,  /* BODY[...] / BODY.PEEK[...] */
    IMAP_FA_BINARY,        /* BINARY[...] / BINARY.PEEK[...] */
    IMAP_FA_BINARY_SIZE,   /* BINARY.SIZE[...] */
};

/* RFC 9051 9 section-msgtext / section-text. */
enum imap_section_text {
    IMAP_SECT_ALL, /* "BODY[]" or "BODY[1]": the whole part */
    IMAP_SECT_HEADER,
    IMAP_SECT_HEADER_FIELDS,
    IMAP_SECT_HEADER_FIELDS_NOT,
    IMAP_SECT_TEXT,
    IMAP_SECT_MIME, /* only after a part number */
};

struct imap_fetch_item {
    enum imap_fetch_att att;
    bool peek;                              /* .PEEK: do not set \Seen (RFC 9051 6.4.5) */
    char part[IMAP_MAX_SECTION_DEPTH * 11]; /* section-part "1.2", or "" */
    enum imap_section_text text;
    const char **fields; /* HEADER.FIELDS(.NOT) names, as written */
    size_t nfields;
    bool partial; /* "<offset.length>" */
    uint64_t offset, length;
};

struct imap_fetch {
    struct imap_seqset *set; /* not resolved */
    size_t n;
    struct imap_fetch_item items[IMAP_MAX_FETCH_ATTS];
    bool changedsince; /* RFC 7162 3.1.4.1: implies MODSEQ */
    uint64_t modseq;
    bool vanished; /* RFC 7162 3.2.6: UID FETCH with CHANGEDSINCE only */
    size_t nfields;
    const char *fields[IMAP_MAX_HEADER_FIELDS];
};

/* sequence-set SP (ALL / FAST / FULL / fetch-att / "(" fetch-att *(SP
 * fetch-att) ")") [SP "(" fetch-modifier *(SP fetch-modifier) ")"], to the
 * end. uid: the command is UID FETCH (VANISHED allowed). 0 or -1. */
int imap_fetch_parse(struct imap_parser *p, bool uid, struct imap_fetch **out);
void imap_fetch_free(struct imap_fetch **f);
/* Whether some item sets \Seen (a non-PEEK body section, RFC822,
 * RFC822.TEXT; RFC 9051 6.4.5). */
bool imap_fetch_sets_seen(const struct imap_fetch *f);

/* The item's name in the FETCH response (RFC 9051 7.5.2 msg-att), e.g.
 * "BODY[1.HEADER.FIELDS (FROM TO)]<0>", snprintf style. */
size_t imap_fetch_item_name(const struct imap_fetch_item *it, char *out, size_t outlen);
