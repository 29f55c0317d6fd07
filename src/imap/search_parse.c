/* search_parse: RFC 9051 9 search-program / search-key grammar into a
 * tree, with the RFC 4731 RETURN options, CHARSET, and the SORT (RFC 5256
 * 3) and THREAD (RFC 5256 4) front parts. Node count and nesting are
 * bounded (limits.h). Pure. */
#include "imap/search_parse.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/parse.h"
#include "imap/seqset.h"

enum arg_kind {
    ARG_NONE,
    ARG_STR,
    ARG_ATOM,
    ARG_HEADER,
    ARG_DATE,
    ARG_NUM,
    ARG_SET,
    ARG_MODSEQ,
    ARG_OBJECTID,
    ARG_NOT,
    ARG_OR
};

static const struct key_def {
    const char *name;
    enum imap_search_key key;
    enum arg_kind arg;
} keys[] = {
    {"ALL", IMAP_SK_ALL, ARG_NONE},
    {"ANSWERED", IMAP_SK_ANSWERED, ARG_NONE},
    {"DELETED", IMAP_SK_DELETED, ARG_NONE},
    {"DRAFT", IMAP_SK_DRAFT, ARG_NONE},
    {"FLAGGED", IMAP_SK_FLAGGED, ARG_NONE},
    {"SEEN", IMAP_SK_SEEN, ARG_NONE},
    {"UNANSWERED", IMAP_SK_UNANSWERED, ARG_NONE},
    {"UNDELETED", IMAP_SK_UNDELETED, ARG_NONE},
    {"UNDRAFT", IMAP_SK_UNDRAFT, ARG_NONE},
    {"UNFLAGGED", IMAP_SK_UNFLAGGED, ARG_NONE},
    {"UNSEEN", IMAP_SK_UNSEEN, ARG_NONE},
    {"NEW", IMAP_SK_NEW, ARG_NONE},
    {"OLD", IMAP_SK_OLD, ARG_NONE},
    {"RECENT", IMAP_SK_RECENT, ARG_NONE},
    {"UNRECENT", IMAP_SK_UNRECENT, ARG_NONE},
    {"KEYWORD", IMAP_SK_KEYWORD, ARG_ATOM},
    {"UNKEYWORD", IMAP_SK_UNKEYWORD, ARG_ATOM},
    {"BCC", IMAP_SK_BCC, ARG_STR},
    {"BODY", IMAP_SK_BODY, ARG_STR},
    {"CC", IMAP_SK_CC, ARG_STR},
    {"FROM", IMAP_SK_FROM, ARG_STR},
    {"SUBJECT", IMAP_SK_SUBJECT, ARG_STR},
    {"TEXT", IMAP_SK_TEXT, ARG_STR},
    {"TO", IMAP_SK_TO, ARG_STR},
    {"HEADER", IMAP_SK_HEADER, ARG_HEADER},
    {"EMAILID", IMAP_SK_EMAILID, ARG_OBJECTID},
    {"THREADID", IMAP_SK_THREADID, ARG_OBJECTID},
    {"BEFORE", IMAP_SK_BEFORE, ARG_DATE},
    {"ON", IMAP_SK_ON, ARG_DATE},
    {"SINCE", IMAP_SK_SINCE, ARG_DATE},
    {"SENTBEFORE", IMAP_SK_SENTBEFORE, ARG_DATE},
    {"SENTON", IMAP_SK_SENTON, ARG_DATE},
    {"SENTSINCE", IMAP_SK_SENTSINCE, ARG_DATE},
    {"LARGER", IMAP_SK_LARGER, ARG_NUM},
    {"SMALLER", IMAP_SK_SMALLER, ARG_NUM},
    {"MODSEQ", IMAP_SK_MODSEQ, ARG_MODSEQ},
    {"UID", IMAP_SK_UID, ARG_SET},
    {"NOT", IMAP_SK_NOT, ARG_NOT},
    {"OR", IMAP_SK_OR, ARG_OR},
};

struct ctx {
    struct imap_parser *p;
    struct imap_search *s;
    unsigned depth; /* NOT, OR and "(" */
};

const char *imap_search_key_name(enum imap_search_key k)
{
    if (k == IMAP_SK_SEQSET)
        return "sequence-set";
    if (k == IMAP_SK_AND)
        return "AND";
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].key == k)
            return keys[i].name;
    return "?";
}

