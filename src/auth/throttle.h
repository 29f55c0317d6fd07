/* throttle: failed-login accounting per client address and per account, in
 * bounded memory. Growing delay after a few failures, then a temporary
 * refusal (limits.h AUTH_THROTTLE_*). Thread-safe. */
#pragma once
#include <time.h>

struct throttle;

struct throttle *throttle_new(void);
void throttle_free(struct throttle *t); /* NULL is a no-op */

/* Before checking a password: 0 if allowed, -1 if the address or the
 * account is locked out for now. user may be NULL. */
int throttle_check(struct throttle *t, const char *ip, const char *user, time_t now);
/* After a failure: records it and returns how long (ms) to wait before
 * answering the client. */
unsigned throttle_fail(struct throttle *t, const char *ip, const char *user, time_t now);
/* After a success: forgets the account's failures (not the address's). */
void throttle_success(struct throttle *t, const char *ip, const char *user);
