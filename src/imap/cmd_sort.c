/* cmd_sort: SORT and UID SORT (RFC 5256 3, every key and REVERSE; RFC
 * 5957 DISPLAYFROM/DISPLAYTO) with ESORT's RETURN (RFC 5267 3.2): the
 * program runs on the pool (search.h), the keys come from the cached
 * summaries (keys.h) and sort.c orders them; no message is re-read. */
#include "imap/imap.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "imap/keys.h"
#include "imap/parse.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "imap/sort.h"

struct sort_cmd {
    struct search_job job; /* first: the command is its job */
    struct imap_sort crit;
    uint32_t *out; /* the result, in order */
    int rc;
};

static void sort_cmd_free(struct search_job *j)
{
    struct sort_cmd *c = (struct sort_cmd *)j;
    search_job_release(j);
    free(c->out);
    free(c);
}

/* Whether the criteria need the summary (all but ARRIVAL and SIZE). */
static bool needs_keys(const struct imap_sort *crit)
{
    for (size_t i = 0; i < crit->n; i++)
        if (crit->keys[i].key != IMAP_SORT_ARRIVAL && crit->keys[i].key != IMAP_SORT_SIZE)
            return true;
    return false;
}

/* What the criteria need of every match that a sync may not have
 * learned: ARRIVAL the internal date, SIZE the RFC822.SIZE. */
static unsigned needs_known(const struct imap_sort *crit)
{
    unsigned need = 0;
    for (size_t i = 0; i < crit->n; i++) {
        if (crit->keys[i].key == IMAP_SORT_ARRIVAL)
            need |= MAIL_NEED_DATE;
        if (crit->keys[i].key == IMAP_SORT_SIZE)
            need |= MAIL_NEED_VSIZE;
    }
    return need;
}

static bool sorts_by_date(const struct imap_sort *crit)
{
    for (size_t i = 0; i < crit->n; i++)
        if (crit->keys[i].key == IMAP_SORT_DATE)
            return true;
    return false;
}

/* The figures the sort needs: needs_known's of every match; for DATE,
 * the internal dates of the matches without a Date: (RFC 5256 2.2), or
 * of every match when the others are read anyway. NULL when the
 * snapshot's do. */
static struct mail_known *sort_known(struct sort_cmd *c, const struct msg_keys *keys,
                                     size_t n)
{
    const struct imap_view *v = c->job.run.view;
    unsigned need = needs_known(&c->crit);
    if (need && sorts_by_date(&c->crit))
        need |= MAIL_NEED_DATE;
    if (need)
        return imap_view_fill(v, c->job.run.match, n, need, NULL);
    if (sorts_by_date(&c->crit))
        return imap_view_fill_undated(v, c->job.run.match, n, keys);
    return NULL;
}

static void fill_item(struct sort_item *it, const struct mailbox_msg *m, size_t idx,
                      const struct msg_keys *k)
{
    it->seq = (uint32_t)idx + 1;
    it->uid = m->uid;
    it->arrival = m->internaldate;
    it->size = m->vsize;
    it->date = k->sent_date;
    it->subject = k->subject;
    it->from = k->from;
    it->to = k->to;
    it->cc = k->cc;
    it->display_from = k->display_from;
    it->display_to = k->display_to;
}

