/* imap view_vsize: RFC822.SIZE of view messages whose size the store has
 * not counted yet (files found without W= in their names: a cold SELECT
 * opens no file, store/index_vsize.c). SEARCH LARGER/SMALLER, SORT SIZE
 * and FETCH without a summary ask here, on the pool, once per command or
 * batch; the store counts them in one transaction and keeps the result. */
#include "imap/imap.h"

#include <stdlib.h>

struct vsize_fill {
    const struct mailbox_msg *msgs;
    const size_t *idx;
    size_t n, at;
    uint64_t *out;
};

static size_t index_at(const struct vsize_fill *f, size_t k)
{
    if (f->idx)
        return f->idx[k];
    return k;
}

static void on_vsize(void *arg, uint32_t uid, uint64_t vsize)
{
    struct vsize_fill *f = arg;
    while (f->at < f->n && f->msgs[index_at(f, f->at)].uid < uid)
        f->at++;
    if (f->at < f->n && f->msgs[index_at(f, f->at)].uid == uid)
        f->out[f->at] = vsize;
}

uint64_t *imap_view_vsizes(const struct imap_view *v, const size_t *idx, size_t n)
{
    const struct mailbox_msg *msgs = v->snap->msgs;
    struct vsize_fill f = {msgs, idx, n, 0, NULL};
    size_t lo = n, hi = 0;
    for (size_t k = 0; k < n; k++) {
        if (!mailbox_vsize_unknown(&msgs[index_at(&f, k)]))
            continue;
        if (lo == n)
            lo = k;
        hi = k;
    }
    if (lo == n)
        return NULL;
    f.out = calloc(n + 1, sizeof *f.out);
    if (!f.out)
        return NULL;
    for (size_t k = 0; k < n; k++)
        f.out[k] = msgs[index_at(&f, k)].vsize;
    f.at = lo;
    uint32_t ulo = msgs[index_at(&f, lo)].uid, uhi = msgs[index_at(&f, hi)].uid;
    if (mailbox_vsizes(v->mb, ulo, uhi, on_vsize, &f) < 0) {
        free(f.out);
        return NULL;
    }
    return f.out;
}

const struct mailbox_msg *imap_msg_with_vsize(const struct mailbox_msg *m, uint64_t vsize,
                                              struct mailbox_msg *tmp)
{
    if (!mailbox_vsize_unknown(m) || vsize == 0)
        return m;
    *tmp = *m;
    tmp->vsize = vsize;
    return tmp;
}
