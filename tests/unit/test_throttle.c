/* test_throttle: growing delays, lockout, expiry and bounded memory of the
 * failed-login table. Time is passed in, so nothing here sleeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "auth/throttle.h"
#include "core/limits.h"

#define T0 ((time_t)1700000000)

static int setup(void **state)
{
    *state = throttle_new(NULL);
    return *state == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    throttle_free(*state);
    return 0;
}

static void test_free_failures(void **state)
{
    struct throttle *t = *state;
    for (int i = 0; i < AUTH_THROTTLE_FREE_FAILURES; i++) {
        assert_int_equal(throttle_check(t, "192.0.2.1", "alice", T0), 0);
        assert_int_equal(throttle_fail(t, "192.0.2.1", "alice", T0), 0);
    }
    assert_int_equal(throttle_fail(t, "192.0.2.1", "alice", T0), 1000);
}

static void test_growing_delay(void **state)
{
    struct throttle *t = *state;
    unsigned prev = 0;
    for (int i = 0; i < AUTH_THROTTLE_LOCK_FAILURES - 1; i++) {
        unsigned d = throttle_fail(t, "192.0.2.2", NULL, T0 + i);
        assert_true(d >= prev);
        assert_true(d <= AUTH_THROTTLE_MAX_DELAY_MS);
        if (i == AUTH_THROTTLE_FREE_FAILURES + 1)
            assert_int_equal(d, 2000);
        prev = d;
    }
    assert_int_equal(prev, AUTH_THROTTLE_MAX_DELAY_MS);
    assert_int_equal(throttle_check(t, "192.0.2.2", NULL, T0 + 20), 0);
}

static void test_lockout(void **state)
{
    struct throttle *t = *state;
    for (int i = 0; i < AUTH_THROTTLE_LOCK_FAILURES; i++)
        throttle_fail(t, "192.0.2.3", "bob", T0);
    assert_int_equal(throttle_check(t, "192.0.2.3", "bob", T0), -1);
    /* the address is locked for any user... */
    assert_int_equal(throttle_check(t, "192.0.2.3", NULL, T0 + 1), -1);
    /* ...but the account only for the address that failed on it */
    assert_int_equal(throttle_check(t, "198.51.100.9", "bob", T0 + 1), 0);
    assert_int_equal(throttle_check(t, "198.51.100.9", "carol", T0 + 1), 0);
    /* until the lock runs out */
    assert_int_equal(
        throttle_check(t, "192.0.2.3", "bob", T0 + AUTH_THROTTLE_LOCK_SEC - 1), -1);
    assert_int_equal(throttle_check(t, "192.0.2.3", "bob", T0 + AUTH_THROTTLE_LOCK_SEC),
                     0);
    /* a trusted address is never refused, only delayed */
    for (int i = 0; i < AUTH_THROTTLE_LOCK_FAILURES; i++)
        throttle_fail(t, "127.0.0.1", NULL, T0);
    assert_int_equal(throttle_reserve(t, "127.0.0.1", "dora", false, T0 + 1), -1);
    assert_int_equal(throttle_reserve(t, "127.0.0.1", "dora", true, T0 + 1), 0);
    assert_true(throttle_fail(t, "127.0.0.1", "dora", T0 + 1) > 0);
    /* nor as a pair: ten wrong passwords for one account from a trusted
     * address do not lock that account out there (untrusted: they do) */
    for (int i = 0; i < AUTH_THROTTLE_LOCK_FAILURES; i++) {
        throttle_fail(t, "127.0.0.2", "ed", T0);
        throttle_fail(t, "192.0.2.50", "ed", T0);
    }
    assert_int_equal(throttle_reserve(t, "127.0.0.2", "ed", true, T0 + 1), 0);
    assert_int_equal(throttle_reserve(t, "192.0.2.50", "ed", false, T0 + 1), -1);
}

/* Parallel attempts: each is counted when reserved, before any verdict. */
static void test_reserve_parallel(void **state)
{
    struct throttle *t = *state;
    int admitted = 0;
    for (int i = 0; i < 60; i++)
        if (throttle_reserve(t, "192.0.2.30", "hal", false, T0) == 0)
            admitted++;
    assert_int_equal(admitted, AUTH_THROTTLE_LOCK_FAILURES);
    for (int i = 0; i < admitted; i++)
        throttle_fail(t, "192.0.2.30", "hal", T0);
    assert_int_equal(throttle_reserve(t, "192.0.2.30", "hal", false, T0 + 1), -1);
    /* a released reservation frees its place */
    assert_int_equal(throttle_reserve(t, "192.0.2.31", "ivy", false, T0), 0);
    throttle_release(t, "192.0.2.31", "ivy");
    for (int i = 0; i < AUTH_THROTTLE_LOCK_FAILURES; i++)
        assert_int_equal(throttle_reserve(t, "192.0.2.31", "ivy", false, T0), 0);
    assert_int_equal(throttle_reserve(t, "192.0.2.31", "ivy", false, T0), -1);
}

