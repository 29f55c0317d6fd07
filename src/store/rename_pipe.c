/* rename_pipe: see rename_pipe.h. Renames travel in chunks of
 * PIPE_CHUNK, so the two threads meet once per chunk and not per file; at
 * most PIPE_QUEUED chunks wait, so a fast producer holds bounded memory. */
#include "store/rename_pipe.h"

#include "core/limits.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPE_CHUNK 64
#define PIPE_QUEUED 8

struct rename_job {
    char from[MAIL_MAX_FILENAME + 8], to[MAIL_MAX_FILENAME + 8];
};

struct chunk {
    struct chunk *next;
    size_t n;
    struct rename_job jobs[PIPE_CHUNK];
};

struct rename_pipe {
    int dirfd;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;       /* a chunk queued, one taken, the end, a failure */
    struct chunk *head, *tail; /* queued, oldest first */
    size_t queued;
    struct chunk *filling; /* the producer's, not yet queued */
    bool done;             /* no more chunks will come */
    int error;             /* errno of the first failure, 0 if none */
};

/* Renames one chunk in order; the errno of the first failure, or 0. */
static int run_chunk(int dirfd, const struct chunk *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (renameat(dirfd, c->jobs[i].from, dirfd, c->jobs[i].to) < 0)
            return errno ? errno : EIO;
    return 0;
}

static struct chunk *take(struct rename_pipe *p)
{
    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->done && !p->error)
        pthread_cond_wait(&p->cond, &p->mu);
    struct chunk *c = p->error ? NULL : p->head;
    if (c) {
        p->head = c->next;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->mu);
    return c;
}

/* The first failure stops the helper and the producer. */
static void fail(struct rename_pipe *p, int err)
{
    pthread_mutex_lock(&p->mu);
    if (!p->error)
        p->error = err;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
}

static void *helper(void *arg)
{
    struct rename_pipe *p = arg;
    struct chunk *c;
    while ((c = take(p)) != NULL) {
        int err = run_chunk(p->dirfd, c);
        free(c);
        if (err)
            fail(p, err);
    }
    return NULL;
}

struct rename_pipe *rename_pipe_start(int dirfd)
{
    struct rename_pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->dirfd = dirfd;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (pthread_create(&p->thread, NULL, helper, p) != 0) {
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cond);
        free(p);
        return NULL;
    }
    return p;
}

/* Hands the filling chunk over, waiting while PIPE_QUEUED are queued.
 * -1 once a rename failed. */
static int queue_filling(struct rename_pipe *p)
{
    struct chunk *c = p->filling;
    p->filling = NULL;
    pthread_mutex_lock(&p->mu);
    while (p->queued >= PIPE_QUEUED && !p->error)
        pthread_cond_wait(&p->cond, &p->mu);
    int rc = p->error ? -1 : 0;
    if (rc == 0) {
        if (p->tail)
            p->tail->next = c;
        else
            p->head = c;
        p->tail = c;
        p->queued++;
        pthread_cond_broadcast(&p->cond);
    }
    pthread_mutex_unlock(&p->mu);
    if (rc < 0)
        free(c);
    return rc;
}

int rename_pipe_add(struct rename_pipe *p, const char *from, const char *to)
{
    if (!p->filling) {
        p->filling = malloc(sizeof *p->filling);
        if (!p->filling) {
            fail(p, ENOMEM);
            return -1;
        }
        p->filling->next = NULL;
        p->filling->n = 0;
    }
    struct rename_job *j = &p->filling->jobs[p->filling->n++];
    snprintf(j->from, sizeof j->from, "%s", from);
    snprintf(j->to, sizeof j->to, "%s", to);
    if (p->filling->n < PIPE_CHUNK)
        return 0;
    return queue_filling(p);
}

int rename_pipe_finish(struct rename_pipe *p)
{
    if (p->filling && p->filling->n)
        queue_filling(p);
    free(p->filling);
    pthread_mutex_lock(&p->mu);
    p->done = true;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    /* After a failure the helper left the rest of the queue. */
    while (p->head) {
        struct chunk *c = p->head;
        p->head = c->next;
        free(c);
    }
    int err = p->error;
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    free(p);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}
