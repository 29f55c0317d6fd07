/* imap view: the selected mailbox as the client knows it (RFC 9051 2.3.1:
 * message numbers, UIDs, flags, HIGHESTMODSEQ), kept in step with the store
 * at the moments RFC 9051 7.5.1 allows: new messages (EXISTS), expunges
 * (EXPUNGE, or VANISHED under QRESYNC, RFC 7162 3.2.10) and flag changes
 * by others (FETCH FLAGS, with MODSEQ under CONDSTORE, RFC 7162 3.1.4).
 * Also the change-bus subscription that tells a session to look. */
#include "imap/imap.h"

#include "core/log.h"
#include "core/workpool.h"
#include "imap/seqset.h"
#include "store/bus.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool imap_condstore(struct session *s)
{
    struct imap *im = imap_of(s);
    return im->enabled & (IMAP_ENABLED_CONDSTORE | IMAP_ENABLED_QRESYNC);
}

static bool qresync(struct session *s)
{
    return imap_of(s)->enabled & IMAP_ENABLED_QRESYNC;
}

struct imap_view *imap_view_new(struct mailbox *mb, const char *name, bool readonly,
                                struct mailbox_snapshot *snap)
{
    struct imap_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->gone = calloc(snap->n + 1, sizeof *v->gone);
    if (!v->gone) {
        free(v);
        return NULL;
    }
    v->mb = mb;
    snprintf(v->name, sizeof v->name, "%s", name);
    v->readonly = readonly;
    v->snap = *snap;
    memset(snap, 0, sizeof *snap);
    v->modseq = v->snap.highest_modseq;
    return v;
}

static void close_work(void *arg)
{
    mailbox_close(arg);
}

/* The handle's close touches SQLite: on the pool (no completion). */
void imap_view_free(struct imap_view *v)
{
    if (!v)
        return;
    if (v->mb &&
        (!runtime || workpool_submit(runtime->pool, NULL, close_work, NULL, v->mb) < 0))
        mailbox_close(v->mb);
    mailbox_snapshot_free(&v->snap);
    free(v->gone);
    free(v);
}

