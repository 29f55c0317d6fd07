/* imap view_apply: keeping the selected mailbox in step with the store at
 * the moments RFC 9051 7.5.1 allows: new messages (EXISTS), expunges
 * (EXPUNGE, or VANISHED under QRESYNC, RFC 7162 3.2.10) and flag changes
 * by others (FETCH FLAGS, with MODSEQ under CONDSTORE, RFC 7162 3.1.4).
 * The session takes the store's newest shared version (one per folder for
 * every session, store/mailbox.h), diffs it against what its client was
 * told, sends the difference and then points at the new version; only
 * when it may not announce an expunge yet (during FETCH, STORE, SEARCH)
 * does it keep a private copy with the expunged messages marked gone.
 * Also the command ending (imap_done) and the change-bus subscription. */
#include "imap/imap.h"

#include "core/log.h"
#include "store/bus.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool same_flags(const struct mailbox_msg *a, const struct mailbox_msg *b)
{
    const char *ka = a->keywords ? a->keywords : "";
    const char *kb = b->keywords ? b->keywords : "";
    return a->flags == b->flags && strcmp(ka, kb) == 0;
}

/* The view against a fresh snapshot, in UID order. */
struct diff {
    size_t *gone; /* view indexes the store no longer has (ascending) */
    size_t ngone;
    size_t nnew;  /* fresh messages above the view's highest UID */
    bool skipped; /* fresh has a UID below it the view lacks: not shown */
};

/* Walks view and fresh: sends FETCH FLAGS for messages whose flags (or,
 * under CONDSTORE, modseq) others changed, with the view's numbers. */
static void diff_walk(struct session *s, const struct mailbox_snapshot *f, struct diff *d,
                      struct evbuffer *out)
{
    struct imap_view *v = imap_of(s)->view;
    const struct mailbox_snapshot *o = v->snap;
    bool cs = imap_condstore(s);
    size_t j = 0;
    for (size_t i = 0; i < o->n; i++) {
        const struct mailbox_msg *m = &o->msgs[i];
        for (; j < f->n && f->msgs[j].uid < m->uid; j++)
            d->skipped = true;
        if (j < f->n && f->msgs[j].uid == m->uid && !imap_view_gone(v, i)) {
            const struct mailbox_msg *n = &f->msgs[j++];
            if (!same_flags(m, n) || (cs && m->modseq != n->modseq))
                imap_buf_flags_line(s, out, i + 1, n, false);
        } else {
            d->gone[d->ngone++] = i;
        }
    }
    uint32_t last = 0;
    if (o->n)
        last = o->msgs[o->n - 1].uid;
    for (; j < f->n; j++) {
        if (f->msgs[j].uid > last)
            d->nnew++;
        else
            d->skipped = true;
    }
}

static int push_copy(struct mailbox_snapshot *dst, const struct mailbox_msg *m)
{
    struct mailbox_msg *c = &dst->msgs[dst->n];
    *c = *m;
    c->keywords = NULL;
    if (m->keywords && !(c->keywords = strdup(m->keywords)))
        return -1;
    dst->n++;
    return 0;
}

/* The view's messages (fresh state where the store has them, gone where
 * not) then the new ones, as a private copy with its gone marks. */
static int merge_private(struct imap_view *v, const struct mailbox_snapshot *f,
                         const struct diff *d, struct mailbox_snapshot *out, bool **gone)
{
    const struct mailbox_snapshot *o = v->snap;
    size_t cap = o->n + d->nnew + 1, j = 0, k = 0;
    *out = *f;
    out->n = 0;
    out->msgs = malloc(cap * sizeof *out->msgs);
    *gone = calloc(cap, sizeof **gone);
    int rc = 0;
    if (!out->msgs || !*gone)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < o->n; i++) {
        if (k < d->ngone && d->gone[k] == i) {
            (*gone)[out->n] = true;
            rc = push_copy(out, &o->msgs[i]);
            k++;
            continue;
        }
        while (f->msgs[j].uid < o->msgs[i].uid)
            j++;
        rc = push_copy(out, &f->msgs[j++]);
    }
    uint32_t last = 0;
    if (o->n)
        last = o->msgs[o->n - 1].uid;
    for (j = 0; rc == 0 && j < f->n; j++)
        if (f->msgs[j].uid > last)
            rc = push_copy(out, &f->msgs[j]);
    return rc;
}

/* The view becomes fresh itself (reference taken over). */
static void adopt_shared(struct imap_view *v, const struct mailbox_version *fresh)
{
    imap_view_clear(v);
    v->ver = fresh;
    v->snap = mailbox_version_snap(fresh);
}

/* The view becomes a private merge of itself and fresh; false (view
 * unchanged) on out of memory. */
static bool adopt_private(struct imap_view *v, const struct mailbox_version *fresh,
                          const struct diff *d)
{
    struct mailbox_snapshot own;
    bool *gone = NULL;
    if (merge_private(v, mailbox_version_snap(fresh), d, &own, &gone) < 0) {
        mailbox_snapshot_free(&own);
        free(gone);
        return false;
    }
    imap_view_clear(v);
    v->own = own;
    v->snap = &v->own;
    v->gone = gone;
    v->ngone = d->ngone;
    mailbox_version_put(fresh);
    return true;
}

/* Announces the held-back expunges of a private view and drops them; the
 * view then matches the store again, so the next refresh shares. */
