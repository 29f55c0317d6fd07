/* search_eval: RFC 9051 6.4.4 search keys over one message, as a
 * three-valued function per level (see search.h), and the preparation of
 * a parsed program (folded needles, resolved sets). Pure: everything
 * beyond the snapshot comes through struct search_src. */
#include "imap/search.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/search_parse.h"
#include "imap/seqset.h"
#include "mime/summary.h"
#include "store/mailbox.h"

#define UNKNOWN (-1)

struct search_owned {
    size_t n, cap;
    char **s;
};

/* ---- snapshot keys ---- */

static int flag_key(enum imap_search_key k, unsigned f)
{
    switch (k) {
    case IMAP_SK_ANSWERED:
        return (f & MAIL_ANSWERED) != 0;
    case IMAP_SK_DELETED:
        return (f & MAIL_DELETED) != 0;
    case IMAP_SK_DRAFT:
        return (f & MAIL_DRAFT) != 0;
    case IMAP_SK_FLAGGED:
        return (f & MAIL_FLAGGED) != 0;
    case IMAP_SK_SEEN:
        return (f & MAIL_SEEN) != 0;
    case IMAP_SK_UNANSWERED:
        return !(f & MAIL_ANSWERED);
    case IMAP_SK_UNDELETED:
        return !(f & MAIL_DELETED);
    case IMAP_SK_UNDRAFT:
        return !(f & MAIL_DRAFT);
    case IMAP_SK_UNFLAGGED:
        return !(f & MAIL_FLAGGED);
    case IMAP_SK_UNSEEN:
        return !(f & MAIL_SEEN);
    default:
        return UNKNOWN;
    }
}

/* RFC 9051 2.3.2 keywords (case-insensitive), $Forwarded as the P flag. */
static bool has_keyword(const struct mailbox_msg *m, const char *kw)
{
    if (strcasecmp(kw, "$Forwarded") == 0)
        return (m->flags & MAIL_FORWARDED) != 0;
    size_t len = strlen(kw);
    const char *p = m->keywords;
    while (p && *p) {
        const char *e = strchr(p, ' ');
        size_t n = strlen(p);
        if (e)
            n = (size_t)(e - p);
        if (n == len && strncasecmp(p, kw, len) == 0)
            return true;
        if (!e)
            break;
        p = e + 1;
    }
    return false;
}

/* RFC 9051 6.4.4: dates compare "disregarding time and timezone". */
static int date_cmp(int64_t t, int64_t day)
{
    int64_t d = t / 86400;
    if (t < 0 && t % 86400)
        d--;
    if (d < day)
        return -1;
    return d > day;
}

static int date_key(enum imap_search_key k, int64_t t, int64_t day)
{
    int c = date_cmp(t, day);
    switch (k) {
    case IMAP_SK_BEFORE:
    case IMAP_SK_SENTBEFORE:
        return c < 0;
    case IMAP_SK_ON:
    case IMAP_SK_SENTON:
        return c == 0;
    default:
        return c >= 0; /* SINCE, SENTSINCE */
    }
}

static int snapshot_key(const struct imap_search_node *n, const struct search_msg *msg)
{
    const struct mailbox_msg *m = msg->m;
    switch (n->key) {
    case IMAP_SK_ALL:
    case IMAP_SK_OLD:      /* no \Recent: every message is old (RFC 9051 2.3.2) */
    case IMAP_SK_UNRECENT: /* RFC 3501 NOT RECENT */
        return 1;
    case IMAP_SK_NEW:
    case IMAP_SK_RECENT:
    case IMAP_SK_THREADID: /* RFC 8474: no THREADID is assigned */
        return 0;
    case IMAP_SK_KEYWORD:
        return has_keyword(m, n->str);
    case IMAP_SK_UNKEYWORD:
        return !has_keyword(m, n->str);
    case IMAP_SK_BEFORE:
    case IMAP_SK_ON:
    case IMAP_SK_SINCE:
        return date_key(n->key, m->internaldate, n->date);
    case IMAP_SK_LARGER:
        return m->vsize > n->num;
    case IMAP_SK_SMALLER:
        return m->vsize < n->num;
    case IMAP_SK_MODSEQ: /* RFC 7162 3.1.5: modseq >= the value */
        return m->modseq >= n->num;
    case IMAP_SK_UID:
        return n->set && imap_seqset_contains(n->set, m->uid);
    case IMAP_SK_SEQSET:
        return n->set && imap_seqset_contains(n->set, msg->seq);
    default:
        return flag_key(n->key, m->flags);
    }
}

/* ---- summary and text keys ---- */

static int sent_key(const struct imap_search_node *n, const struct search_msg *msg,
                    const struct search_src *src)
{
    const struct mime_summary *sum = src->summary(src->arg);
    int64_t t = msg->m->internaldate;
    if (sum && sum->sent_date)
        t = sum->sent_date;
    return date_key(n->key, t, n->date);
}

/* RFC 8474 6: exact. */
static int emailid_key(const struct imap_search_node *n, const struct search_src *src)
{
    const char *id = src->emailid(src->arg);
    return id && strcmp(id, n->str) == 0;
}

static int contains(const char *hay, const char *needle)
{
    return hay && strstr(hay, needle) != NULL;
}

static const char *field_of(enum imap_search_key k)
{
    switch (k) {
    case IMAP_SK_BCC:
        return "Bcc";
    case IMAP_SK_CC:
        return "Cc";
    case IMAP_SK_FROM:
        return "From";
    case IMAP_SK_TO:
        return "To";
    default:
        return "Subject";
    }
}

