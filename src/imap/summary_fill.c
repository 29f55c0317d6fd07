/* summary_fill: missing summaries computed by two threads taking items
 * from one counter (see summary_fill.h). The caller never waits for a
 * helper that has not started: it does whatever is left itself, and waits
 * only for the item the helper is working on; a helper that starts late
 * finds nothing to do. The shared state is reference counted, so a late
 * helper never touches the caller's arrays or freed memory. */
#include "imap/summary_fill.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/workpool.h"
#include "mime/summary.h"
#include "store/mailbox.h"

/* Below this many missing summaries one thread does them. */
#define FILL_PARALLEL_MIN 8

struct fill {
    struct mailbox *mb;
    const uint32_t *uids;
    char **texts;
    size_t *todo; /* positions of the missing ones */
    size_t n;
    atomic_size_t next;
    atomic_int refs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned busy; /* items the helper is computing */
    bool closed;   /* the caller is done: take nothing more */
};

static char *compute(struct mailbox *mb, uint32_t uid)
{
    int fd = mailbox_message_open(mb, uid);
    if (fd < 0)
        return NULL;
    struct mime_summary *s = mime_summary_fd(fd);
    char *text = NULL;
    if (s)
        text = mime_summary_serialise(s);
    if (text) /* with the date and sizes the store may lack: fd tells */
        mailbox_summary_put_file(mb, uid, text, mime_summary_vsize(s), fd);
    close(fd);
    mime_summary_free(s);
    return text;
}

static void fill_unref(struct fill *f)
{
    if (atomic_fetch_sub(&f->refs, 1) != 1)
        return;
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->todo);
    free(f);
}

/* Takes the next item, unless the caller has closed the job. */
static bool take(struct fill *f, bool helper, size_t *pos)
{
    pthread_mutex_lock(&f->mu);
    size_t k = f->closed ? f->n : atomic_fetch_add(&f->next, 1);
    bool ok = k < f->n;
    if (ok && helper)
        f->busy++;
    pthread_mutex_unlock(&f->mu);
    if (ok)
        *pos = f->todo[k];
    return ok;
}

static void helper(void *arg)
{
    struct fill *f = arg;
    size_t pos;
    while (take(f, true, &pos)) {
        f->texts[pos] = compute(f->mb, f->uids[pos]);
        pthread_mutex_lock(&f->mu);
        f->busy--;
        pthread_cond_signal(&f->cv);
        pthread_mutex_unlock(&f->mu);
    }
    fill_unref(f);
}

static void fill_serial(struct mailbox *mb, const uint32_t *uids, char **texts, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!texts[i])
            texts[i] = compute(mb, uids[i]);
}

void summary_fill(struct mailbox *mb, const uint32_t *uids, char **texts, size_t n)
{
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += texts[i] == NULL;
    struct fill *f = NULL;
    if (missing >= FILL_PARALLEL_MIN && runtime)
        f = calloc(1, sizeof *f);
    if (f)
        f->todo = malloc(missing * sizeof *f->todo);
    if (!f || !f->todo) {
        if (f)
            free(f);
        fill_serial(mb, uids, texts, n);
        return;
    }
    *f = (struct fill){mb,
                       uids,
                       texts,
                       f->todo,
                       0,
                       0,
                       2,
                       PTHREAD_MUTEX_INITIALIZER,
                       PTHREAD_COND_INITIALIZER,
                       0,
                       false};
    for (size_t i = 0; i < n; i++)
        if (!texts[i])
            f->todo[f->n++] = i;
    if (workpool_submit(runtime->pool, NULL, helper, NULL, f) < 0)
        atomic_fetch_sub(&f->refs, 1); /* no helper: this thread does it all */
    size_t pos;
    while (take(f, false, &pos))
        texts[pos] = compute(mb, uids[pos]);
    pthread_mutex_lock(&f->mu);
    f->closed = true;
    while (f->busy > 0)
        pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
    fill_unref(f);
}
