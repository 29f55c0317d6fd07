/* imap store: STORE and UID STORE (RFC 9051 6.4.6) with .SILENT and
 * CONDSTORE's UNCHANGEDSINCE and MODIFIED (RFC 7162 3.1.3), through the
 * mailbox handle on the pool (Maildir flags renamed, modseq bumped). */
#include "imap/imap.h"

#include "core/log.h"
#include "imap/args_parse.h"
#include "imap/parse.h"
#include "imap/seqset.h"

#include <event2/buffer.h>
#include <stdlib.h>

struct store_job {
    struct mailbox *mb;
    bool uid, silent;
    uint32_t *uids;
    size_t n;
    struct mailbox_flag_change ch;
    char keywords[MAIL_MAX_KEYWORDS_LEN + 1];
    struct mailbox_snapshot out;
    uint32_t *modified;
    size_t nmodified;
    int rc;
};

static void store_work(void *arg)
{
    struct store_job *job = arg;
    job->rc = mailbox_store_flags(job->mb, job->uids, job->n, &job->ch, &job->out,
                                  &job->modified, &job->nmodified);
}

static void store_job_free(struct store_job *job)
{
    mailbox_snapshot_free(&job->out);
    free(job->uids);
    free(job->modified);
    free(job);
}

/* RFC 7162 3.1.3: [MODIFIED set], UIDs for UID STORE, else numbers. */
static char *modified_set(struct session *s, struct store_job *job)
{
    struct imap_view *v = imap_of(s)->view;
    size_t n = 0;
    for (size_t i = 0; i < job->nmodified; i++) {
        long at = imap_view_find(v, job->modified[i]);
        if (job->uid)
            job->modified[n++] = job->modified[i];
        else if (at >= 0)
            job->modified[n++] = (uint32_t)at + 1;
    }
    size_t need = imap_seqset_format(job->modified, n, NULL, 0);
    char *set = malloc(need + 1);
    if (set)
        imap_seqset_format(job->modified, n, set, need + 1);
    return set;
}

/* Whether every change since the view's modseq is one of this STORE's
 * (their modseqs follow it without a gap): then the view is the store's
 * state and the bus signal of this very STORE needs no refresh. */
static bool only_ours(const struct store_job *job, uint64_t known)
{
    uint64_t newer = 0;
    for (size_t i = 0; i < job->out.n; i++)
        newer += job->out.msgs[i].modseq > known;
    return job->out.highest_modseq >= known && job->out.highest_modseq - known == newer;
}

#define STORE_SEND_CHUNK 65536

/* The new flags into the view and, unless .SILENT, the untagged FETCH
 * lines (RFC 9051 7.5.2) into one buffer, sent in large pieces. */
static void send_results(struct session *s, struct store_job *job)
{
    struct imap_view *v = imap_of(s)->view;
    struct evbuffer *out = NULL;
    bool quiet = only_ours(job, v->modseq);
    if (!job->silent)
        out = evbuffer_new();
    for (size_t i = 0; i < job->out.n; i++) {
        size_t at;
        if (!imap_view_update(v, &job->out.msgs[i], &at) || job->silent)
            continue;
        if (!out) {
            imap_view_send_flags(s, at, job->uid);
            continue;
        }
        imap_buf_flags_line(s, out, at + 1, &v->snap->msgs[at], job->uid);
        if (evbuffer_get_length(out) >= STORE_SEND_CHUNK)
            imap_send(s, out);
    }
    if (out) {
        imap_send(s, out);
        evbuffer_free(out);
    }
    /* Held-back expunges still want the next refresh. */
    if (quiet && v->ngone == 0) {
        v->modseq = job->out.highest_modseq;
        v->changed = false;
    }
}

static void store_done(struct session *s, void *arg)
{
    struct store_job *job = arg;
    if (!s) {
        store_job_free(job);
        return;
    }
    if (job->rc < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] STORE failed");
        store_job_free(job);
        return;
    }
    send_results(s, job);
    unsigned flags = job->uid ? 0 : IMAP_REFRESH_NO_EXPUNGE; /* RFC 9051 7.5.1 */
    char *mod = job->nmodified ? modified_set(s, job) : NULL;
    if (mod)
        imap_done(s, flags, "OK", "[MODIFIED %s] conditional STORE failed", mod);
    else
        imap_done(s, flags, "OK", "STORE completed");
    free(mod);
    store_job_free(job);
}

static const enum mailbox_flag_op ops[] = {
    [IMAP_STORE_SET] = MAILBOX_FLAGS_SET,
    [IMAP_STORE_ADD] = MAILBOX_FLAGS_ADD,
    [IMAP_STORE_REMOVE] = MAILBOX_FLAGS_REMOVE,
};

static struct store_job *store_job_new(struct session *s, struct imap_store *st, bool uid)
{
    struct imap_view *v = imap_of(s)->view;
    size_t *idx = NULL, n = 0;
    if (imap_view_resolve(v, st->set, uid, &idx, &n) < 0)
        return NULL;
    struct store_job *job = calloc(1, sizeof *job);
    if (job)
        job->uids = imap_view_uids(v, idx, n);
    free(idx);
    if (job && !job->uids) {
        free(job);
        return NULL;
    }
    if (!job)
        return NULL;
    job->mb = v->mb;
    job->uid = uid;
    job->silent = st->silent;
    job->n = n;
    imap_flags_to_store(&st->flags, &job->ch.flags, job->keywords, sizeof job->keywords);
    job->ch.op = ops[st->op];
    job->ch.keywords = job->keywords;
    if (st->unchangedsince)
        job->ch.unchangedsince = st->modseq;
    return job;
}

static void store_common(struct session *s, char *args, bool uid)
{
    struct imap *im = imap_of(s);
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    struct imap_store *st = NULL;
    int rc = imap_store_parse(p, &st);
    if (rc < 0) {
        imap_parser_free(&p);
        imap_bad(s, err);
        return;
    }
    if (im->view->readonly) {
        imap_store_free(&st);
        imap_parser_free(&p);
        imap_tagged(s, "NO", "[READ-ONLY] mailbox is read-only");
        return;
    }
    if (st->unchangedsince)
        im->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1 */
    /* The keywords live in the parser's scratch until the job has them. */
    struct store_job *job = store_job_new(s, st, uid);
    imap_store_free(&st);
    imap_parser_free(&p);
    if (!job) {
        imap_tagged(s, "BAD", "invalid message set");
        return;
    }
    if (job->n == 0) {
        store_job_free(job);
        imap_done(s, uid ? 0 : IMAP_REFRESH_NO_EXPUNGE, "OK", "STORE completed");
        return;
    }
    if (session_work(s, store_work, store_done, job) < 0) {
        store_job_free(job);
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
    }
}

void imap_cmd_store(struct session *s, char *args)
{
    store_common(s, args, false);
}

void imap_cmd_uid_store(struct session *s, char *args)
{
    store_common(s, args, true);
}
