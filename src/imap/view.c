/* imap view: the selected mailbox as the client knows it (RFC 9051 2.3.1:
 * message numbers, UIDs, flags, HIGHESTMODSEQ): its life (a shared version
 * or a private copy), resolving sequence sets against it, the FETCH FLAGS
 * and EXPUNGE/VANISHED lines, and the session's own changes (STORE,
 * EXPUNGE, MOVE). Catching up with others' changes is view_apply.c. */
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
                                const struct mailbox_version *ver)
{
    struct imap_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->mb = mb;
    snprintf(v->name, sizeof v->name, "%s", name);
    v->readonly = readonly;
    v->ver = ver;
    v->snap = mailbox_version_snap(ver);
    v->modseq = v->snap->highest_modseq;
    return v;
}

static void close_work(void *arg)
{
    mailbox_close(arg);
}

void imap_view_clear(struct imap_view *v)
{
    mailbox_version_put(v->ver);
    v->ver = NULL;
    mailbox_snapshot_free(&v->own);
    free(v->gone);
    v->gone = NULL;
    v->ngone = 0;
    v->snap = &v->own;
}

/* The handle's close touches SQLite: on the pool (no completion). */
void imap_view_free(struct imap_view *v)
{
    if (!v)
        return;
    if (v->mb &&
        (!runtime || workpool_submit(runtime->pool, NULL, close_work, NULL, v->mb) < 0))
        mailbox_close(v->mb);
    imap_view_clear(v);
    free(v);
}

static int copy_msgs(struct mailbox_snapshot *dst, const struct mailbox_snapshot *src)
{
    *dst = *src;
    dst->msgs = malloc((src->n + 1) * sizeof *dst->msgs);
    dst->n = 0;
    if (!dst->msgs)
        return -1;
    for (size_t i = 0; i < src->n; i++) {
        dst->msgs[i] = src->msgs[i];
        dst->msgs[i].keywords = NULL;
        if (src->msgs[i].keywords &&
            !(dst->msgs[i].keywords = strdup(src->msgs[i].keywords)))
            return -1;
        dst->n = i + 1;
    }
    return 0;
}

int imap_view_own(struct imap_view *v)
{
    if (!v->ver)
        return 0;
    struct mailbox_snapshot own;
    bool *gone = calloc(v->snap->n + 1, sizeof *gone);
    if (!gone || copy_msgs(&own, v->snap) < 0) {
        free(gone);
        if (gone)
            mailbox_snapshot_free(&own);
        return -1;
    }
    imap_view_clear(v);
    v->own = own;
    v->gone = gone;
    return 0;
}

long imap_view_find(const struct imap_view *v, uint32_t uid)
{
    return mailbox_snapshot_find(v->snap, uid);
}

static int resolve_msn(const struct imap_view *v, struct imap_seqset *set, size_t *idx,
                       size_t *n)
{
    /* "1:*" in an empty mailbox names nothing (fetchmail, mutt send it;
     * Dovecot answers OK too). */
    if (v->snap->n == 0 && set->star) {
        *n = 0;
        return 0;
    }
    if (imap_seqset_resolve(set, (uint32_t)v->snap->n) < 0)
        return -1;
    /* RFC 9051 9 seq-number: a number beyond the mailbox is an error. */
    if (imap_seqset_max(set) > v->snap->n)
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
    if (v->snap->n)
        star = v->snap->msgs[v->snap->n - 1].uid;
    if (imap_seqset_resolve(set, star) < 0)
        return -1;
    uint32_t *uids = malloc((v->snap->n + 1) * sizeof *uids);
    if (!uids)
        return -1;
    for (size_t i = 0; i < v->snap->n; i++)
        uids[i] = v->snap->msgs[i].uid;
    *n = imap_seqset_filter(set, uids, v->snap->n, idx);
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
    size_t *out = malloc((v->snap->n + 1) * sizeof *out);
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
        uids[i] = v->snap->msgs[idx[i]].uid;
    return uids;
}

/* ---- sending what changed ---- */

/* RFC 9051 7.5.2 FETCH FLAGS; UID under QRESYNC (RFC 7162 3.2.4), MODSEQ
 * under CONDSTORE (RFC 7162 3.1.4). */
void imap_buf_flags_line(struct session *s, struct evbuffer *out, size_t msn,
                         const struct mailbox_msg *m, bool with_uid)
{
    if (with_uid || qresync(s))
        evbuffer_add_printf(out, "* %zu FETCH (UID %u FLAGS ", msn, m->uid);
    else
        evbuffer_add_printf(out, "* %zu FETCH (FLAGS ", msn);
    imap_buf_flags(out, m->flags, m->keywords);
    if (imap_condstore(s))
        evbuffer_add_printf(out, " MODSEQ (%llu)", (unsigned long long)m->modseq);
    evbuffer_add(out, ")\r\n", 3);
}

void imap_send_flags_of(struct session *s, size_t msn, const struct mailbox_msg *m,
                        bool with_uid)
{
    struct evbuffer *out = evbuffer_new();
    if (!out)
        return;
    imap_buf_flags_line(s, out, msn, m, with_uid);
    imap_send(s, out);
    evbuffer_free(out);
}

void imap_view_send_flags(struct session *s, size_t i, bool with_uid)
{
    struct imap_view *v = imap_of(s)->view;
    imap_send_flags_of(s, i + 1, &v->snap->msgs[i], with_uid);
}

/* Expunged messages, by index (ascending) into the view: EXPUNGE with
 * descending numbers (each stays valid), or one VANISHED (RFC 7162
 * 3.2.10). The caller removes them from the view after. */
void imap_view_announce_expunged(struct session *s, const size_t *idx, size_t n)
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

/* Removes the messages at idx (ascending) from the view's own copy. */
static void view_remove(struct imap_view *v, const size_t *idx, size_t n)
{
    struct mailbox_snapshot *own = &v->own;
    size_t w = 0, k = 0;
    for (size_t i = 0; i < own->n; i++) {
        if (k < n && idx[k] == i) {
            free(own->msgs[i].keywords);
            if (v->gone[i])
                v->ngone--;
            k++;
            continue;
        }
        own->msgs[w] = own->msgs[i];
        v->gone[w] = v->gone[i];
        w++;
    }
    own->n = w;
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
    /* uids come ascending from the store; keep idx so. Without memory for
     * the private copy they stay in the view and are announced by the
     * next refresh instead (the store no longer has them). */
    if (m && imap_view_own(v) == 0) {
        imap_view_announce_expunged(s, idx, m);
        view_remove(v, idx, m);
    }
    free(idx);
}

bool imap_view_update(struct imap_view *v, const struct mailbox_msg *m, size_t *at)
{
    long i = imap_view_find(v, m->uid);
    if (i < 0 || imap_view_gone(v, (size_t)i) || imap_view_own(v) < 0)
        return false;
    struct mailbox_msg *o = &v->own.msgs[i];
    char *kw = NULL;
    if (m->keywords && *m->keywords)
        kw = strdup(m->keywords);
    free(o->keywords);
    o->keywords = kw;
    o->flags = m->flags;
    o->modseq = m->modseq;
    if (m->modseq > v->own.highest_modseq)
        v->own.highest_modseq = m->modseq;
    *at = (size_t)i;
    return true;
}
