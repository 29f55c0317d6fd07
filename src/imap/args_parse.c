/* args_parse: RFC 9051 9 store / select / status / list grammar with the
 * RFC 7162 and RFC 5258 extensions (see args_parse.h). Pure. */
#include "imap/args_parse.h"

#include <stdlib.h>
#include <string.h>

#include "imap/seqset.h"

void imap_store_free(struct imap_store **s)
{
    if (*s == NULL)
        return;
    imap_seqset_free(&(*s)->set);
    free(*s);
    *s = NULL;
}

/* RFC 7162 3.1.3: store-modifier = "UNCHANGEDSINCE" SP mod-sequence-valzer */
static int store_modifiers(struct imap_parser *p, struct imap_store *s)
{
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        if (!imap_accept_word(p, "UNCHANGEDSINCE"))
            return imap_error(p, "Unknown STORE modifier");
        if (imap_sp(p) < 0 || imap_modseq_valzer(p, &s->modseq) < 0)
            return -1;
        s->unchangedsince = true;
    }
    if (r < 0 || imap_sp(p) < 0)
        return -1;
    return 0;
}

/* store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list /
 * (flag *(SP flag))) */
static int store_att(struct imap_parser *p, struct imap_store *s)
{
    s->op = IMAP_STORE_SET;
    if (imap_accept(p, '+'))
        s->op = IMAP_STORE_ADD;
    else if (imap_accept(p, '-'))
        s->op = IMAP_STORE_REMOVE;
    if (imap_accept_word(p, "FLAGS.SILENT"))
        s->silent = true;
    else if (!imap_accept_word(p, "FLAGS"))
        return imap_error(p, "Expected FLAGS or FLAGS.SILENT");
    if (imap_sp(p) < 0)
        return -1;
    if (imap_peek(p) == '(')
        return imap_flag_list(p, &s->flags);
    memset(&s->flags, 0, sizeof s->flags);
    do {
        if (imap_flag(p, &s->flags) < 0)
            return -1;
    } while (imap_accept(p, ' '));
    return 0;
}

int imap_store_parse(struct imap_parser *p, struct imap_store **out)
{
    *out = NULL;
    struct imap_store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return imap_error(p, "Out of memory");
    int r = imap_seqset_parse(p, IMAP_SEQ_ALLOW_SAVED, &s->set);
    if (r == 0)
        r = imap_sp(p);
    if (r == 0 && imap_peek(p) == '(')
        r = store_modifiers(p, s);
    if (r == 0)
        r = store_att(p, s);
    if (r == 0)
        r = imap_end(p);
    if (r != 0) {
        imap_store_free(&s);
        return -1;
    }
    *out = s;
    return 0;
}

void imap_select_clear(struct imap_select *s)
{
    imap_seqset_free(&s->known_uids);
    imap_seqset_free(&s->match_seqs);
    imap_seqset_free(&s->match_uids);
    memset(s, 0, sizeof *s);
}

/* seq-match-data = "(" known-sequence-set SP known-uid-set ")" */
static int seq_match(struct imap_parser *p, struct imap_select *s)
{
    if (imap_list_open(p) < 0 ||
        imap_seqset_parse(p, IMAP_SEQ_NO_STAR, &s->match_seqs) < 0 || imap_sp(p) < 0 ||
        imap_seqset_parse(p, IMAP_SEQ_NO_STAR, &s->match_uids) < 0)
        return -1;
    bool first = false;
    if (imap_list_next(p, &first) != 0)
        return imap_error(p, "Expected ')' after seq-match-data");
    return 0;
}

/* RFC 7162 3.2.5: "QRESYNC" SP "(" uidvalidity SP mod-sequence-value
 * [SP known-uids] [SP seq-match-data] ")" */
static int qresync(struct imap_parser *p, struct imap_select *s)
{
    if (s->qresync)
        return imap_error(p, "QRESYNC given twice");
    s->qresync = true;
    s->condstore = true;
    if (imap_sp(p) < 0 || imap_list_open(p) < 0 ||
        imap_nz_number(p, &s->uidvalidity) < 0 || imap_sp(p) < 0 ||
        imap_modseq(p, &s->modseq) < 0)
        return -1;
    if (imap_accept(p, ' ') && imap_peek(p) != '(' &&
        imap_seqset_parse(p, IMAP_SEQ_NO_STAR, &s->known_uids) < 0)
        return -1;
    if (s->known_uids != NULL && !imap_accept(p, ' ') && imap_peek(p) != ')')
        return imap_error(p, "Expected a space or ')' in QRESYNC");
    if (imap_peek(p) == '(' && seq_match(p, s) < 0)
        return -1;
    bool first = false;
    if (imap_list_next(p, &first) != 0)
        return imap_error(p, "Expected ')' after QRESYNC parameters");
    return 0;
}

static int select_params(struct imap_parser *p, struct imap_select *s)
{
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        if (imap_accept_word(p, "CONDSTORE"))
            s->condstore = true;
        else if (imap_accept_word(p, "QRESYNC")) {
            if (qresync(p, s) < 0)
                return -1;
        } else
            return imap_error(p, "Unknown SELECT parameter");
    }
    return r;
}

int imap_select_parse(struct imap_parser *p, struct imap_select *out)
{
    memset(out, 0, sizeof *out);
    int r = imap_mailbox(p, &out->mailbox);
    if (r == 0 && imap_accept(p, ' '))
        r = select_params(p, out);
    if (r == 0)
        r = imap_end(p);
    if (r != 0)
        imap_select_clear(out);
    return r;
}

