/* throttle: failed-login accounting per client address and per account, in
 * bounded memory. Growing delay after a few failures, then a temporary
 * refusal (limits.h AUTH_THROTTLE_*). Thread-safe. */
#pragma once
#include <stdbool.h>
#include <time.h>

struct throttle;

/* The numbers ([auth] throttle_* keys). */
struct throttle_policy {
    unsigned free_failures; /* failures answered at once */
    unsigned max_delay_ms;  /* the growing delay (1 s doubling) caps here */
    unsigned lock_failures; /* then refused (2..AUTH_THROTTLE_MAX_LOCK_FAILURES)... */
    time_t lock_sec;        /* ...for this long */
    time_t window_sec;      /* failures older than this are forgotten */
};

/* policy NULL: the defaults in core/limits.h. */
struct throttle *throttle_new(const struct throttle_policy *policy);
void throttle_free(struct throttle *t); /* NULL is a no-op */

/* Three counts, each with its recent failures: the address, the account
 * (user, canonical: see authdb_canonical) and the pair. The address is
 * refused for a while after AUTH_THROTTLE_LOCK_FAILURES; the pair too, so
 * an account is locked only for the addresses that failed on it; the
 * account itself only gets the growing delay. A trusted address ([auth]
 * trusted_networks) is never refused, as an address or a pair: only the
 * delay. */

/* Without reserving: 0 if allowed, -1 if the address (untrusted) or the
 * pair is locked out for now. user may be NULL. */
int throttle_check(struct throttle *t, const char *ip, const char *user, time_t now);
/* Before checking a password: as throttle_check, and on 0 the attempt is
 * counted at once as pending, atomically, so parallel attempts see it. The
 * reservation ends with exactly one of throttle_fail, throttle_success or
 * throttle_release. */
int throttle_reserve(struct throttle *t, const char *ip, const char *user, bool trusted,
                     time_t now);
/* After a failure: turns the reservation (if any) into a failure and
 * returns how long (ms) to wait before answering the client. */
unsigned throttle_fail(struct throttle *t, const char *ip, const char *user, time_t now);
/* After a success: ends the reservation and forgets the account's and the
 * pair's failures (not the address's). */
void throttle_success(struct throttle *t, const char *ip, const char *user);
/* The check could not run (store error): the reservation is dropped. */
void throttle_release(struct throttle *t, const char *ip, const char *user);