static struct imap_search_node *node_new(struct ctx *c, enum imap_search_key key)
{
    if (c->s->nodes >= IMAP_MAX_SEARCH_NODES) {
        imap_error(c->p, "Search program too complex");
        return NULL;
    }
    struct imap_search_node *n = calloc(1, sizeof *n);
    if (n == NULL) {
        imap_error(c->p, "Out of memory");
        return NULL;
    }
    n->key = key;
    n->alloc_next = c->s->all;
    c->s->all = n;
    c->s->nodes++;
    return n;
}

void imap_search_free(struct imap_search **s)
{
    if (*s == NULL)
        return;
    struct imap_search_node *n = (*s)->all;
    while (n != NULL) {
        struct imap_search_node *next = n->alloc_next;
        imap_seqset_free(&n->set);
        free(n);
        n = next;
    }
    free(*s);
    *s = NULL;
}

static int search_key(struct ctx *c, struct imap_search_node **out);

/* RFC 8474 5.1 objectid: 1*255(ALPHA / DIGIT / "_" / "-"). */
static int objectid(struct ctx *c, struct imap_search_node *n)
{
    const char *s;
    if (imap_atom(c->p, &s) < 0)
        return -1;
    size_t len = strlen(s);
    if (len > 255 || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789_-") != len)
        return imap_error(c->p, "Invalid object id");
    n->str = s;
    n->str_len = len;
    return 0;
}

/* RFC 7162 3.1.5: "MODSEQ" [SP entry-name SP entry-type-req] SP
 * mod-sequence-valzer; entry-name = DQUOTE "/flags/" attr-flag DQUOTE. */
static int modseq_key(struct ctx *c, struct imap_search_node *n)
{
    struct imap_parser *p = c->p;
    c->s->modseq = true;
    if (imap_peek(p) == '"') {
        const char *e;
        size_t len;
        if (imap_string_text(p, &e, &len) < 0)
            return -1;
        if (len <= 7 || strncasecmp(e, "/flags/", 7) != 0)
            return imap_error(p, "Invalid MODSEQ entry name");
        n->entry = e + 7;
        if (imap_sp(p) < 0)
            return -1;
        if (imap_accept_word(p, "priv"))
            n->entry_type = IMAP_MODSEQ_PRIV;
        else if (imap_accept_word(p, "shared"))
            n->entry_type = IMAP_MODSEQ_SHARED;
        else if (imap_accept_word(p, "all"))
            n->entry_type = IMAP_MODSEQ_ALL;
        else
            return imap_error(p, "Invalid MODSEQ entry type");
        if (imap_sp(p) < 0)
            return -1;
    }
    return imap_modseq_valzer(p, &n->num);
}

static int string_arg(struct ctx *c, struct imap_search_node *n)
{
    return imap_astring_text(c->p, &n->str, &n->str_len);
}

/* The children of NOT (one key) and OR (two keys). */
static int sub_keys(struct ctx *c, struct imap_search_node *n, int count)
{
    if (++c->depth > IMAP_MAX_SEARCH_DEPTH)
        return imap_error(c->p, "Search program nested too deeply");
    struct imap_search_node **tail = &n->child;
    for (int i = 0; i < count; i++) {
        if (i > 0 && imap_sp(c->p) < 0)
            return -1;
        if (search_key(c, tail) < 0)
            return -1;
        tail = &(*tail)->next;
    }
    c->depth--;
    return 0;
}

static int key_arg(struct ctx *c, const struct key_def *d, struct imap_search_node *n)
{
    struct imap_parser *p = c->p;
    if (d->arg == ARG_NONE)
        return 0;
    if (imap_sp(p) < 0)
        return -1;
    switch (d->arg) {
    case ARG_STR:
        return string_arg(c, n);
    case ARG_ATOM: /* RFC 9051 9: "KEYWORD" SP flag-keyword */
        return imap_atom(p, &n->str);
    case ARG_HEADER: /* "HEADER" SP header-fld-name SP astring */
        if (imap_astring_text(p, &n->field, NULL) < 0 || imap_sp(p) < 0)
            return -1;
        return string_arg(c, n);
    case ARG_DATE:
        return imap_date(p, &n->date);
    case ARG_NUM: /* "LARGER" SP number64 */
        return imap_number64(p, &n->num);
    case ARG_SET:
        return imap_seqset_parse(p, IMAP_SEQ_ALLOW_SAVED, &n->set);
    case ARG_MODSEQ:
        return modseq_key(c, n);
    case ARG_OBJECTID:
        return objectid(c, n);
    case ARG_NOT:
        return sub_keys(c, n, 1);
    case ARG_OR:
        return sub_keys(c, n, 2);
    case ARG_NONE:
        break;
    }
    return 0;
}

/* "(" search-key *(SP search-key) ")" */
static int group(struct ctx *c, struct imap_search_node **out)
{
    struct imap_search_node *n = node_new(c, IMAP_SK_AND);
    if (n == NULL)
        return -1;
    *out = n;
    if (++c->depth > IMAP_MAX_SEARCH_DEPTH)
        return imap_error(c->p, "Search program nested too deeply");
    if (imap_list_open(c->p) < 0)
        return -1;
    struct imap_search_node **tail = &n->child;
    bool first = true;
    int r;
    while ((r = imap_list_next(c->p, &first)) > 0) {
        if (search_key(c, tail) < 0)
            return -1;
        tail = &(*tail)->next;
    }
    if (r == 0 && n->child == NULL)
        return imap_error(c->p, "Empty search group");
    c->depth--;
    return r;
}

static int search_key(struct ctx *c, struct imap_search_node **out)
{
    struct imap_parser *p = c->p;
    int ch = imap_peek(p);
    if (ch == '(')
        return group(c, out);
    if ((ch >= '0' && ch <= '9') || ch == '*' || ch == '$') {
        struct imap_search_node *n = node_new(c, IMAP_SK_SEQSET);
        if (n == NULL)
            return -1;
        *out = n;
        return imap_seqset_parse(p, IMAP_SEQ_ALLOW_SAVED, &n->set);
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (!imap_accept_word(p, keys[i].name))
            continue;
        struct imap_search_node *n = node_new(c, keys[i].key);
        if (n == NULL)
            return -1;
        *out = n;
        return key_arg(c, &keys[i], n);
    }
    if (imap_at_end(p))
        return imap_error(p, "Missing search key");
    return imap_error(p, "Unknown search key at offset %zu", p->pos);
}

/* RFC 4731 3.1: "RETURN" SP "(" [search-return-opt *(SP ...)] ")". */
static int return_opts(struct ctx *c)
{
    struct imap_parser *p = c->p;
    static const struct {
        const char *name;
        unsigned bit;
    } opts[] = {{"MIN", IMAP_SEARCH_RET_MIN},
                {"MAX", IMAP_SEARCH_RET_MAX},
                {"ALL", IMAP_SEARCH_RET_ALL},
                {"COUNT", IMAP_SEARCH_RET_COUNT},
                {"SAVE", IMAP_SEARCH_RET_SAVE}};
    c->s->esearch = true;
    if (imap_sp(p) < 0 || imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        size_t i = 0;
        while (i < sizeof opts / sizeof opts[0] && !imap_accept_word(p, opts[i].name))
            i++;
        if (i == sizeof opts / sizeof opts[0])
            return imap_error(p, "Unknown RETURN option");
        c->s->ret |= opts[i].bit;
    }
    if (r == 0 && c->s->ret == 0)
        c->s->ret = IMAP_SEARCH_RET_ALL; /* RFC 4731 3.1: "()" means ALL */
    if (r < 0 || imap_sp(p) < 0)
        return -1;
    return 0;
}

/* RFC 9051 9 charset: atom / quoted. UTF-8 and US-ASCII are what the
 * server supports (6.4.4: MUST support UTF-8). */
static int charset(struct ctx *c)
{
    const char *cs;
    if (imap_astring_text(c->p, &cs, NULL) < 0)
        return -1;
    if (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0) {
        imap_error(c->p, "Unsupported charset");
        return IMAP_SEARCH_BADCHARSET;
    }
    return 0;
}

/* search-key *(SP search-key) to the end, under an AND root. */
static int program(struct ctx *c)
{
    struct imap_search_node *root = node_new(c, IMAP_SK_AND);
    if (root == NULL)
        return -1;
    c->s->root = root;
    struct imap_search_node **tail = &root->child;
    do {
        if (search_key(c, tail) < 0)
            return -1;
        tail = &(*tail)->next;
    } while (imap_accept(c->p, ' '));
    return imap_end(c->p);
}

/* Sets up the result and the context; -1 when out of memory. */
static int begin(struct ctx *c, struct imap_parser *p, struct imap_search **out)
{
    *out = NULL;
    c->p = p;
    c->depth = 0;
    c->s = calloc(1, sizeof *c->s);
    if (c->s == NULL)
        return imap_error(p, "Out of memory");
    return 0;
}

static int finish(struct ctx *c, int r, struct imap_search **out)
{
    if (r != 0)
        imap_search_free(&c->s);
    *out = c->s;
    return r;
}

int imap_search_parse(struct imap_parser *p, struct imap_search **out)
{
    struct ctx c;
    if (begin(&c, p, out) < 0)
        return -1;
    int r = 0;
    if (imap_accept_word(p, "RETURN"))
        r = return_opts(&c);
    if (r == 0 && imap_accept_word(p, "CHARSET")) {
        r = imap_sp(p);
        if (r == 0)
            r = charset(&c);
        if (r == 0)
            r = imap_sp(p);
    }
    if (r == 0)
        r = program(&c);
    return finish(&c, r, out);
}

static const struct {
    const char *name;
    enum imap_sort_key key;
} sort_keys[] = {
    {"ARRIVAL", IMAP_SORT_ARRIVAL},
    {"CC", IMAP_SORT_CC},
    {"DATE", IMAP_SORT_DATE},
    {"FROM", IMAP_SORT_FROM},
    {"SIZE", IMAP_SORT_SIZE},
    {"SUBJECT", IMAP_SORT_SUBJECT},
    {"TO", IMAP_SORT_TO},
    {"DISPLAYFROM", IMAP_SORT_DISPLAYFROM},
    {"DISPLAYTO", IMAP_SORT_DISPLAYTO},
};

/* RFC 5256 3: sort-criterion = ["REVERSE" SP] sort-key. */
static int sort_criterion(struct imap_parser *p, struct imap_sort *sort)
{
    if (sort->n >= IMAP_MAX_SORT_KEYS)
        return imap_error(p, "Too many sort keys");
    bool reverse = imap_accept_word(p, "REVERSE");
    if (reverse && imap_sp(p) < 0)
        return -1;
    for (size_t i = 0; i < sizeof sort_keys / sizeof sort_keys[0]; i++) {
        if (imap_accept_word(p, sort_keys[i].name)) {
            sort->keys[sort->n].key = sort_keys[i].key;
            sort->keys[sort->n].reverse = reverse;
            sort->n++;
            return 0;
        }
    }
    return imap_error(p, "Unknown sort key");
}

static int sort_criteria(struct imap_parser *p, struct imap_sort *sort)
{
    sort->n = 0;
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0)
        if (sort_criterion(p, sort) < 0)
            return -1;
    if (r == 0 && sort->n == 0)
        return imap_error(p, "Empty sort criteria");
    return r;
}

