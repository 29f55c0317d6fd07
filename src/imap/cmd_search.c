/* cmd_search: SEARCH and UID SEARCH (RFC 9051 6.4.4, 7.3.4), ESEARCH
 * responses (RFC 4731, and RFC 9051 7.3.4 for IMAP4rev2 clients), the
 * MODSEQ key's (MODSEQ n) (RFC 7162 3.1.5), the RFC 5182 saved result; and
 * the program runner SORT and THREAD share: it evaluates on the pool,
 * reading a message's summary or text only when a key needs it. */
#include "imap/imap.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap/fetch_body.h"
#include "imap/parse.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "imap/seqset.h"
#include "mime/summary.h"

/* BODY and TEXT look at most this much decoded text of a message. */
#define SEARCH_MAX_BODY (16u << 20)
/* TEXT searches at most this much of the header. */
#define SEARCH_MAX_HEADER (1u << 20)

/* ---- the per-message source, on the pool ---- */

struct msg_src {
    struct mailbox *mb;
    uint32_t uid;
    int fd; /* -2: not opened yet */
    struct mime_summary *sum;
    bool sum_tried;
    char *hname, *hval;
    char *body, *text;
    bool body_tried, text_tried;
    const char *pre; /* the summary text read ahead (search_run), or NULL */
    char emailid[MAILBOX_EMAILID_LEN]; /* "" until asked */
};

static int src_fd(struct msg_src *m)
{
    if (m->fd == -2)
        m->fd = mailbox_message_open(m->mb, m->uid);
    return m->fd;
}

static const struct mime_summary *src_summary(void *arg)
{
    struct msg_src *m = arg;
    if (!m->sum_tried) {
        m->sum_tried = true;
        if (m->pre) {
            m->sum = mime_summary_parse(m->pre);
            return m->sum;
        }
        char *text = mailbox_summary(m->mb, m->uid);
        if (text)
            m->sum = mime_summary_parse(text);
        free(text);
    }
    return m->sum;
}

static const char *src_emailid(void *arg)
{
    struct msg_src *m = arg;
    if (!m->emailid[0] &&
        mailbox_emailid(m->mb, m->uid, m->emailid, sizeof m->emailid) < 0)
        return NULL;
    return m->emailid;
}

/* The header's first bytes, for the plain-header fast path. */
#define SEARCH_PEEK 16384

/* Appends the unfolded, ASCII-lowered value of the field at v[0..n) to
 * out; false if it has 8-bit octets or encoded words (RFC 2047), which
 * need the decoder. */
static bool plain_value(const char *v, size_t n, char *out, size_t *o)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (c >= 0x80 || (c == '=' && i + 1 < n && v[i + 1] == '?'))
            return false;
        if (c == '\r' || c == '\n')
            continue; /* RFC 5322 2.2.3 unfolding */
        out[(*o)++] = (char)tolower(c);
    }
    return true;
}

/* RFC 9051 6.4.4 on a header of plain ASCII fields: the values of `name`
 * without decoding (there is nothing to decode), joined with "\n" as
 * mime_search_header does. NULL when the decoder is needed. */
/* The end of the header in buf[0..n): after its last line's LF. 0 if
 * the blank line is not in buf. */
static size_t header_end(const char *buf, size_t n)
{
    const char *lf2 = memmem(buf, n, "\n\n", 2);
    size_t lim = n;
    if (lf2)
        lim = (size_t)(lf2 - buf) + 2;
    const char *crlf = memmem(buf, lim, "\n\r\n", 3); /* a CRLF file */
    if (crlf)
        return (size_t)(crlf - buf) + 1;
    if (lf2)
        return (size_t)(lf2 - buf) + 1;
    return 0;
}