/* [auth] throttle_* keys: the numbers come from the policy. */
static void test_policy(void **state)
{
    struct throttle_policy p = {.free_failures = 1,
                                .max_delay_ms = 2000,
                                .lock_failures = 4,
                                .lock_sec = 60,
                                .window_sec = 120};
    struct throttle *t = throttle_new(&p);
    assert_non_null(t);
    assert_int_equal(throttle_fail(t, "192.0.2.60", "jo", T0), 0);
    assert_int_equal(throttle_fail(t, "192.0.2.60", "jo", T0), 1000);
    assert_int_equal(throttle_fail(t, "192.0.2.60", "jo", T0), 2000);
    assert_int_equal(throttle_check(t, "192.0.2.60", NULL, T0), 0);
    assert_int_equal(throttle_fail(t, "192.0.2.60", "jo", T0), 2000); /* capped */
    assert_int_equal(throttle_check(t, "192.0.2.60", NULL, T0 + 59), -1);
    assert_int_equal(throttle_check(t, "192.0.2.60", NULL, T0 + 60), 0);
    /* the window: failures 120 s old are forgotten */
    assert_int_equal(throttle_fail(t, "192.0.2.60", "jo", T0 + 120), 0);
    throttle_free(t);
    p.lock_failures = AUTH_THROTTLE_MAX_LOCK_FAILURES + 1;
    assert_null(throttle_new(&p));
}

static void test_window_expiry(void **state)
{
    struct throttle *t = *state;
    for (int i = 0; i < AUTH_THROTTLE_LOCK_FAILURES - 1; i++)
        throttle_fail(t, "192.0.2.4", "dave", T0);
    time_t later = T0 + AUTH_THROTTLE_WINDOW_SEC;
    /* all earlier failures are forgotten: this one is free again */
    assert_int_equal(throttle_fail(t, "192.0.2.4", "dave", later), 0);
    assert_int_equal(throttle_check(t, "192.0.2.4", "dave", later), 0);
}

static void test_success_clears_user(void **state)
{
    struct throttle *t = *state;
    for (int i = 0; i < AUTH_THROTTLE_FREE_FAILURES + 2; i++)
        throttle_fail(t, "192.0.2.5", "erin", T0);
    throttle_success(t, "192.0.2.5", "erin");
    /* the account starts over; the address still carries its failures */
    assert_int_equal(throttle_fail(t, "198.51.100.5", "erin", T0), 0);
    assert_true(throttle_fail(t, "192.0.2.5", "frank", T0) > 0);
}

static void test_success_unlocks_user(void **state)
{
    struct throttle *t = *state;
    for (int i = 0; i < AUTH_THROTTLE_LOCK_FAILURES - 1; i++)
        throttle_fail(t, "192.0.2.40", "gina", T0);
    throttle_fail(t, "192.0.2.41", "gina", T0);
    assert_int_equal(throttle_check(t, "192.0.2.41", "gina", T0), 0);
    throttle_success(t, "192.0.2.40", "gina");
    /* the account's delay starts over */
    assert_int_equal(throttle_fail(t, "192.0.2.42", "gina", T0), 0);
}

static void test_bounded_memory(void **state)
{
    struct throttle *t = *state;
    char ip[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        assert_int_equal(throttle_fail(t, ip, NULL, T0 + i / 100), 0);
        assert_int_equal(throttle_check(t, ip, NULL, T0 + i / 100), 0);
    }
    /* still works for a repeat offender afterwards */
    for (int i = 0; i < AUTH_THROTTLE_LOCK_FAILURES; i++)
        throttle_fail(t, "192.0.2.200", "mallory", T0 + 1000);
    assert_int_equal(throttle_check(t, "192.0.2.200", NULL, T0 + 1000), -1);
}

static void test_long_and_null_names(void **state)
{
    struct throttle *t = *state;
    char user[2 * AUTH_MAX_USERNAME];
    for (size_t i = 0; i < sizeof user - 1; i++)
        user[i] = 'x';
    user[sizeof user - 1] = '\0';
    assert_int_equal(throttle_fail(t, NULL, user, T0), 0);
    assert_int_equal(throttle_check(t, NULL, NULL, T0), 0);
    assert_int_equal(throttle_fail(t, NULL, NULL, T0), 0);
    throttle_success(t, NULL, NULL);
    throttle_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_free_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_growing_delay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_parallel, setup, teardown),
        cmocka_unit_test(test_policy),
        cmocka_unit_test_setup_teardown(test_window_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_success_clears_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_success_unlocks_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bounded_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_and_null_names, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
