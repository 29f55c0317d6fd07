/* login: the one way a protocol checks a password. Throttling, verification
 * on the work pool, the growing delay after a failure, and the completion on
 * the session's own loop; the session is suspended meanwhile so pipelined
 * commands wait for the answer. */
#pragma once
#include "auth/accounts.h"

struct session;

enum login_result {
    LOGIN_OK,     /* s->authenticated and s->user are set */
    LOGIN_FAIL,   /* wrong user or password (after the throttle delay) */
    LOGIN_LOCKED, /* too many failures from this address or for this user */
    LOGIN_ERROR,  /* the account store failed: a temporary error */
};

typedef void (*login_done_fn)(struct session *s, enum login_result r,
                              const struct account *acct);

/* Starts a check; done runs later on the session's loop (never if the
 * session has gone). Returns 0, or -1 if it could not start (done is not
 * called; answer with a temporary error). */
int login_start(struct session *s, const char *user, const char *password,
                login_done_fn done);