static int text_key(const struct imap_search_node *n, const struct search_src *src)
{
    switch (n->key) {
    case IMAP_SK_BODY:
        return contains(src->body(src->arg), n->str);
    case IMAP_SK_TEXT:
        return contains(src->text(src->arg), n->str);
    case IMAP_SK_HEADER: {
        const char *v = src->header(src->arg, n->field);
        /* RFC 9051 6.4.4: an empty string matches every message with the field. */
        if (!n->str[0])
            return v && v[0];
        return contains(v, n->str);
    }
    default:
        return contains(src->header(src->arg, field_of(n->key)), n->str);
    }
}

static enum search_level level_of(enum imap_search_key k)
{
    switch (k) {
    case IMAP_SK_SENTBEFORE:
    case IMAP_SK_SENTON:
    case IMAP_SK_SENTSINCE:
    case IMAP_SK_EMAILID: /* asked of the store, not in the snapshot */
        return SEARCH_SUMMARY;
    case IMAP_SK_BCC:
    case IMAP_SK_BODY:
    case IMAP_SK_CC:
    case IMAP_SK_FROM:
    case IMAP_SK_SUBJECT:
    case IMAP_SK_TEXT:
    case IMAP_SK_TO:
    case IMAP_SK_HEADER:
        return SEARCH_TEXT;
    default:
        return SEARCH_SNAPSHOT;
    }
}

/* ---- the tree ---- */

static int eval_and(const struct imap_search_node *c, const struct search_msg *msg,
                    enum search_level level, const struct search_src *src)
{
    int r = 1;
    for (; c; c = c->next) {
        int v = search_eval(c, msg, level, src);
        if (v == 0)
            return 0;
        if (v == UNKNOWN)
            r = UNKNOWN;
    }
    return r;
}

static int eval_or(const struct imap_search_node *c, const struct search_msg *msg,
                   enum search_level level, const struct search_src *src)
{
    int r = 0;
    for (; c; c = c->next) {
        int v = search_eval(c, msg, level, src);
        if (v == 1)
            return 1;
        if (v == UNKNOWN)
            r = UNKNOWN;
    }
    return r;
}

int search_eval(const struct imap_search_node *n, const struct search_msg *msg,
                enum search_level level, const struct search_src *src)
{
    switch (n->key) {
    case IMAP_SK_AND:
        return eval_and(n->child, msg, level, src);
    case IMAP_SK_OR:
        return eval_or(n->child, msg, level, src);
    case IMAP_SK_NOT: {
        if (!n->child)
            return 0;
        int v = search_eval(n->child, msg, level, src);
        if (v == UNKNOWN)
            return UNKNOWN;
        return !v;
    }
    default:
        break;
    }
    enum search_level need = level_of(n->key);
    if (need > level || (need > SEARCH_SNAPSHOT && !src))
        return UNKNOWN;
    if (need == SEARCH_SUMMARY && n->key == IMAP_SK_EMAILID)
        return emailid_key(n, src);
    if (need == SEARCH_SUMMARY)
        return sent_key(n, msg, src);
    if (need == SEARCH_TEXT)
        return text_key(n, src);
    return snapshot_key(n, msg);
}

/* ---- preparation ---- */

static int own_str(struct search_owned *o, char *s)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 8;
        char **ns = realloc(o->s, nc * sizeof *ns);
        if (!ns)
            return -1;
        o->s = ns;
        o->cap = nc;
    }
    o->s[o->n++] = s;
    return 0;
}

void search_release(struct search_owned **owned)
{
    struct search_owned *o = owned ? *owned : NULL;
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        free(o->s[i]);
    free(o->s);
    free(o);
    *owned = NULL;
}

/* A copy of a saved result (RFC 5182), resolved. */
static struct imap_seqset *copy_saved(const struct imap_seqset *saved)
{
    struct imap_seqset *c = imap_seqset_new();
    if (!c)
        return NULL;
    for (size_t i = 0; saved && i < saved->n; i++)
        if (imap_seqset_add(c, saved->r[i].lo, saved->r[i].hi) < 0) {
            imap_seqset_free(&c);
            return NULL;
        }
    imap_seqset_resolve(c, 0);
    return c;
}

static int prepare_set(struct imap_search_node *n, uint32_t maxuid, uint32_t nmsgs,
                       const struct imap_seqset *saved)
{
    if (!n->set)
        return 0;
    if (n->set->saved) {
        /* "$" holds UIDs: as a sequence set it becomes a UID key. */
        struct imap_seqset *c = copy_saved(saved);
        if (!c)
            return -1;
        imap_seqset_free(&n->set); /* the program frees its sets */
        n->set = c;
        n->key = IMAP_SK_UID;
        return 0;
    }
    if (n->set->resolved)
        return 0;
    if (n->key == IMAP_SK_UID)
        return imap_seqset_resolve(n->set, maxuid);
    return imap_seqset_resolve(n->set, nmsgs);
}

int search_prepare(struct imap_search *prog, char *(*fold)(const char *), uint32_t maxuid,
                   uint32_t nmsgs, const struct imap_seqset *saved,
                   enum search_level *need, struct search_owned **owned)
{
    struct search_owned *o = calloc(1, sizeof *o);
    *owned = o;
    *need = SEARCH_SNAPSHOT;
    if (!o)
        return -1;
    for (struct imap_search_node *n = prog->all; n; n = n->alloc_next) {
        enum search_level l = level_of(n->key);
        if (l > *need)
            *need = l;
        if (prepare_set(n, maxuid, nmsgs, saved) < 0)
            return -1;
        if (l != SEARCH_TEXT || !n->str)
            continue;
        char *f = fold(n->str);
        if (!f || own_str(o, f) < 0) {
            free(f);
            return -1;
        }
        n->str = f;
    }
    return 0;
}