static char *plain_header(int fd, const char *name)
{
    char buf[SEARCH_PEEK];
    /* Most headers fit in the first page: read more only when not. */
    ssize_t got = pread(fd, buf, 4096, 0);
    size_t n = 0;
    if (got > 0)
        n = header_end(buf, (size_t)got);
    if (got == 4096 && n == 0) {
        got = pread(fd, buf, sizeof buf, 0);
        if (got > 0)
            n = header_end(buf, (size_t)got);
    }
    if (n == 0)
        return NULL; /* a long header (or no body): leave it to the decoder */
    size_t nl = strlen(name), o = 0;
    char *out = malloc(n + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n;) {
        const char *lf = memchr(buf + i, '\n', n - i);
        size_t e = lf ? (size_t)(lf - buf) + 1 : n;
        while (e < n && (buf[e] == ' ' || buf[e] == '\t')) {
            lf = memchr(buf + e, '\n', n - e);
            e = lf ? (size_t)(lf - buf) + 1 : n;
        }
        size_t k = i + nl;
        while (k < e && (buf[k] == ' ' || buf[k] == '\t'))
            k++;
        if (e - i > nl && strncasecmp(buf + i, name, nl) == 0 && k < e && buf[k] == ':') {
            k++;
            while (k < e && (buf[k] == ' ' || buf[k] == '\t'))
                k++;
            if (o)
                out[o++] = '\n';
            if (!plain_value(buf + k, e - k, out, &o)) {
                free(out);
                return NULL;
            }
        }
        i = e;
    }
    out[o] = '\0';
    return out;
}

/* RFC 9051 7.5.2: the envelope's subject is the Subject field as it is
 * (unfolded). When that is a quoted string of ASCII without encoded words
 * (RFC 2047), decoding leaves it as it is: its lowered copy; else NULL.
 * env[0..n) is the envelope, as the summary text holds it. */
static char *envelope_subject(const char *env, size_t n)
{
    const char *p = env, *end = env + n;
    if (p == end || *p++ != '(')
        return NULL;
    if (end - p >= 4 && strncmp(p, "NIL ", 4) == 0) {
        p += 4;
    } else if (p < end && *p == '"') {
        for (p++; p < end && *p != '"'; p++)
            if (*p == '\\' && p + 1 < end)
                p++;
        if (end - p < 2 || *p++ != '"' || *p++ != ' ')
            return NULL;
    } else {
        return NULL; /* a literal date: leave it to the header */
    }
    if (end - p >= 4 && strncmp(p, "NIL ", 4) == 0)
        return strdup(""); /* no Subject field */
    if (p == end || *p++ != '"')
        return NULL;
    const char *q = memchr(p, '"', (size_t)(end - p));
    if (!q)
        return NULL;
    char *out = malloc((size_t)(q - p) + 1);
    size_t o = 0;
    for (; out && p < end && *p != '"'; p++) {
        if (*p == '\\' && p + 1 < end)
            p++;
        if ((unsigned char)*p >= 0x80 || (*p == '=' && p + 1 < end && p[1] == '?')) {
            free(out);
            return NULL;
        }
        out[o++] = (char)tolower((unsigned char)*p);
    }
    if (out)
        out[o] = '\0';
    return out;
}

static const char *src_header(void *arg, const char *name)
{
    struct msg_src *m = arg;
    if (m->hname && strcasecmp(m->hname, name) == 0)
        return m->hval;
    free(m->hname);
    free(m->hval);
    m->hname = strdup(name);
    m->hval = NULL;
    /* Subject: from the cached envelope when it needs no decoding, read
     * from the summary text without parsing the rest of it. */
    size_t elen;
    const char *env = NULL;
    if (m->hname && m->pre && strcasecmp(name, "subject") == 0)
        env = mime_summary_envelope(m->pre, &elen);
    if (env)
        m->hval = envelope_subject(env, elen);
    if (m->hname && !m->hval && src_fd(m) >= 0)
        m->hval = plain_header(m->fd, name);
    if (m->hname && m->fd >= 0 && !m->hval)
        m->hval = mime_search_header(m->fd, name);
    return m->hval;
}

static const char *src_body(void *arg)
{
    struct msg_src *m = arg;
    if (!m->body_tried) {
        m->body_tried = true;
        if (src_fd(m) >= 0)
            m->body = mime_search_body(m->fd, SEARCH_MAX_BODY);
    }
    return m->body;
}

/* TEXT (RFC 9051 6.4.4): the header (ASCII case-folded) and the body. */
static const char *src_text(void *arg)
{
    struct msg_src *m = arg;
    if (m->text_tried)
        return m->text;
    m->text_tried = true;
    const struct mime_summary *sum = src_summary(m);
    const char *body = src_body(m);
    if (!sum || !sum->nparts || src_fd(m) < 0)
        return body;
    uint64_t hl = sum->parts[0].header_len;
    if (hl > SEARCH_MAX_HEADER)
        hl = SEARCH_MAX_HEADER;
    char *hdr = fetch_read(m->fd, sum->parts[0].header_off, hl);
    size_t bl = body ? strlen(body) : 0;
    m->text = malloc((size_t)hl + bl + 2);
    if (hdr && m->text) {
        for (size_t i = 0; i < hl; i++)
            m->text[i] = (char)tolower((unsigned char)hdr[i]);
        m->text[hl] = '\n';
        memcpy(m->text + hl + 1, body ? body : "", bl + 1);
    }
    free(hdr);
    if (!hdr) {
        free(m->text);
        m->text = NULL;
        return body;
    }
    return m->text;
}

