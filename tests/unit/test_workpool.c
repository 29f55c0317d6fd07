/* Unit tests of core/workpool.c: jobs run off the loop thread and their
 * completions run on the loop, in the loop's thread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>

#include "core/workpool.h"

#define JOBS 200

static pthread_t loop_thread;
static atomic_int worked, off_loop;
static int done_on_loop, done_count;

static void work(void *arg)
{
    if (!pthread_equal(pthread_self(), loop_thread))
        atomic_fetch_add(&off_loop, 1);
    atomic_fetch_add(&worked, 1);
}

static void done(void *arg)
{
    if (pthread_equal(pthread_self(), loop_thread))
        done_on_loop++;
    done_count++;
    if (done_count == JOBS)
        event_base_loopexit(arg, NULL);
}

static void jobs_complete_on_loop(void **state)
{
    evthread_use_pthreads();
    struct event_base *base = event_base_new();
    struct workpool *pool = workpool_new(3);
    assert_non_null(pool);
    loop_thread = pthread_self();
    for (int i = 0; i < JOBS; i++)
        assert_int_equal(workpool_submit(pool, base, work, done, base), 0);
    struct timeval limit = {20, 0};
    event_base_loopexit(base, &limit);
    event_base_loop(base, EVLOOP_NO_EXIT_ON_EMPTY);
    assert_int_equal(done_count, JOBS);
    assert_int_equal(done_on_loop, JOBS);
    assert_int_equal(atomic_load(&off_loop), JOBS);
    workpool_free(pool);
    event_base_free(base);
    workpool_free(NULL);
}

/* Three jobs that can only finish together: the pool, which starts with one
 * thread, must grow to three (else this test hangs until meson's timeout). */
static pthread_barrier_t all_three;
static atomic_int met;

static void meet(void *arg)
{
    pthread_barrier_wait(&all_three);
    atomic_fetch_add(&met, 1);
}

static void grows_on_demand(void **state)
{
    pthread_barrier_init(&all_three, NULL, 3);
    struct workpool *pool = workpool_new(3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(workpool_submit(pool, NULL, meet, NULL, NULL), 0);
    workpool_free(pool); /* runs the queued jobs, then joins */
    assert_int_equal(atomic_load(&met), 3);
    pthread_barrier_destroy(&all_three);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(jobs_complete_on_loop),
                                       cmocka_unit_test(grows_on_demand)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
