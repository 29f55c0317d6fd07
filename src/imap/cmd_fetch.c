/* cmd_fetch: FETCH and UID FETCH (RFC 9051 6.4.5, 6.4.9), with RFC 7162
 * CHANGEDSINCE (3.1.4.1) and VANISHED (3.2.6). The command runs in three
 * steps: on the loop it parses and resolves the set; on the pool it sets
 * \Seen for non-PEEK body fetches (6.4.5) and collects VANISHED UIDs; then
 * batches of responses are rendered on the pool (fetch_render.c) and sent
 * through session_stream, so a FETCH 1:* neither blocks the loop nor holds
 * the mailbox in memory, and a large body goes out of its file in chunks. */
#include "imap/imap.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/workpool.h"
#include "imap/fetch.h"
#include "imap/fetch_parse.h"
#include "imap/parse.h"
#include "imap/search.h"
#include "imap/seqset.h"
#include "imap/summary_fill.h"

struct fetch_cmd {
    struct fetch_ctx ctx;
    struct imap_fetch *f;
    struct imap_parser *p;
    struct imap_view *view;
    bool uid;
    size_t *idx; /* snapshot indexes to answer for */
    size_t n, next;
    bool *flagged;  /* by snapshot index: \Seen set by this FETCH */
    uint32_t *seen; /* UIDs whose \Seen this FETCH sets */
    size_t nseen;
    struct mailbox_snapshot seen_out;
    uint32_t *vanished;
    size_t nvanished;
    bool set_star;            /* the set had "*": VANISHED takes UIDs above it too */
    size_t first, last;       /* the batch rendering: idx[first..last) */
    struct fetch_batch batch; /* being sent */
    struct fetch_batch ahead; /* rendered (or rendering) on the pool */
    bool rendering, ready, waiting;
    struct session *s;
    int rc, ahead_rc;
    char err[256];
};

static void fetch_cmd_free(void *arg)
{
    struct fetch_cmd *fc = arg;
    if (!fc)
        return;
    fetch_batch_clear(&fc->batch);
    fetch_batch_clear(&fc->ahead);
    imap_fetch_free(&fc->f);
    imap_parser_free(&fc->p);
    mailbox_snapshot_free(&fc->seen_out);
    free(fc->idx);
    free(fc->flagged);
    free(fc->seen);
    free(fc->vanished);
    free(fc);
}

/* The session forgets the command (it ended or failed). */
static void fetch_detach(struct session *s, struct fetch_cmd *fc)
{
    struct imap *im = imap_of(s);
    if (im->stream_arg == fc) {
        im->stream_arg = NULL;
        im->stream_free = NULL;
    }
    fetch_cmd_free(fc);
}

static const char *verb(const struct fetch_cmd *fc)
{
    if (fc->uid)
        return "UID FETCH";
    return "FETCH";
}

/* ---- batches ----
 * While the loop sends one batch, the pool renders the next (two cores
 * work at once); the producer waits (suspended) only when the next batch
 * is not ready when the current one has gone out. */

/* The cached summaries of idx[first..end) in one index query. */
struct prefetch {
    const struct fetch_cmd *fc;
    size_t at, end;
    char **texts; /* by position - first */
};

static int prefetch_row(void *arg, uint32_t uid, const char *text)
{
    struct prefetch *p = arg;
    const struct mailbox_msg *msgs = p->fc->view->snap->msgs;
    const size_t *idx = p->fc->idx;
    while (p->at < p->end && msgs[idx[p->at]].uid < uid)
        p->at++;
    if (p->at < p->end && msgs[idx[p->at]].uid == uid && text)
        p->texts[p->at - p->fc->first] = strdup(text);
    return 0;
}

/* The batch's summaries: the cached ones in one query, the others
 * computed on two threads (summary_fill.c). */