static void src_reset(struct msg_src *m)
{
    if (m->fd >= 0)
        close(m->fd);
    mime_summary_free(m->sum);
    free(m->hname);
    free(m->hval);
    free(m->body);
    free(m->text);
    struct mailbox *mb = m->mb;
    memset(m, 0, sizeof *m);
    m->mb = mb;
    m->fd = -2;
    m->pre = NULL;
}

/* ---- running a program ---- */

static int eval_msg(struct search_run *r, size_t i, struct msg_src *ms)
{
    struct mailbox_msg sized;
    const struct mailbox_msg *m = &r->view->snap->msgs[i];
    if (r->known)
        m = imap_msg_known(m, &r->known[i], &sized);
    struct search_msg msg = {m, (uint32_t)i + 1};
    int v = search_eval(r->prog->root, &msg, SEARCH_SNAPSHOT, NULL);
    if (v >= 0)
        return v;
    struct search_src src = {ms,       src_summary, src_header,
                             src_body, src_text,    src_emailid};
    ms->uid = m->uid;
    for (int level = SEARCH_SUMMARY; level <= (int)r->need && v < 0; level++)
        v = search_eval(r->prog->root, &msg, (enum search_level)level, &src);
    src_reset(ms);
    return v == 1;
}

/* Summary texts read ahead for SUBJECT and SENT* keys: one index query
 * per chunk instead of one per message. */
#define SEARCH_CHUNK_MSGS 512

struct ahead {
    const struct mailbox_msg *msgs;
    size_t first, end, at;
    char **texts;
};

static int ahead_row(void *arg, uint32_t uid, const char *text)
{
    struct ahead *a = arg;
    while (a->at < a->end && a->msgs[a->at].uid < uid)
        a->at++;
    if (a->at < a->end && a->msgs[a->at].uid == uid && text)
        a->texts[a->at - a->first] = strdup(text);
    return 0;
}

/* What the keys need that a sync may not have learned: the internal
 * date (BEFORE, ON, SINCE; the SENT keys fall back to it without a Date:),
 * the
 * RFC822.SIZE (LARGER, SMALLER). */
static unsigned wants_known(const struct imap_search *prog)
{
    unsigned need = 0;
    for (const struct imap_search_node *n = prog->all; n; n = n->alloc_next) {
        switch (n->key) {
        case IMAP_SK_BEFORE:
        case IMAP_SK_ON:
        case IMAP_SK_SINCE:
        case IMAP_SK_SENTBEFORE:
        case IMAP_SK_SENTON:
        case IMAP_SK_SENTSINCE:
            need |= MAIL_NEED_DATE;
            break;
        case IMAP_SK_LARGER:
        case IMAP_SK_SMALLER:
            need |= MAIL_NEED_VSIZE;
            break;
        default:
            break;
        }
    }
    return need;
}