int imap_sort_parse(struct imap_parser *p, struct imap_sort *sort,
                    struct imap_search **out)
{
    struct ctx c;
    if (begin(&c, p, out) < 0)
        return -1;
    int r = 0;
    if (imap_accept_word(p, "RETURN"))
        r = return_opts(&c); /* RFC 5267 3.2 ESORT */
    if (r == 0)
        r = sort_criteria(p, sort);
    if (r == 0)
        r = imap_sp(p);
    if (r == 0)
        r = charset(&c); /* RFC 5256 3: the charset is not optional */
    if (r == 0)
        r = imap_sp(p);
    if (r == 0)
        r = program(&c);
    return finish(&c, r, out);
}

int imap_thread_parse(struct imap_parser *p, enum imap_thread_alg *alg,
                      struct imap_search **out)
{
    struct ctx c;
    if (begin(&c, p, out) < 0)
        return -1;
    int r = 0;
    if (imap_accept_word(p, "ORDEREDSUBJECT"))
        *alg = IMAP_THREAD_ORDEREDSUBJECT;
    else if (imap_accept_word(p, "REFERENCES"))
        *alg = IMAP_THREAD_REFERENCES;
    else
        r = imap_error(p, "Unknown threading algorithm");
    if (r == 0)
        r = imap_sp(p);
    if (r == 0)
        r = charset(&c);
    if (r == 0)
        r = imap_sp(p);
    if (r == 0)
        r = program(&c);
    return finish(&c, r, out);
}
