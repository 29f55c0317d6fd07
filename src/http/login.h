/* login: checking a request's Basic credentials for its connection, shared
 * by the file area (files.c) and the forward proxy (proxy/forward.c). */
#pragma once
#include "auth/login.h"

struct http_conn;

enum http_login_start {
    HTTP_LOGIN_KNOWN,       /* the credentials this connection already passed */
    HTTP_LOGIN_CHECKING,    /* a check runs: h is suspended, done will run */
    HTTP_LOGIN_UNAVAILABLE, /* the check could not start (answer 503) */
};

/* Credentials that passed on this connection before are known by their
 * salted digest (http/auth.h) and skip the slow hash; others start
 * login_check. The digest of what is being checked waits in
 * h->login_digest (h->login_digest_ok), for done to remember on success. */
enum http_login_start http_login_start(struct http_conn *h, const char *user,
                                       const char *pass, login_check_fn done);