static int sort_matches(struct sort_cmd *c)
{
    size_t n = c->job.run.n;
    struct sort_item *items = calloc(n + 1, sizeof *items);
    struct msg_keys *keys = calloc(n + 1, sizeof *keys);
    c->out = malloc((n + 1) * sizeof *c->out);
    int rc = 0;
    if (!items || !keys || !c->out)
        rc = -1;
    const struct mailbox_msg *msgs = c->job.run.view->snap->msgs;
    struct msg_keys empty = {0, false, "", "", "", "", "", "", "", "", "", NULL};
    for (size_t i = 0; rc == 0 && i < n; i++)
        keys[i] = empty;
    if (rc == 0 && needs_keys(&c->crit))
        rc = msg_keys_load_all(c->job.run.view->mb, msgs, c->job.run.match, n, keys);
    struct mail_known *known = NULL;
    if (rc == 0)
        known = sort_known(c, keys, n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct mailbox_msg tmp;
        const struct mailbox_msg *m = &msgs[c->job.run.match[i]];
        if (known)
            m = imap_msg_known(m, &known[i], &tmp);
        fill_item(&items[i], m, c->job.run.match[i], &keys[i]);
    }
    free(known);
    if (rc == 0) {
        struct sort_criterion crit[SORT_MAX_CRITERIA];
        size_t nc = c->crit.n < SORT_MAX_CRITERIA ? c->crit.n : SORT_MAX_CRITERIA;
        for (size_t i = 0; i < nc; i++) {
            crit[i].key = (enum sort_key)c->crit.keys[i].key;
            crit[i].reverse = c->crit.keys[i].reverse;
        }
        sort_items(items, n, crit, nc);
        for (size_t i = 0; i < n; i++)
            c->out[i] = items[i].seq;
        for (size_t i = 0; c->job.uid && i < n; i++)
            c->out[i] = items[i].uid;
    }
    for (size_t i = 0; keys && i < n; i++)
        msg_keys_free(&keys[i]);
    free(keys);
    free(items);
    mailbox_summary_flush(c->job.run.view->mb);
    return rc;
}

static void sort_work(void *arg)
{
    struct sort_cmd *c = arg;
    search_run(&c->job.run);
    c->rc = c->job.run.rc;
    if (c->rc == 0)
        c->rc = sort_matches(c);
}

/* RFC 5256 4: "* SORT n n n", with (MODSEQ m) for a MODSEQ key (RFC 7162
 * 3.1.5). */
static void reply_sort(struct session *s, struct sort_cmd *c)
{
    struct evbuffer *o = evbuffer_new();
    if (!o)
        return;
    evbuffer_add(o, "* SORT", 6);
    for (size_t i = 0; i < c->job.run.n; i++)
        evbuffer_add_printf(o, " %u", c->out[i]);
    if (c->job.run.prog->modseq && c->job.run.n)
        evbuffer_add_printf(o, " (MODSEQ %llu)", (unsigned long long)c->job.run.modseq);
    evbuffer_add(o, "\r\n", 2);
    imap_send(s, o);
    evbuffer_free(o);
}

static void sort_done(struct session *s, void *arg)
{
    struct sort_cmd *c = arg;
    if (!s) {
        sort_cmd_free(&c->job);
        return;
    }
    if (c->rc < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] sort failed");
        sort_cmd_free(&c->job);
        return;
    }
    struct imap_search *prog = c->job.run.prog;
    unsigned ret = prog->ret & ~(unsigned)IMAP_SEARCH_RET_SAVE;
    if (prog->ret & IMAP_SEARCH_RET_SAVE)
        imap_search_save(s, c->job.run.view, c->job.run.match, c->job.run.n);
    if (!prog->esearch) {
        reply_sort(s, c);
    } else if (ret) {
        uint64_t modseq = 0;
        if (prog->modseq)
            modseq = c->job.run.modseq;
        imap_reply_esearch(s, c->job.uid, ret, c->out, c->job.run.n, modseq);
    }
    bool uid = c->job.uid;
    sort_cmd_free(&c->job);
    if (uid)
        imap_done(s, IMAP_REFRESH_NO_EXPUNGE, "OK", "UID SORT completed");
    else
        imap_done(s, IMAP_REFRESH_NO_EXPUNGE, "OK", "SORT completed");
}

static int sort_parse(struct search_job *j)
{
    struct sort_cmd *c = (struct sort_cmd *)j;
    return imap_sort_parse(j->p, &c->crit, &j->run.prog);
}

static void sort_start(struct session *s, char *args, bool uid)
{
    struct sort_cmd *c = calloc(1, sizeof *c);
    if (!c) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return;
    }
    search_job_start(s, &c->job, args, uid, sort_parse, sort_work, sort_done,
                     sort_cmd_free);
}

void imap_cmd_sort(struct session *s, char *args)
{
    sort_start(s, args, false);
}

void imap_cmd_uid_sort(struct session *s, char *args)
{
    sort_start(s, args, true);
}