static const struct {
    const char *name;
    unsigned bit;
} status_atts[] = {
    {"MESSAGES", IMAP_STATUS_MESSAGES},
    {"UIDNEXT", IMAP_STATUS_UIDNEXT},
    {"UIDVALIDITY", IMAP_STATUS_UIDVALIDITY},
    {"UNSEEN", IMAP_STATUS_UNSEEN},
    {"DELETED", IMAP_STATUS_DELETED},
    {"DELETED-STORAGE", IMAP_STATUS_DELETED_STORAGE},
    {"SIZE", IMAP_STATUS_SIZE},
    {"HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ},
    {"RECENT", IMAP_STATUS_RECENT},
    {"APPENDLIMIT", IMAP_STATUS_APPENDLIMIT},
    {"MAILBOXID", IMAP_STATUS_MAILBOXID},
};

const char *imap_status_item_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof status_atts / sizeof status_atts[0]; i++)
        if (status_atts[i].bit == bit)
            return status_atts[i].name;
    return NULL;
}

int imap_status_items(struct imap_parser *p, unsigned *items)
{
    *items = 0;
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        size_t i = 0;
        size_t n = sizeof status_atts / sizeof status_atts[0];
        while (i < n && !imap_accept_word(p, status_atts[i].name))
            i++;
        if (i == n)
            return imap_error(p, "Unknown STATUS item");
        *items |= status_atts[i].bit;
    }
    if (r == 0 && *items == 0)
        return imap_error(p, "Empty STATUS item list");
    return r;
}

int imap_status_parse(struct imap_parser *p, const char **mailbox, unsigned *items)
{
    if (imap_mailbox(p, mailbox) < 0 || imap_sp(p) < 0 || imap_status_items(p, items) < 0)
        return -1;
    return imap_end(p);
}

/* RFC 5258 6 list-select-opts; RECURSIVEMATCH needs a base option (3). */
static int select_opts(struct imap_parser *p, struct imap_list *l)
{
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        if (imap_accept_word(p, "SUBSCRIBED"))
            l->select |= IMAP_LIST_SEL_SUBSCRIBED;
        else if (imap_accept_word(p, "REMOTE"))
            l->select |= IMAP_LIST_SEL_REMOTE;
        else if (imap_accept_word(p, "RECURSIVEMATCH"))
            l->select |= IMAP_LIST_SEL_RECURSIVEMATCH;
        else if (imap_accept_word(p, "SPECIAL-USE"))
            l->select |= IMAP_LIST_SEL_SPECIAL_USE; /* RFC 6154 3 */
        else
            return imap_error(p, "Unknown LIST selection option");
    }
    unsigned base = IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_SPECIAL_USE;
    if (r == 0 && (l->select & IMAP_LIST_SEL_RECURSIVEMATCH) && !(l->select & base))
        return imap_error(p, "RECURSIVEMATCH needs another selection option");
    if (r < 0 || imap_sp(p) < 0)
        return -1;
    return 0;
}

/* mbox-or-pat = list-mailbox / "(" list-mailbox *(SP list-mailbox) ")" */
static int patterns(struct imap_parser *p, struct imap_list *l)
{
    if (imap_peek(p) != '(')
        return imap_list_mailbox(p, &l->patterns[l->npatterns++]);
    l->extended = true;
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        if (l->npatterns >= IMAP_MAX_LIST_PATTERNS)
            return imap_error(p, "Too many LIST patterns");
        if (imap_list_mailbox(p, &l->patterns[l->npatterns++]) < 0)
            return -1;
    }
    if (r == 0 && l->npatterns == 0)
        return imap_error(p, "Empty pattern list");
    return r;
}

/* RFC 5258 6 list-return-opts, RFC 5819 4 STATUS. */
static int return_opts(struct imap_parser *p, struct imap_list *l)
{
    if (imap_sp(p) < 0 || imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        if (imap_accept_word(p, "SUBSCRIBED"))
            l->ret |= IMAP_LIST_RET_SUBSCRIBED;
        else if (imap_accept_word(p, "CHILDREN"))
            l->ret |= IMAP_LIST_RET_CHILDREN;
        else if (imap_accept_word(p, "SPECIAL-USE"))
            l->ret |= IMAP_LIST_RET_SPECIAL_USE;
        else if (imap_accept_word(p, "STATUS")) {
            l->ret |= IMAP_LIST_RET_STATUS;
            if (imap_sp(p) < 0 || imap_status_items(p, &l->status) < 0)
                return -1;
        } else
            return imap_error(p, "Unknown LIST return option");
    }
    return r;
}

int imap_list_parse(struct imap_parser *p, struct imap_list *out)
{
    memset(out, 0, sizeof *out);
    int r = 0;
    if (imap_peek(p) == '(') {
        out->extended = true;
        r = select_opts(p, out);
    }
    if (r == 0)
        r = imap_list_mailbox(p, &out->reference);
    if (r == 0)
        r = imap_sp(p);
    if (r == 0)
        r = patterns(p, out);
    if (r == 0 && imap_accept(p, ' ')) {
        out->extended = true;
        if (!imap_accept_word(p, "RETURN"))
            r = imap_error(p, "Expected RETURN");
        else
            r = return_opts(p, out);
    }
    if (r == 0)
        r = imap_end(p);
    return r;
}