static void flush_gone(struct session *s)
{
    struct imap_view *v = imap_of(s)->view;
    size_t *idx = malloc((v->ngone + 1) * sizeof *idx);
    size_t m = 0, w = 0;
    if (!idx)
        return;
    for (size_t i = 0; i < v->own.n; i++)
        if (v->gone[i])
            idx[m++] = i;
    imap_view_announce_expunged(s, idx, m);
    for (size_t i = 0; i < v->own.n; i++) {
        if (v->gone[i]) {
            free(v->own.msgs[i].keywords);
            continue;
        }
        v->own.msgs[w] = v->own.msgs[i];
        v->gone[w++] = false;
    }
    v->own.n = w;
    v->ngone = 0;
    free(idx);
}

void imap_view_apply(struct session *s, const struct mailbox_version *fresh,
                     bool no_expunge)
{
    struct imap_view *v = imap_of(s)->view;
    const struct mailbox_snapshot *f = mailbox_version_snap(fresh);
    struct diff d = {.gone = malloc((v->snap->n + 1) * sizeof *d.gone)};
    if (!d.gone) {
        mailbox_version_put(fresh);
        return;
    }
    struct evbuffer *out = evbuffer_new();
    if (!out) {
        free(d.gone);
        mailbox_version_put(fresh);
        return;
    }
    diff_walk(s, f, &d, out);
    imap_send(s, out);
    evbuffer_free(out);
    if (d.nnew)
        session_printf(s, "* %zu EXISTS\r\n", v->snap->n + d.nnew);
    if (!d.skipped && (d.ngone == 0 || !no_expunge)) {
        imap_view_announce_expunged(s, d.gone, d.ngone);
        adopt_shared(v, fresh);
    } else if (!adopt_private(v, fresh, &d)) {
        log_warn(0, "imap view_merge_failed");
    } else if (!no_expunge && v->ngone) {
        flush_gone(s);
    }
    free(d.gone);
    v->modseq = v->snap->highest_modseq;
    v->changed = false;
}
/* ---- refreshing on the pool ---- */

struct refresh_job {
    struct mailbox *mb;
    const struct mailbox_version *fresh;
    int rc;
    unsigned flags;
    imap_then_fn then;
    void *arg;
};

static void refresh_work(void *arg)
{
    struct refresh_job *job = arg;
    job->fresh = mailbox_version_get(job->mb);
    job->rc = 0;
    if (!job->fresh)
        job->rc = -1;
}

static void refresh_done(struct session *s, void *arg)
{
    struct refresh_job *job = arg;
    struct imap *im = s ? imap_of(s) : NULL;
    if (im && im->view)
        im->view->refreshing = false;
    if (im && im->view && job->rc == 0)
        imap_view_apply(s, job->fresh, job->flags & IMAP_REFRESH_NO_EXPUNGE);
    else
        mailbox_version_put(job->fresh);
    if (s && job->rc != 0)
        log_warn(s->id, "imap refresh_failed");
    if (job->then)
        job->then(s, job->arg);
    free(job);
}

int imap_view_refresh(struct session *s, unsigned flags, imap_then_fn then, void *arg)
{
    struct imap_view *v = imap_of(s)->view;
    if (!v || v->refreshing)
        return -1;
    struct refresh_job *job = calloc(1, sizeof *job);
    if (!job)
        return -1;
    *job = (struct refresh_job){.mb = v->mb, .flags = flags, .then = then, .arg = arg};
    v->refreshing = true;
    v->changed = false;
    if (session_work(s, refresh_work, refresh_done, job) < 0) {
        v->refreshing = false;
        free(job);
        return -1;
    }
    return 0;
}

/* ---- ending a command ---- */

struct done_reply {
    char status[4];
    char text[512];
};

static void done_then(struct session *s, void *arg)
{
    struct done_reply *r = arg;
    if (s)
        imap_tagged(s, r->status, "%s", r->text);
    free(r);
}

void imap_done(struct session *s, unsigned flags, const char *status, const char *fmt,
               ...)
{
    struct imap *im = imap_of(s);
    struct done_reply *r = calloc(1, sizeof *r);
    va_list ap;
    va_start(ap, fmt);
    if (r)
        vsnprintf(r->text, sizeof r->text, fmt, ap);
    va_end(ap);
    if (!r) {
        imap_tagged(s, status, "completed");
        return;
    }
    snprintf(r->status, sizeof r->status, "%s", status);
    bool look = im->view && (im->view->changed || (flags & IMAP_REFRESH_ALWAYS));
    if (look && imap_view_refresh(s, flags, done_then, r) == 0)
        return;
    done_then(s, r);
}

/* ---- the change bus ---- */

static void idle_then(struct session *s, void *arg)
{
    struct imap *im = s ? imap_of(s) : NULL;
    /* Changes that came while this refresh ran: look again. */
    if (im && im->idling && im->view && im->view->changed)
        imap_view_refresh(s, 0, idle_then, NULL);
}

static void on_bus(void *arg, const struct bus_event *ev)
{
    struct session *s = arg;
    struct imap *im = imap_of(s);
    if (!im || !im->view || session_gone(s))
        return;
    if (strcasecmp(ev->folder, im->view->name) != 0)
        return;
    im->view->changed = true;
    /* RFC 2177 3: while idling, updates go out as they happen. */
    if (im->idling && !im->view->refreshing)
        imap_view_refresh(s, 0, idle_then, NULL);
}

void imap_bus_start(struct session *s)
{
    struct imap *im = imap_of(s);
    if (im->bus_sub)
        return;
    im->bus_sub = bus_subscribe(im->account.address, s->conn->loop->base, on_bus, s);
    if (!im->bus_sub)
        log_warn(s->id, "imap bus_subscribe_failed account=%s", im->account.address);
}

void imap_bus_stop(struct session *s)
{
    struct imap *im = imap_of(s);
    bus_unsubscribe(im->bus_sub);
    im->bus_sub = 0;
}
