/* workpool: a mutex/condvar queue feeding up to N threads. Threads start as
 * jobs need them (a job queued while none is idle starts one), so an idle
 * server holds only the first. A finished job is handed back to its loop
 * with event_base_once(), which libevent makes thread-safe once
 * evthread_use_pthreads() ran (serve does that first). */
#include "core/workpool.h"

#include "core/log.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct job {
    struct job *next;
    struct event_base *base;
    work_fn work;
    done_fn done;
    void *arg;
    struct workpool *pool;
    struct job *post_prev, *post_next; /* while its completion is posted */
};

struct workpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;
    struct job *posted; /* completions handed to loops and not yet run */
    bool stopping, joined;
    int nthreads, max_threads;
    int idle;    /* threads waiting for a job */
    int waiting; /* jobs queued and not yet taken */
    pthread_t threads[];
};

static void posted_unlink(struct workpool *pool, struct job *job)
{
    if (job->post_prev)
        job->post_prev->post_next = job->post_next;
    else
        pool->posted = job->post_next;
    if (job->post_next)
        job->post_next->post_prev = job->post_prev;
}

static void job_complete(evutil_socket_t fd, short what, void *p)
{
    struct job *job = p;
    pthread_mutex_lock(&job->pool->mu);
    posted_unlink(job->pool, job);
    pthread_mutex_unlock(&job->pool->mu);
    job->done(job->arg);
    free(job);
}

/* Hands the finished job to its loop; kept on the posted list until it
 * ran, so that one whose loop stopped first is freed by workpool_free. */
static void post(struct workpool *pool, struct job *job)
{
    static const struct timeval now = {0, 0};
    pthread_mutex_lock(&pool->mu);
    job->post_prev = NULL;
    job->post_next = pool->posted;
    if (pool->posted)
        pool->posted->post_prev = job;
    pool->posted = job;
    pthread_mutex_unlock(&pool->mu);
    if (event_base_once(job->base, -1, EV_TIMEOUT, job_complete, job, &now) < 0) {
        pthread_mutex_lock(&pool->mu);
        posted_unlink(pool, job);
        pthread_mutex_unlock(&pool->mu);
        free(job);
    }
}

static struct job *next_job(struct workpool *pool)
{
    pthread_mutex_lock(&pool->mu);
    pool->idle++;
    while (!pool->head && !pool->stopping)
        pthread_cond_wait(&pool->cv, &pool->mu);
    pool->idle--;
    struct job *job = pool->head;
    if (job) {
        pool->head = job->next;
        pool->waiting--;
        if (!pool->head)
            pool->tail = NULL;
    }
    pthread_mutex_unlock(&pool->mu);
    return job;
}

static void *worker(void *p)
{
    struct workpool *pool = p;
    struct job *job;
    while ((job = next_job(pool)) != NULL) {
        job->work(job->arg);
        if (!job->done || !job->base)
            free(job);
        else
            post(pool, job);
    }
    return NULL;
}

/* Called with the lock held. */
static int start_thread(struct workpool *pool)
{
    if (pthread_create(&pool->threads[pool->nthreads], NULL, worker, pool) != 0) {
        log_error(0, "core workpool thread_start_failed threads=%d", pool->nthreads);
        return -1;
    }
    pool->nthreads++;
    return 0;
}

struct workpool *workpool_new(int max_threads)
{
    if (max_threads < 1)
        max_threads = 1;
    struct workpool *pool =
        calloc(1, sizeof *pool + (size_t)max_threads * sizeof(pthread_t));
    if (!pool)
        return NULL;
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->cv, NULL);
    pool->max_threads = max_threads;
    pthread_mutex_lock(&pool->mu);
    int rc = start_thread(pool);
    pthread_mutex_unlock(&pool->mu);
    if (rc < 0) {
        workpool_free(pool);
        return NULL;
    }
    return pool;
}

void workpool_stop(struct workpool *pool)
{
    if (!pool || pool->joined)
        return;
    pthread_mutex_lock(&pool->mu);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    for (int i = 0; i < pool->nthreads; i++)
        pthread_join(pool->threads[i], NULL);
    pool->joined = true;
}

void workpool_free(struct workpool *pool)
{
    if (!pool)
        return;
    workpool_stop(pool);
    while (pool->posted) { /* their loops stopped before running them */
        struct job *job = pool->posted;
        pool->posted = job->post_next;
        free(job);
    }
    pthread_mutex_destroy(&pool->mu);
    pthread_cond_destroy(&pool->cv);
    free(pool);
}

int workpool_submit(struct workpool *pool, struct event_base *base, work_fn work,
                    done_fn done, void *arg)
{
    struct job *job = calloc(1, sizeof *job);
    if (!job)
        return -1;
    *job = (struct job){NULL, base, work, done, arg, pool, NULL, NULL};
    pthread_mutex_lock(&pool->mu);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->mu);
        free(job);
        return -1;
    }
    if (pool->tail)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
    /* Every idle thread has a job already: one more thread, up to the max
     * (a failure to start one only means this job waits its turn). */
    if (++pool->waiting > pool->idle && pool->nthreads < pool->max_threads)
        start_thread(pool);
    pthread_cond_signal(&pool->cv);
    pthread_mutex_unlock(&pool->mu);
    return 0;
}

void workpool_stats(struct workpool *pool, int *threads, int *idle, int *queued)
{
    pthread_mutex_lock(&pool->mu);
    *threads = pool->nthreads;
    *idle = pool->idle;
    *queued = pool->waiting;
    pthread_mutex_unlock(&pool->mu);
}
