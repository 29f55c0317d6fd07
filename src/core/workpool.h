/* workpool: a fixed set of threads for blocking jobs (password hashing, fsync,
 * directory scans). A job's completion runs on the loop that submitted it. */
#pragma once
#include <stddef.h>

struct workpool;
struct event_base;

/* Runs on a pool thread; must not touch loop-owned state. */
typedef void (*work_fn)(void *arg);
/* Runs on the submitting loop's thread after work_fn returned. */
typedef void (*done_fn)(void *arg);

/* Up to max_threads threads; one starts now, more as queued jobs find no
 * idle thread. */
struct workpool *workpool_new(int max_threads);
/* Stops the threads after the queued jobs ran (idempotent). Completions
 * already handed to loops stay pending there. */
void workpool_stop(struct workpool *pool);
/* Stops (workpool_stop) and frees the pool, and every job whose completion
 * never ran (its loop stopped first): call it once the loops' bases are
 * freed, so that none of those completions can still fire.
 * workpool_free(NULL) is a no-op. */
void workpool_free(struct workpool *pool);

/* Queues a job. `base` is the loop that gets `done` (NULL: no completion).
 * Returns 0, or -1 if the pool is stopping. */
int workpool_submit(struct workpool *pool, struct event_base *base, work_fn work,
                    done_fn done, void *arg);
/* Threads started, threads waiting for a job, jobs waiting for a thread
 * (for the metrics; takes the pool's lock briefly). */
void workpool_stats(struct workpool *pool, int *threads, int *idle, int *queued);
