/* imap view_fill: the internal dates and sizes of view messages that the
 * store has not learned yet (files found without S=/W= in their names
 * and not stat'd: a cold SELECT touches no message file, store/
 * index_fill.c). FETCH INTERNALDATE / RFC822.SIZE / bodies, SEARCH
 * BEFORE/ON/SINCE, the SENT keys, LARGER/SMALLER, SORT ARRIVAL/DATE/SIZE
 * and THREAD's date fallback ask here, on the pool, once per command or
 * batch; the store learns them in one transaction and keeps them. */
#include "imap/imap.h"

#include <stdlib.h>

#include "imap/keys.h"

struct view_fill {
    size_t n;
    struct mail_known *out; /* in UID order */
};

static size_t index_at(const size_t *idx, size_t k)
{
    if (idx)
        return idx[k];
    return k;
}

/* The entry of uid (binary search: the store may report a UID twice). */
static void on_known(void *arg, const struct mail_known *k)
{
    struct view_fill *f = arg;
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->out[mid].uid < k->uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < f->n && f->out[lo].uid == k->uid)
        f->out[lo] = *k;
}

/* Whether entry k is asked for and lacks something need asks. */
static bool wanted(const struct mailbox_msg *m, unsigned need, const bool *want, size_t k)
{
    if (want && !want[k])
        return false;
    return mailbox_unknown(m, need) != 0;
}

struct mail_known *imap_view_fill(const struct imap_view *v, const size_t *idx, size_t n,
                                  unsigned need, const bool *want)
{
    const struct mailbox_msg *msgs = v->snap->msgs;
    size_t unknown = 0;
    for (size_t k = 0; k < n; k++)
        if (wanted(&msgs[index_at(idx, k)], need, want, k))
            unknown++;
    if (unknown == 0)
        return NULL;
    struct mail_known *out = calloc(n + 1, sizeof *out);
    uint32_t *uids = malloc((unknown + 1) * sizeof *uids);
    if (!out || !uids) {
        free(out);
        free(uids);
        return NULL;
    }
    size_t u = 0;
    for (size_t k = 0; k < n; k++) {
        const struct mailbox_msg *m = &msgs[index_at(idx, k)];
        out[k] = (struct mail_known){m->uid, m->internaldate, m->size, m->vsize};
        if (wanted(m, need, want, k))
            uids[u++] = m->uid;
    }
    struct view_fill f = {n, out};
    int rc = mailbox_fill(v->mb, uids, u, need, on_known, &f);
    free(uids);
    if (rc < 0) {
        free(out);
        return NULL;
    }
    return out;
}

const struct mailbox_msg *imap_msg_known(const struct mailbox_msg *m,
                                         const struct mail_known *k,
                                         struct mailbox_msg *tmp)
{
    if (!k || (k->internaldate == m->internaldate && k->size == m->size &&
               k->vsize == m->vsize))
        return m;
    *tmp = *m;
    tmp->internaldate = k->internaldate;
    tmp->size = k->size;
    tmp->vsize = k->vsize;
    return tmp;
}

struct mail_known *imap_view_fill_undated(const struct imap_view *v, const size_t *idx,
                                          size_t n, const struct msg_keys *keys)
{
    bool *undated = calloc(n + 1, sizeof *undated);
    if (!undated)
        return NULL;
    for (size_t i = 0; i < n; i++)
        undated[i] = keys[i].sent_date == 0;
    struct mail_known *k = imap_view_fill(v, idx, n, MAIL_NEED_DATE, undated);
    free(undated);
    return k;
}