static void prefetch(struct fetch_cmd *fc, size_t end, char **texts)
{
    const struct mailbox_msg *msgs = fc->view->snap->msgs;
    struct prefetch p = {fc, fc->first, end, texts};
    if (!fc->ctx.need_summary || end <= fc->first)
        return;
    mailbox_summary_range(fc->ctx.mb, msgs[fc->idx[fc->first]].uid,
                          msgs[fc->idx[end - 1]].uid, prefetch_row, &p);
    uint32_t uids[FETCH_BATCH_MSGS];
    for (size_t i = fc->first; i < end; i++)
        uids[i - fc->first] = msgs[fc->idx[i]].uid;
    summary_fill(fc->ctx.mb, uids, texts, end - fc->first);
}

static void render_work(void *arg)
{
    struct fetch_cmd *fc = arg;
    const struct mailbox_snapshot *snap = fc->view->snap;
    struct fetch_batch *b = &fc->ahead;
    char *texts[FETCH_BATCH_MSGS] = {0};
    size_t end = fc->first + FETCH_BATCH_MSGS;
    if (end > fc->n)
        end = fc->n;
    if (end > fc->first) /* the batch's file names in one query, if it opens files */
        mailbox_expect_opens(fc->ctx.mb, snap->msgs[fc->idx[fc->first]].uid,
                             snap->msgs[fc->idx[end - 1]].uid);
    prefetch(fc, end, texts);
    /* Dates and sizes a sync did not learn: one pass for the batch, after
     * the summaries just computed are written (their parse read the
     * files and learned these too: nothing is stat'd again). */
    struct mail_known *known = NULL;
    if (fc->ctx.need_known && fc->ctx.need_summary)
        mailbox_summary_flush(fc->ctx.mb);
    if (fc->ctx.need_known)
        known = imap_view_fill(fc->view, fc->idx + fc->first, end - fc->first,
                               fc->ctx.need_known, NULL);
    fc->ahead_rc = 0;
    size_t i = fc->first;
    for (; i < end && b->bytes < FETCH_BATCH_BYTES; i++) {
        size_t k = fc->idx[i];
        struct mailbox_msg tmp;
        const struct mailbox_msg *m = &snap->msgs[k];
        if (known)
            m = imap_msg_known(m, &known[i - fc->first], &tmp);
        struct fetch_msg fm = {(uint32_t)k + 1, m, fc->flagged[k], texts[i - fc->first]};
        if (fetch_render_msg(&fc->ctx, &fm, b) < 0) {
            fc->ahead_rc = -1;
            break;
        }
    }
    for (size_t j = 0; j < end - fc->first; j++)
        free(texts[j]);
    free(known);
    fc->last = i;
    mailbox_summary_flush(fc->ctx.mb); /* one commit for the batch's new summaries */
}

static void render_done(void *arg)
{
    struct fetch_cmd *fc = arg;
    struct session *s = fc->s;
    fc->rendering = false;
    if (!session_gone(s)) {
        fc->ready = true;
        fc->next = fc->last;
        if (fc->waiting) {
            fc->waiting = false;
            session_resume(s);
        }
    }
    /* A gone session frees fc in its close (im->stream_free). */
    session_unref(s);
}

/* Starts rendering the next batch on the pool; -1 if it could not. */
static int render_ahead(struct session *s, struct fetch_cmd *fc)
{
    fc->first = fc->next;
    fc->rendering = true;
    fc->s = s;
    session_ref(s);
    if (!runtime || workpool_submit(runtime->pool, s->conn->loop->base, render_work,
                                    render_done, fc) < 0) {
        fc->rendering = false;
        session_unref(s);
        return -1;
    }
    return 0;
}

static void finish(struct session *s, struct fetch_cmd *fc, int rc)
{
    char v[16];
    snprintf(v, sizeof v, "%s", verb(fc));
    fetch_detach(s, fc);
    if (rc < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] %s failed", v);
        return;
    }
    /* RFC 9051 7.5.1: no EXPUNGE during FETCH. */
    imap_done(s, IMAP_REFRESH_NO_EXPUNGE, "OK", "%s completed", v);
}

/* Waits for the batch being rendered: suspended until render_done. */
static int wait_ahead(struct session *s, struct fetch_cmd *fc)
{
    fc->waiting = true;
    session_suspend(s);
    return 0;
}

