/* commit: leader/follower group commit (the technique databases use for
 * their log). Each pool thread that needs its unit made durable calls
 * commit_group_join(); whoever finds no flush running becomes the leader,
 * takes every unit queued so far (its own included) and flushes them in one
 * go, while the others sleep until a leader has flushed theirs. One fsync
 * of a directory then covers every rename made in it by the batch, and one
 * index transaction every row, however many sessions delivered at once.
 * Blocking: pool threads only. Used by store/ (deliveries) and by
 * queue/sync.c (the fsyncs of queue/), nothing else. */
#pragma once
#include <pthread.h>
#include <stdbool.h>

struct commit_unit {
    struct commit_unit *next;
    void *item; /* the caller's; flush reads it and sets rc */
    int rc;
    bool done;
};

/* Flushes a batch (a list through ->next); sets each unit's rc. */
typedef void (*commit_flush_fn)(struct commit_unit *batch);

struct commit_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct commit_unit *head, *tail;
    bool flushing;
    commit_flush_fn flush;
};

#define COMMIT_GROUP_INIT(fn)                                                            \
    {                                                                                    \
        PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, false, fn       \
    }

/* Queues u and returns once a flush that included it has finished; u->rc
 * then holds its result. */
void commit_group_join(struct commit_group *g, struct commit_unit *u);