/* Whether a key reads the summary: SENT*, SUBJECT, HEADER Subject. */
static bool wants_summary(const struct imap_search *prog)
{
    for (const struct imap_search_node *n = prog->all; n; n = n->alloc_next) {
        switch (n->key) {
        case IMAP_SK_SENTBEFORE:
        case IMAP_SK_SENTON:
        case IMAP_SK_SENTSINCE:
        case IMAP_SK_SUBJECT:
            return true;
        case IMAP_SK_HEADER:
            if (n->field && strcasecmp(n->field, "subject") == 0)
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

static void run_chunk(struct search_run *r, size_t first, size_t end, bool pre)
{
    const struct mailbox_msg *msgs = r->view->snap->msgs;
    char *texts[SEARCH_CHUNK_MSGS] = {0};
    struct ahead a = {msgs, first, end, first, texts};
    /* The chunk's file names in one query, if a key opens the files or
     * asks for EMAILIDs (dropped by the search's flush). */
    mailbox_expect_opens(r->view->mb, msgs[first].uid, msgs[end - 1].uid);
    if (pre)
        mailbox_summary_range(r->view->mb, msgs[first].uid, msgs[end - 1].uid, ahead_row,
                              &a);
    struct msg_src ms = {.mb = r->view->mb, .fd = -2};
    for (size_t i = first; i < end; i++) {
        ms.pre = texts[i - first];
        if (!imap_view_gone(r->view, i) && eval_msg(r, i, &ms) == 1) {
            r->match[r->n++] = i;
            if (msgs[i].modseq > r->modseq)
                r->modseq = msgs[i].modseq;
        }
        free(texts[i - first]);
    }
}

void search_run(struct search_run *r)
{
    size_t n = r->view->snap->n;
    r->rc = 0;
    r->n = 0;
    r->modseq = 0;
    r->match = malloc((n + 1) * sizeof *r->match);
    if (!r->match) {
        r->rc = -1;
        return;
    }
    bool pre = r->need > SEARCH_SNAPSHOT && wants_summary(r->prog);
    r->known = NULL;
    unsigned need = wants_known(r->prog);
    if (need)
        r->known = imap_view_fill(r->view, NULL, n, need, NULL);
    for (size_t i = 0; i < n; i += SEARCH_CHUNK_MSGS) {
        size_t end = i + SEARCH_CHUNK_MSGS;
        if (end > n)
            end = n;
        run_chunk(r, i, end, pre);
    }
    free(r->known);
    r->known = NULL;
    mailbox_summary_flush(r->view->mb);
}

static char *fold_needle(const char *s)
{
    return mime_casefold(s);
}

int search_setup(struct session *s, struct search_run *r, struct search_owned **owned)
{
    struct imap *im = imap_of(s);
    const struct mailbox_snapshot *snap = im->view->snap;
    uint32_t maxuid = 0;
    if (snap->n)
        maxuid = snap->msgs[snap->n - 1].uid;
    r->view = im->view;
    if (search_prepare(r->prog, fold_needle, maxuid, (uint32_t)snap->n, im->saved,
                       &r->need, owned) < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return -1;
    }
    if (r->prog->modseq)
        im->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1 */
    return 0;
}

int imap_search_resolve_set(struct session *s, struct imap_seqset *set, bool uid,
                            size_t **idx, size_t *n)
{
    struct imap *im = imap_of(s);
    const struct imap_view *v = im->view;
    if (!set->saved)
        return imap_view_resolve(v, set, uid, idx, n);
    /* RFC 5182 2.1: "$" is the saved result (UIDs), empty when none. */
    *n = 0;
    *idx = malloc((v->snap->n + 1) * sizeof **idx);
    if (!*idx)
        return -1;
    for (size_t i = 0; im->saved && i < v->snap->n; i++)
        if (imap_seqset_contains(im->saved, v->snap->msgs[i].uid))
            (*idx)[(*n)++] = i;
    return 0;
}

void imap_search_save(struct session *s, const struct imap_view *v, const size_t *idx,
                      size_t n)
{
    struct imap *im = imap_of(s);
    uint32_t *uids = imap_view_uids(v, idx, n);
    imap_seqset_free(&im->saved);
    if (uids)
        im->saved = imap_seqset_from_array(uids, n);
    free(uids);
}

/* ---- SEARCH ---- */

struct search_cmd {
    struct search_job job; /* first: the command is its job */
};

static void search_cmd_free(struct search_job *j)
{
    search_job_release(j);
    free(j);
}

static void add_number(struct evbuffer *o, const struct search_cmd *c, size_t i)
{
    const struct imap_view *v = c->job.run.view;
    if (c->job.uid)
        evbuffer_add_printf(o, " %u", v->snap->msgs[i].uid);
    else
        evbuffer_add_printf(o, " %zu", i + 1);
}

/* RFC 9051 7.3.4 / RFC 3501 7.2.5: "* SEARCH n n n" [(MODSEQ m)]. */
static void reply_search(struct session *s, struct search_cmd *c)
{
    struct evbuffer *o = evbuffer_new();
    if (!o)
        return;
    evbuffer_add(o, "* SEARCH", 8);
    for (size_t i = 0; i < c->job.run.n; i++)
        add_number(o, c, c->job.run.match[i]);
    if (c->job.run.prog->modseq && c->job.run.n)
        evbuffer_add_printf(o, " (MODSEQ %llu)", (unsigned long long)c->job.run.modseq);
    evbuffer_add(o, "\r\n", 2);
    imap_send(s, o);
    evbuffer_free(o);
}

/* The numbers the ESEARCH response speaks of (ascending). */
static uint32_t *result_values(const struct search_cmd *c)
{
    uint32_t *vals = malloc((c->job.run.n + 1) * sizeof *vals);
    for (size_t i = 0; vals && i < c->job.run.n; i++) {
        size_t k = c->job.run.match[i];
        vals[i] = (uint32_t)k + 1;
        if (c->job.uid)
            vals[i] = c->job.run.view->snap->msgs[k].uid;
    }
    return vals;
}

static void reply_esearch(struct session *s, struct search_cmd *c, unsigned ret)
{
    uint32_t *vals = result_values(c);
    if (!vals)
        return;
    uint64_t modseq = 0;
    if (c->job.run.prog->modseq)
        modseq = c->job.run.modseq;
    imap_reply_esearch(s, c->job.uid, ret, vals, c->job.run.n, modseq);
    free(vals);
}

static void search_done(struct session *s, void *arg)
{
    struct search_cmd *c = arg;
    if (!s) {
        search_cmd_free(&c->job);
        return;
    }
    if (c->job.run.rc < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] search failed");
        search_cmd_free(&c->job);
        return;
    }
    struct imap *im = imap_of(s);
    struct imap_search *prog = c->job.run.prog;
    unsigned ret = prog->ret;
    if (ret & IMAP_SEARCH_RET_SAVE)
        imap_search_save(s, c->job.run.view, c->job.run.match, c->job.run.n);
    /* RFC 9051 6.4.4: IMAP4rev2 clients get ESEARCH (ALL) for a plain
     * SEARCH; rev1 clients get "* SEARCH". RFC 5182 2.4: SAVE alone
     * returns nothing. */
    bool rev2 = im->enabled & IMAP_ENABLED_REV2;
    if (!prog->esearch && rev2)
        ret = IMAP_SEARCH_RET_ALL;
    ret &= ~(unsigned)IMAP_SEARCH_RET_SAVE;
    if (prog->esearch || rev2) {
        if (ret)
            reply_esearch(s, c, ret);
    } else {
        reply_search(s, c);
    }
    bool uid = c->job.uid;
    search_cmd_free(&c->job);
    if (uid)
        imap_done(s, IMAP_REFRESH_NO_EXPUNGE, "OK", "UID SEARCH completed");
    else
        imap_done(s, IMAP_REFRESH_NO_EXPUNGE, "OK", "SEARCH completed");
}

static void search_work(void *arg)
{
    struct search_cmd *c = arg;
    search_run(&c->job.run);
}

void search_job_release(struct search_job *j)
{
    search_release(&j->owned);
    imap_search_free(&j->run.prog);
    imap_parser_free(&j->p);
    free(j->run.match);
}

void search_job_start(struct session *s, struct search_job *j, char *args, bool uid,
                      int (*parse)(struct search_job *j), void (*work)(void *job),
                      void (*done)(struct session *s, void *job),
                      void (*release)(struct search_job *j))
{
    j->uid = uid;
    j->p = imap_parser_for(s, args, j->err, sizeof j->err);
    if (!j->p) {
        release(j);
        return;
    }
    int rc = parse(j);
    if (rc < 0) {
        imap_reply_parse_error(s, rc, j->err);
        release(j);
        return;
    }
    if (search_setup(s, &j->run, &j->owned) < 0) {
        release(j);
        return;
    }
    if (session_work(s, work, done, j) < 0) {
        imap_tagged(s, "NO", "[UNAVAILABLE] server busy");
        release(j);
    }
}

static int search_parse(struct search_job *j)
{
    return imap_search_parse(j->p, &j->run.prog);
}

static void search_start(struct session *s, char *args, bool uid)
{
    struct search_cmd *c = calloc(1, sizeof *c);
    if (!c) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return;
    }
    search_job_start(s, &c->job, args, uid, search_parse, search_work, search_done,
                     search_cmd_free);
}

void imap_cmd_search(struct session *s, char *args)
{
    search_start(s, args, false);
}

void imap_cmd_uid_search(struct session *s, char *args)
{
    search_start(s, args, true);
}