/* session_stream's producer: sends the rendered batch while the next one
 * renders, ends the command after the last. */
static int fetch_produce(struct session *s, struct evbuffer *out, size_t room, void *arg)
{
    struct fetch_cmd *fc = arg;
    for (;;) {
        bool more = fc->rc == 0 && fc->next < fc->n;
        if (!fc->rendering && !fc->ready && more && render_ahead(s, fc) < 0) {
            finish(s, fc, -1);
            return 1;
        }
        if (fc->batch.n > 0) {
            int r = fetch_batch_send(&fc->batch, out, room);
            if (r < 0)
                return -1; /* the session closes and frees fc (stream_free) */
            if (r == 0)
                return 0;
            fetch_batch_clear(&fc->batch);
        }
        if (fc->rendering)
            return wait_ahead(s, fc); /* fc stays alive while the pool uses it */
        if (fc->rc < 0) {
            finish(s, fc, -1);
            return 1;
        }
        if (!fc->ready) {
            finish(s, fc, 0);
            return 1;
        }
        /* The batch rendered ahead becomes the one to send. */
        fc->batch = fc->ahead;
        memset(&fc->ahead, 0, sizeof fc->ahead);
        fc->rc = fc->ahead_rc;
        fc->ready = false;
    }
}

/* ---- \Seen and VANISHED, before the responses ---- */

static void prepare_work(void *arg)
{
    struct fetch_cmd *fc = arg;
    struct mailbox *mb = fc->view->mb;
    fc->rc = 0;
    if (fc->nseen) {
        /* RFC 9051 6.4.5: a non-PEEK body fetch sets \Seen. */
        struct mailbox_flag_change ch = {MAILBOX_FLAGS_ADD, MAIL_SEEN, NULL, 0};
        uint32_t *modified = NULL;
        size_t nmod = 0;
        if (mailbox_store_flags(mb, fc->seen, fc->nseen, &ch, &fc->seen_out, &modified,
                                &nmod) < 0)
            fc->rc = -1;
        free(modified);
    }
    if (fc->f->vanished) {
        struct mailbox_snapshot changed = {0};
        if (mailbox_changes_since(mb, fc->f->modseq, &changed, &fc->vanished,
                                  &fc->nvanished) < 0)
            fc->rc = -1;
        mailbox_snapshot_free(&changed);
    }
}

/* RFC 7162 3.2.6: VANISHED (EARLIER) with the expunged UIDs of the set. */
static void send_vanished(struct session *s, struct fetch_cmd *fc)
{
    size_t k = 0;
    uint32_t max = imap_seqset_max(fc->f->set);
    for (size_t i = 0; i < fc->nvanished; i++) {
        uint32_t u = fc->vanished[i];
        /* "n:*" reaches expunged UIDs above the highest one left. */
        if (imap_seqset_contains(fc->f->set, u) || (fc->set_star && u > max))
            fc->vanished[k++] = u;
    }
    if (k == 0)
        return;
    size_t need = imap_seqset_format(fc->vanished, k, NULL, 0);
    char *text = malloc(need + 1);
    if (!text)
        return;
    imap_seqset_format(fc->vanished, k, text, need + 1);
    imap_untagged(s, "VANISHED (EARLIER) %s", text);
    free(text);
}

static void prepare_done(struct session *s, void *arg)
{
    struct fetch_cmd *fc = arg;
    if (!s)
        return; /* freed in the session's close (im->stream_free) */
    if (fc->rc < 0) {
        finish(s, fc, -1);
        return;
    }
    for (size_t i = 0; i < fc->seen_out.n; i++) {
        size_t at;
        if (imap_view_update(fc->view, &fc->seen_out.msgs[i], &at))
            fc->flagged[at] = true;
    }
    if (fc->f->vanished)
        send_vanished(s, fc);
    session_stream(s, fetch_produce, fc);
}

/* ---- the command ---- */

