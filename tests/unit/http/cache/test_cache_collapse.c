/* Unit tests of http/cache/collapse.c: one origin fetch for concurrent
 * misses of a key, safe with Vary (a waiter whose request does not match
 * the stored variant fetches by itself) and with uncacheable answers. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <pthread.h>
#include <stdatomic.h>

#include "fields_util.h"
#include "http/cache/collapse.h"
#include "http/cache/store.h"

/* A client of the proxy, reduced to what collapsing decides for it. */
struct client {
    const char *accept_encoding;
    int called;
    enum cache_collapse_outcome outcome;
    bool fetched_itself, served_from_cache;
};

static struct cache_store *store;

static struct http_str the_key(void)
{
    static char k[128];
    int n = cache_key("GET", S("http://a.example/c"), k, sizeof k);
    return (struct http_str){k, (size_t)n};
}

/* What the proxy does with the news: look up again, else fetch alone. */
static void on_done(void *arg, enum cache_collapse_outcome outcome)
{
    struct client *c = arg;
    c->called++;
    c->outcome = outcome;
    if (outcome == CACHE_COLLAPSE_FETCH) {
        c->fetched_itself = true;
        return;
    }
    struct http_header h = {S("Accept-Encoding"), S(c->accept_encoding)};
    struct cache_entry *e = cache_store_lookup(store, the_key(), &h, 1);
    c->served_from_cache = e != NULL;
    c->fetched_itself = e == NULL;
    cache_entry_release(e);
}

static void commit_variant(const char *ae, const char *body)
{
    struct hdrs h;
    hdrs_set(&h, "Cache-Control: max-age=60\nVary: Accept-Encoding\n");
    struct http_header rq = {S("Accept-Encoding"), S(ae)};
    struct cache_response r = {200, h.h, h.n, T0, T0};
    struct cache_insert *ins = cache_store_begin(store, the_key(), &rq, 1, &r);
    cache_insert_append(ins, body, strlen(body));
    cache_entry_release(cache_insert_commit(ins));
}

static int setup(void **state)
{
    struct cache_store_config cfg = {NULL, 1 << 20, 0, 1 << 20};
    store = cache_store_new(&cfg);
    return store ? 0 : -1;
}

static int teardown(void **state)
{
    cache_store_free(store);
    return 0;
}

static void collapse_one_leader_many_waiters(void **state)
{
    struct cache_collapse *c = cache_collapse_new(100);
    struct client leader = {.accept_encoding = "gzip"},
                  w[3] = {{.accept_encoding = "gzip"},
                          {.accept_encoding = "gzip"},
                          {.accept_encoding = "gzip"}};
    struct cache_waiter *wt;
    assert_int_equal(cache_collapse_join(c, the_key(), on_done, &leader, &wt),
                     CACHE_COLLAPSE_LEADER);
    for (int i = 0; i < 3; i++)
        assert_int_equal(cache_collapse_join(c, the_key(), on_done, &w[i], &wt),
                         CACHE_COLLAPSE_WAITER);
    /* Another key is independent. */
    assert_int_equal(
        cache_collapse_join(c, S("GET http://a.example/other"), on_done, &leader, &wt),
        CACHE_COLLAPSE_LEADER);
    assert_int_equal(cache_collapse_inflight(c), 2);
    commit_variant("gzip", "zipped");
    cache_collapse_done(c, the_key(), CACHE_COLLAPSE_STORED);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(w[i].called, 1);
        assert_true(w[i].served_from_cache);
    }
    assert_int_equal(leader.called, 0);
    assert_int_equal(cache_collapse_inflight(c), 1);
    cache_collapse_done(c, S("GET http://a.example/other"), CACHE_COLLAPSE_FETCH);
    /* The next miss leads again. */
    assert_int_equal(cache_collapse_join(c, the_key(), on_done, &leader, &wt),
                     CACHE_COLLAPSE_LEADER);
    cache_collapse_done(c, the_key(), CACHE_COLLAPSE_FETCH);
    cache_collapse_free(c);
}

