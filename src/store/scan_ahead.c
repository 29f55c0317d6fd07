/* scan_ahead: a folder's directory scan on a helper thread, started by
 * mailbox_open when the account has no index.db yet, so that the scan
 * (10,000 names read and sorted: a fifth of a cold SELECT) and the new
 * index's creation (its tables, its fsyncs) happen at the same time. Only
 * a folder's first sync uses it (store/index.c): there a scan made before
 * the sync's transaction is as good as one made inside it, because the
 * index holds no row of the folder to compare it with. The sync takes the
 * directory stamps again inside its transaction: if they moved since the
 * ones taken before this scan (a file came or went), the scan is dropped
 * and made again there. */
#include "store/scan_ahead.h"

#include <pthread.h>
#include <stdlib.h>

struct scan_ahead {
    pthread_t thread;
    int folderfd;
    struct index_stamps stamps; /* taken before the scan */
    struct maildir_list list;
    long n; /* maildir_scan's result */
};

static void *scan_main(void *arg)
{
    struct scan_ahead *s = arg;
    index_stamps_take(s->folderfd, &s->stamps);
    s->n = maildir_scan(s->folderfd, &s->list);
    return NULL;
}

struct scan_ahead *scan_ahead_start(int folderfd)
{
    struct scan_ahead *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->folderfd = folderfd;
    if (pthread_create(&s->thread, NULL, scan_main, s) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

long scan_ahead_take(struct scan_ahead *s, struct maildir_list *out,
                     struct index_stamps *stamps)
{
    pthread_join(s->thread, NULL);
    *out = s->list;
    *stamps = s->stamps;
    long n = s->n;
    free(s);
    return n;
}

void scan_ahead_free(struct scan_ahead *s)
{
    if (!s)
        return;
    struct maildir_list l;
    struct index_stamps st;
    scan_ahead_take(s, &l, &st);
    maildir_list_free(&l);
}
