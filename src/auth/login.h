/* login: the one way a protocol checks a password. Throttling, verification
 * on the work pool, the growing delay after a failure, and the completion on
 * the connection's own loop. login_start is the line-protocol form: the
 * session is suspended meanwhile so pipelined commands wait for the answer. */
#pragma once
#include "auth/accounts.h"

struct conn;
struct session;

enum login_result {
    LOGIN_OK,     /* the account is in acct */
    LOGIN_FAIL,   /* wrong user or password (after the throttle delay) */
    LOGIN_LOCKED, /* too many failures from this address or for this user */
    LOGIN_ERROR,  /* the account store failed: a temporary error */
};

/* Connection form (HTTP): cb runs on the conn's loop, never if the conn
 * closed meanwhile; acct is NULL unless LOGIN_OK. The conn is referenced
 * until then. Returns 0, or -1 if the check could not start. */
typedef void (*login_check_fn)(struct conn *c, void *arg, enum login_result r,
                               const struct account *acct);
int login_check(struct conn *c, const char *user, const char *password, login_check_fn cb,
                void *arg);

/* Session form: on LOGIN_OK s->authenticated and s->user are set before done
 * runs; the session resumes after done returns (done may suspend it again
 * for more async work: suspends nest). */
typedef void (*login_done_fn)(struct session *s, enum login_result r,
                              const struct account *acct);
int login_start(struct session *s, const char *user, const char *password,
                login_done_fn done);
