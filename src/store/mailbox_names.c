/* mailbox_names: the file names of a run of UIDs, read in one index query
 * for a batch that opens its messages one by one (a FETCH of bodies or of
 * summaries not cached yet). Looking each name up by its UID was a sixth
 * of the first ENVELOPE fetch of 10,000 messages (docs/PERFORMANCE.md
 * "imapbatch"). The names are a hint, never the truth: a name that is
 * gone (the file re-flagged since) sends the open back to the lookup by
 * UID, and a UID the run lacks is looked up as before. */
#include "store/mailbox_internal.h"

#include "store/index_internal.h"
#include "store/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

struct name {
    uint32_t uid;
    char path[MAIL_MAX_FILENAME + 8]; /* "cur/<base>:2,<flags>" */
};

struct mb_names {
    uint32_t lo, hi;
    bool read; /* the query ran (at the first open of the run) */
    size_t n, cap;
    struct name *v; /* by UID */
};

void mailbox_expect_opens(struct mailbox *mb, uint32_t lo, uint32_t hi)
{
    pthread_mutex_lock(&mb->mu);
    mb_names_drop(mb);
    if (lo <= hi && hi - lo < MAILBOX_NAMES_MAX)
        mb->names = calloc(1, sizeof *mb->names);
    if (mb->names) {
        mb->names->lo = lo;
        mb->names->hi = hi;
    }
    pthread_mutex_unlock(&mb->mu);
}

void mb_names_drop(struct mailbox *mb)
{
    if (!mb->names)
        return;
    free(mb->names->v);
    free(mb->names);
    mb->names = NULL;
}

static int add_name(void *arg, const struct index_row *r)
{
    struct mb_names *w = arg;
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        struct name *v = realloc(w->v, cap * sizeof *v);
        if (!v)
            return -1;
        w->v = v;
        w->cap = cap;
    }
    struct name *nm = &w->v[w->n];
    if (maildir_entry_path(&r->e, nm->path, sizeof nm->path) == 0) {
        nm->uid = r->uid;
        w->n++;
    }
    return 0;
}

static const struct name *find(const struct mb_names *w, uint32_t uid)
{
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->v[mid].uid < uid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->n && w->v[lo].uid == uid ? &w->v[lo] : NULL;
}

const char *mb_names_path(struct mailbox *mb, struct mail_index *idx, uint32_t uid)
{
    struct mb_names *w = mb->names;
    if (!w || uid < w->lo || uid > w->hi)
        return NULL;
    if (!w->read) {
        w->read = true;
        if (index_list_range(idx, mb->name, w->lo, w->hi, add_name, w) < 0)
            w->n = 0; /* every open looks its name up, as without a run */
    }
    const struct name *nm = find(w, uid);
    return nm ? nm->path : NULL;
}

int mb_names_open(struct mailbox *mb, struct mail_index *idx, uint32_t uid)
{
    const char *path = mb_names_path(mb, idx, uid);
    if (!path)
        return MB_NAMES_UNKNOWN;
    int fd = openat(mb->folderfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        mb_names_drop(mb); /* stale: the run was read before a rename */
        return MB_NAMES_UNKNOWN;
    }
    return fd;
}
