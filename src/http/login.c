/* login: a connection's Basic login (see login.h): the digest shortcut,
 * else the shared login_check with the throttle. */
#include "http/login.h"

#include "core/conn.h"
#include "http/auth.h"
#include "http/http.h"

#include <openssl/crypto.h>

enum http_login_start http_login_start(struct http_conn *h, const char *user,
                                       const char *pass, login_check_fn done)
{
    http_conn_random(h);
    h->login_digest_ok = http_auth_digest(h->auth_salt, user, pass, h->login_digest) == 0;
    if (h->authed && h->login_digest_ok &&
        CRYPTO_memcmp(h->login_digest, h->auth_digest, sizeof h->auth_digest) == 0)
        return HTTP_LOGIN_KNOWN;
    h->authed = false;
    http_suspend(h);
    if (login_check(h->c, user, pass, done, NULL) < 0) {
        h->state = HS_HEAD;
        conn_resume(h->c);
        return HTTP_LOGIN_UNAVAILABLE;
    }
    return HTTP_LOGIN_CHECKING;
}