static void collapse_with_vary(void **state)
{
    struct cache_collapse *c = cache_collapse_new(100);
    struct client leader = {.accept_encoding = "gzip"},
                  same = {.accept_encoding = "gzip"}, other = {.accept_encoding = "br"};
    struct cache_waiter *wt;
    cache_collapse_join(c, the_key(), on_done, &leader, &wt);
    cache_collapse_join(c, the_key(), on_done, &same, &wt);
    cache_collapse_join(c, the_key(), on_done, &other, &wt);
    commit_variant("gzip", "zipped");
    cache_collapse_done(c, the_key(), CACHE_COLLAPSE_STORED);
    assert_true(same.served_from_cache);
    assert_false(other.served_from_cache); /* another variant: it fetches itself */
    assert_true(other.fetched_itself);
    cache_collapse_free(c);
}

static void collapse_uncacheable_answer(void **state)
{
    /* The leader's answer was private (or no-store, or failed): waiters
     * must not get it; each fetches by itself. */
    struct cache_collapse *c = cache_collapse_new(100);
    struct client leader = {.accept_encoding = "gzip"}, w1 = {.accept_encoding = "gzip"},
                  w2 = {.accept_encoding = "gzip"};
    struct cache_waiter *wt;
    cache_collapse_join(c, the_key(), on_done, &leader, &wt);
    cache_collapse_join(c, the_key(), on_done, &w1, &wt);
    cache_collapse_join(c, the_key(), on_done, &w2, &wt);
    cache_collapse_done(c, the_key(), CACHE_COLLAPSE_FETCH);
    assert_int_equal(w1.outcome, CACHE_COLLAPSE_FETCH);
    assert_true(w1.fetched_itself && w2.fetched_itself);
    assert_false(w1.served_from_cache);
    cache_collapse_free(c);
}

static void collapse_cancel_and_bound(void **state)
{
    struct cache_collapse *c = cache_collapse_new(1);
    struct client leader = {.accept_encoding = "gzip"}, w1 = {.accept_encoding = "gzip"},
                  w2 = {.accept_encoding = "gzip"};
    struct cache_waiter *wt, *wt2;
    cache_collapse_join(c, the_key(), on_done, &leader, &wt);
    assert_int_equal(cache_collapse_join(c, the_key(), on_done, &w1, &wt),
                     CACHE_COLLAPSE_WAITER);
    assert_int_equal(cache_collapse_join(c, the_key(), on_done, &w2, &wt2),
                     CACHE_COLLAPSE_BUSY);
    assert_true(cache_collapse_cancel(c, wt));
    cache_collapse_done(c, the_key(), CACHE_COLLAPSE_STORED);
    assert_int_equal(w1.called, 0);
    cache_collapse_free(c);
}

/* Many threads miss at once: exactly one leads. */
struct herd {
    struct cache_collapse *c;
    atomic_int leaders, waiters, called;
};

static void herd_cb(void *arg, enum cache_collapse_outcome o)
{
    struct herd *h = arg;
    atomic_fetch_add(&h->called, 1);
}

static void *herd_thread(void *arg)
{
    struct herd *h = arg;
    struct cache_waiter *w;
    enum cache_collapse_role r =
        cache_collapse_join(h->c, S("GET http://a.example/h"), herd_cb, h, &w);
    if (r == CACHE_COLLAPSE_LEADER)
        atomic_fetch_add(&h->leaders, 1);
    else if (r == CACHE_COLLAPSE_WAITER)
        atomic_fetch_add(&h->waiters, 1);
    return NULL;
}

static void collapse_threads(void **state)
{
    struct herd h = {.c = cache_collapse_new(1000)};
    pthread_t t[8];
    for (int i = 0; i < 8; i++)
        pthread_create(&t[i], NULL, herd_thread, &h);
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&h.leaders), 1);
    assert_int_equal(atomic_load(&h.waiters), 7);
    cache_collapse_done(h.c, S("GET http://a.example/h"), CACHE_COLLAPSE_STORED);
    assert_int_equal(atomic_load(&h.called), 7);
    cache_collapse_free(h.c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(collapse_one_leader_many_waiters, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(collapse_with_vary, setup, teardown),
        cmocka_unit_test_setup_teardown(collapse_uncacheable_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(collapse_cancel_and_bound, setup, teardown),
        cmocka_unit_test_setup_teardown(collapse_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
