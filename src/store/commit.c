/* commit: the queue and the leader hand-over of a group commit. The leader
 * flushes outside the lock, so units keep queueing during a flush and form
 * the next batch; when it is done it wakes everyone, and a waiter whose
 * unit is still queued becomes the next leader. */
#include "store/commit.h"

#include <stddef.h>

void commit_group_join(struct commit_group *g, struct commit_unit *u)
{
    u->next = NULL;
    u->done = false;
    pthread_mutex_lock(&g->mu);
    if (g->tail)
        g->tail->next = u;
    else
        g->head = u;
    g->tail = u;
    while (!u->done) {
        if (g->flushing) {
            pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        struct commit_unit *batch = g->head;
        g->head = g->tail = NULL;
        g->flushing = true;
        pthread_mutex_unlock(&g->mu);
        g->flush(batch);
        pthread_mutex_lock(&g->mu);
        for (struct commit_unit *b = batch, *next; b; b = next) {
            next = b->next; /* b belongs to its waiter once done is set */
            b->done = true;
        }
        g->flushing = false;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
}