/* UIDs of the set whose \Seen this FETCH sets (none in EXAMINE). */
static int collect_seen(struct fetch_cmd *fc)
{
    if (fc->view->readonly || !imap_fetch_sets_seen(fc->f))
        return 0;
    fc->seen = malloc((fc->n + 1) * sizeof *fc->seen);
    if (!fc->seen)
        return -1;
    for (size_t i = 0; i < fc->n; i++) {
        const struct mailbox_msg *m = &fc->view->snap->msgs[fc->idx[i]];
        if (!(m->flags & MAIL_SEEN) && !imap_view_gone(fc->view, fc->idx[i]))
            fc->seen[fc->nseen++] = m->uid;
    }
    return 0;
}

/* RFC 7162 3.1.4.1: CHANGEDSINCE keeps the messages with a greater modseq. */
static void filter_changedsince(struct fetch_cmd *fc)
{
    if (!fc->f->changedsince)
        return;
    size_t k = 0;
    for (size_t i = 0; i < fc->n; i++)
        if (fc->view->snap->msgs[fc->idx[i]].modseq > fc->f->modseq)
            fc->idx[k++] = fc->idx[i];
    fc->n = k;
}

/* Checks what the parser leaves to the server; replies and returns -1. */
static int check_items(struct session *s, struct fetch_cmd *fc)
{
    struct imap *im = imap_of(s);
    for (size_t i = 0; i < fc->f->n; i++) {
        enum imap_fetch_att a = fc->f->items[i].att;
        if (a == IMAP_FA_BINARY || a == IMAP_FA_BINARY_SIZE) {
            imap_tagged(s, "BAD", "BINARY is not supported");
            return -1;
        }
    }
    if (fc->f->vanished && !(im->enabled & IMAP_ENABLED_QRESYNC)) {
        imap_tagged(s, "BAD", "VANISHED needs ENABLE QRESYNC"); /* RFC 7162 3.2.6 */
        return -1;
    }
    return 0;
}

static int fetch_setup(struct session *s, struct fetch_cmd *fc, char *args)
{
    struct imap *im = imap_of(s);
    fc->p = imap_parser_for(s, args, fc->err, sizeof fc->err);
    if (!fc->p)
        return -1;
    if (imap_fetch_parse(fc->p, fc->uid, &fc->f) < 0) {
        imap_bad(s, fc->err);
        return -1;
    }
    if (check_items(s, fc) < 0)
        return -1;
    if (fc->f->changedsince)
        im->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1 */
    fc->set_star = fc->f->set->star;
    if (imap_search_resolve_set(s, fc->f->set, fc->uid, &fc->idx, &fc->n) < 0) {
        imap_tagged(s, "BAD", "Invalid message set");
        return -1;
    }
    filter_changedsince(fc); /* before \Seen: only what is answered is seen */
    fc->flagged = calloc(fc->view->snap->n + 1, sizeof *fc->flagged);
    if (!fc->flagged || collect_seen(fc) < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return -1;
    }
    fc->ctx.f = fc->f;
    fc->ctx.mb = fc->view->mb;
    fc->ctx.uid_cmd = fc->uid || (im->enabled & IMAP_ENABLED_QRESYNC);
    fc->ctx.want_modseq = fc->f->changedsince;
    fetch_ctx_needs(&fc->ctx);
    return 0;
}

static void fetch_start(struct session *s, char *args, bool uid)
{
    struct imap *im = imap_of(s);
    struct fetch_cmd *fc = calloc(1, sizeof *fc);
    if (!fc || !im->view) {
        free(fc);
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return;
    }
    fc->uid = uid;
    fc->view = im->view;
    if (fetch_setup(s, fc, args) < 0) {
        fetch_cmd_free(fc);
        return;
    }
    /* Freed with the session if it closes while the responses stream. */
    im->stream_arg = fc;
    im->stream_free = fetch_cmd_free;
    if (fc->nseen || fc->f->vanished) {
        if (session_work(s, prepare_work, prepare_done, fc) < 0)
            finish(s, fc, -1);
        return;
    }
    session_stream(s, fetch_produce, fc);
}

void imap_cmd_fetch(struct session *s, char *args)
{
    fetch_start(s, args, false);
}

void imap_cmd_uid_fetch(struct session *s, char *args)
{
    fetch_start(s, args, true);
}