long imap_view_find(const struct imap_view *v, uint32_t uid)
{
    size_t lo = 0, hi = v->snap.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint32_t u = v->snap.msgs[mid].uid;
        if (u == uid)
            return (long)mid;
        if (u < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int resolve_msn(const struct imap_view *v, struct imap_seqset *set, size_t *idx,
                       size_t *n)
{
    if (imap_seqset_resolve(set, (uint32_t)v->snap.n) < 0)
        return -1;
    /* RFC 9051 9 seq-number: a number beyond the mailbox is an error. */
    if (imap_seqset_max(set) > v->snap.n)
        return -1;
    struct imap_seqset_iter it = {0};
    uint32_t msn;
    *n = 0;
    while (imap_seqset_next(set, &it, &msn))
        idx[(*n)++] = msn - 1;
    return 0;
}

static int resolve_uid(const struct imap_view *v, struct imap_seqset *set, size_t *idx,
                       size_t *n)
{
    uint32_t star = 0;
    if (v->snap.n)
        star = v->snap.msgs[v->snap.n - 1].uid;
    if (imap_seqset_resolve(set, star) < 0)
        return -1;
    uint32_t *uids = malloc((v->snap.n + 1) * sizeof *uids);
    if (!uids)
        return -1;
    for (size_t i = 0; i < v->snap.n; i++)
        uids[i] = v->snap.msgs[i].uid;
    *n = imap_seqset_filter(set, uids, v->snap.n, idx);
    free(uids);
    return 0;
}

int imap_view_resolve(const struct imap_view *v, struct imap_seqset *set, bool uid,
                      size_t **idx, size_t *n)
{
    *idx = NULL;
    *n = 0;
    if (set->saved)
        return -1;
    size_t *out = malloc((v->snap.n + 1) * sizeof *out);
    if (!out)
        return -1;
    int rc;
    if (uid)
        rc = resolve_uid(v, set, out, n);
    else
        rc = resolve_msn(v, set, out, n);
    if (rc < 0) {
        free(out);
        *n = 0;
        return -1;
    }
    *idx = out;
    return 0;
}

uint32_t *imap_view_uids(const struct imap_view *v, const size_t *idx, size_t n)
{
    uint32_t *uids = malloc((n + 1) * sizeof *uids);
    if (!uids)
        return NULL;
    for (size_t i = 0; i < n; i++)
        uids[i] = v->snap.msgs[idx[i]].uid;
    return uids;
}

/* ---- sending what changed ---- */

static bool same_flags(const struct mailbox_msg *a, const struct mailbox_msg *b)
{
    const char *ka = a->keywords ? a->keywords : "";
    const char *kb = b->keywords ? b->keywords : "";
    return a->flags == b->flags && strcmp(ka, kb) == 0;
}

/* RFC 9051 7.5.2 FETCH FLAGS; UID under QRESYNC (RFC 7162 3.2.4), MODSEQ
 * under CONDSTORE (RFC 7162 3.1.4). */
void imap_view_send_flags(struct session *s, size_t i, bool with_uid)
{
    struct imap_view *v = imap_of(s)->view;
    const struct mailbox_msg *m = &v->snap.msgs[i];
    struct evbuffer *out = evbuffer_new();
    if (!out)
        return;
    evbuffer_add_printf(out, "* %zu FETCH (", i + 1);
    if (with_uid || qresync(s))
        evbuffer_add_printf(out, "UID %u ", m->uid);
    evbuffer_add(out, "FLAGS ", 6);
    imap_buf_flags(out, m->flags, m->keywords);
    if (imap_condstore(s))
        evbuffer_add_printf(out, " MODSEQ (%llu)", (unsigned long long)m->modseq);
    evbuffer_add(out, ")\r\n", 3);
    imap_send(s, out);
    evbuffer_free(out);
}

/* Expunged messages, by index (ascending) into the view: EXPUNGE with
 * descending numbers (each stays valid), or one VANISHED (RFC 7162
 * 3.2.10). Then they leave the view. */
static void announce_expunged(struct session *s, const size_t *idx, size_t n)
{
    struct imap_view *v = imap_of(s)->view;
    if (n == 0)
        return;
    if (qresync(s)) {
        uint32_t *uids = imap_view_uids(v, idx, n);
        char *set = NULL;
        size_t need = 0;
        if (uids)
            need = imap_seqset_format(uids, n, NULL, 0);
        if (uids)
            set = malloc(need + 1);
        if (set) {
            imap_seqset_format(uids, n, set, need + 1);
            session_printf(s, "* VANISHED %s\r\n", set);
        }
        free(set);
        free(uids);
    } else {
        for (size_t k = n; k-- > 0;)
            session_printf(s, "* %zu EXPUNGE\r\n", idx[k] + 1);
    }
}

/* Removes the messages at idx (ascending) from the view. */
static void view_remove(struct imap_view *v, const size_t *idx, size_t n)
{
    size_t w = 0, k = 0;
    for (size_t i = 0; i < v->snap.n; i++) {
        if (k < n && idx[k] == i) {
            free(v->snap.msgs[i].keywords);
            if (v->gone[i])
                v->ngone--;
            k++;
            continue;
        }
        v->snap.msgs[w] = v->snap.msgs[i];
        v->gone[w] = v->gone[i];
        w++;
    }
    v->snap.n = w;
}

void imap_view_expunged(struct session *s, const uint32_t *uids, size_t n)
{
    struct imap_view *v = imap_of(s)->view;
    size_t *idx = malloc((n + 1) * sizeof *idx);
    size_t m = 0;
    if (!idx)
        return;
    for (size_t i = 0; i < n; i++) {
        long at = imap_view_find(v, uids[i]);
        if (at >= 0)
            idx[m++] = (size_t)at;
    }
    /* uids come ascending from the store; keep idx so. */
    announce_expunged(s, idx, m);
    view_remove(v, idx, m);
    free(idx);
}

/* Announces the expunges others made that were held back. */
static void flush_gone(struct session *s)
{
    struct imap_view *v = imap_of(s)->view;
    size_t *idx = malloc((v->ngone + 1) * sizeof *idx);
    size_t m = 0;
    if (!idx)
        return;
    for (size_t i = 0; i < v->snap.n; i++)
        if (v->gone[i])
            idx[m++] = i;
    announce_expunged(s, idx, m);
    view_remove(v, idx, m);
    free(idx);
}

/* The merge of the view with a fresh snapshot, in UID order: messages of
 * both (fresh flags), messages only in the view (gone), new messages at
 * the end. Entries are moved, not copied (keywords change owner). */
struct merge {
    struct mailbox_msg *msgs;
    bool *gone, *flagged; /* gone: expunged by others; flagged: flags changed */
    size_t n, old_n;
};

static void merge_one(struct merge *mg, struct mailbox_msg *m, bool gone, bool changed)
{
    mg->msgs[mg->n] = *m;
    mg->gone[mg->n] = gone;
    mg->flagged[mg->n] = changed;
    mg->n++;
    m->keywords = NULL;
}

static void merge_walk(struct session *s, struct merge *mg,
                       struct mailbox_snapshot *fresh)
{
    struct imap_view *v = imap_of(s)->view;
    bool cs = imap_condstore(s);
    size_t i = 0, j = 0;
    while (i < v->snap.n) {
        struct mailbox_msg *o = &v->snap.msgs[i];
        while (j < fresh->n && fresh->msgs[j].uid < o->uid)
            j++; /* a UID the view never had below its highest: not shown */
        if (j < fresh->n && fresh->msgs[j].uid == o->uid && !v->gone[i]) {
            struct mailbox_msg *f = &fresh->msgs[j++];
            bool changed = !same_flags(o, f) || (cs && o->modseq != f->modseq);
            merge_one(mg, f, false, changed);
        } else {
            merge_one(mg, o, true, false);
        }
        i++;
    }
    mg->old_n = mg->n;
    uint32_t last = 0;
    if (v->snap.n)
        last = v->snap.msgs[v->snap.n - 1].uid;
    for (; j < fresh->n; j++)
        if (fresh->msgs[j].uid > last)
            merge_one(mg, &fresh->msgs[j], false, false);
}

static void merge_adopt(struct imap_view *v, struct merge *mg,
                        struct mailbox_snapshot *fresh)
{
    free(v->gone);
    for (size_t i = 0; i < v->snap.n; i++)
        free(v->snap.msgs[i].keywords);
    free(v->snap.msgs);
    v->snap.msgs = mg->msgs;
    v->snap.n = mg->n;
    v->gone = mg->gone;
    v->ngone = 0;
    for (size_t i = 0; i < mg->n; i++)
        v->ngone += mg->gone[i];
    v->snap.uidnext = fresh->uidnext;
    v->snap.highest_modseq = fresh->highest_modseq;
    v->snap.uidvalidity = fresh->uidvalidity;
    memcpy(v->snap.mailboxid, fresh->mailboxid, sizeof v->snap.mailboxid);
}

void imap_view_apply(struct session *s, struct mailbox_snapshot *fresh, bool no_expunge)
{
    struct imap_view *v = imap_of(s)->view;
    size_t cap = v->snap.n + fresh->n + 1;
    struct merge mg = {.msgs = calloc(cap, sizeof *mg.msgs),
                       .gone = calloc(cap, sizeof(bool)),
                       .flagged = calloc(cap, sizeof(bool))};
    if (!mg.msgs || !mg.gone || !mg.flagged) {
        free(mg.msgs);
        free(mg.gone);
        free(mg.flagged);
        mailbox_snapshot_free(fresh);
        return;
    }
    size_t before = v->snap.n;
    merge_walk(s, &mg, fresh);
    bool *flagged = mg.flagged;
    merge_adopt(v, &mg, fresh);
    mailbox_snapshot_free(fresh);
    for (size_t i = 0; i < v->snap.n; i++)
        if (flagged[i] && !v->gone[i])
            imap_view_send_flags(s, i, false);
    free(flagged);
    if (v->snap.n != before)
        session_printf(s, "* %zu EXISTS\r\n", v->snap.n);
    if (!no_expunge && v->ngone)
        flush_gone(s);
    v->modseq = v->snap.highest_modseq;
    v->changed = false;
}

/* ---- refreshing on the pool ---- */

struct refresh_job {
    struct mailbox *mb;
    struct mailbox_snapshot fresh;
    int rc;
    unsigned flags;
    imap_then_fn then;
    void *arg;
};

static void refresh_work(void *arg)
{
    struct refresh_job *job = arg;
    job->rc = mailbox_snapshot(job->mb, &job->fresh);
}

static void refresh_done(struct session *s, void *arg)
{
    struct refresh_job *job = arg;
    struct imap *im = s ? imap_of(s) : NULL;
    if (im && im->view)
        im->view->refreshing = false;
    if (im && im->view && job->rc == 0)
        imap_view_apply(s, &job->fresh, job->flags & IMAP_REFRESH_NO_EXPUNGE);
    else
        mailbox_snapshot_free(&job->fresh);
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

bool imap_view_update(struct imap_view *v, const struct mailbox_msg *m, size_t *at)
{
    long i = imap_view_find(v, m->uid);
    if (i < 0 || v->gone[i])
        return false;
    struct mailbox_msg *o = &v->snap.msgs[i];
    char *kw = NULL;
    if (m->keywords && *m->keywords)
        kw = strdup(m->keywords);
    free(o->keywords);
    o->keywords = kw;
    o->flags = m->flags;
    o->modseq = m->modseq;
    if (m->modseq > v->snap.highest_modseq)
        v->snap.highest_modseq = m->modseq;
    *at = (size_t)i;
    return true;
}
