/* imap auth: the not-authenticated state (RFC 9051 6.2): STARTTLS (6.2.1,
 * plaintext buffered after it discarded by the session), AUTHENTICATE
 * PLAIN/LOGIN with SASL-IR (6.2.2, RFC 4959, through auth/sasl_server) and
 * LOGIN (6.2.3), both through the throttled login API on the work pool. */
#include "imap/imap.h"

#include "auth/login.h"
#include "auth/sasl_server.h"
#include "core/log.h"
#include "imap/parse.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

/* RFC 9051 6.2.3 / 7.1 PRIVACYREQUIRED: no password before TLS (off
 * loopback, unless [auth] allow_plaintext_auth). */
static bool plaintext_ok(struct session *s)
{
    return session_plaintext_auth_ok(s, true);
}

static void login_done(struct session *s, enum login_result r, const struct account *acct)
{
    char caps[512];
    switch (r) {
    case LOGIN_OK:
        imap_of(s)->account = *acct;
        imap_set_state(s, IMAP_AUTHENTICATED);
        imap_bus_start(s);
        imap_capabilities(s, caps, sizeof caps);
        log_info(s->id, "imap login account=%s", acct->address);
        /* RFC 9051 6.2.2: the capabilities may change after login. */
        imap_tagged(s, "OK", "[CAPABILITY %s] logged in", caps);
        break;
    case LOGIN_FAIL:
        imap_tagged(s, "NO", "[AUTHENTICATIONFAILED] invalid user name or password");
        break;
    case LOGIN_LOCKED:
        imap_tagged(s, "NO", "[UNAVAILABLE] too many failed logins, try again later");
        break;
    case LOGIN_ERROR:
        imap_tagged(s, "NO",
                    "[UNAVAILABLE] authentication is unavailable, try again later");
        break;
    }
}

void imap_cmd_starttls(struct session *s, char *args)
{
    if (*args) {
        imap_bad(s, "STARTTLS takes no arguments");
        return;
    }
    imap_tagged(s, "OK", "begin TLS negotiation now");
    if (session_starttls(s) < 0)
        session_close(s);
}

/* Copies a string argument (quoted or literal) into buf; -1 if it does not
 * fit or holds a NUL. */
static int take_astring(struct imap_parser *p, char *buf, size_t len)
{
    const char *v = NULL;
    size_t n = 0;
    if (imap_astring_text(p, &v, &n) < 0)
        return -1;
    if (n >= len || memchr(v, '\0', n))
        return imap_error(p, "argument too long");
    memcpy(buf, v, n);
    buf[n] = '\0';
    return 0;
}

void imap_cmd_login(struct session *s, char *args)
{
    if (!plaintext_ok(s)) {
        imap_tagged(s, "NO", "[PRIVACYREQUIRED] use STARTTLS before LOGIN");
        return;
    }
    char err[128] = "";
    char user[AUTH_MAX_USERNAME + 1];
    char password[1024];
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    int rc = take_astring(p, user, sizeof user);
    if (rc == 0)
        rc = imap_sp(p);
    if (rc == 0)
        rc = take_astring(p, password, sizeof password);
    if (rc == 0)
        rc = imap_end(p);
    imap_parser_free(&p);
    OPENSSL_cleanse(args, strlen(args));
    if (rc < 0) {
        OPENSSL_cleanse(password, sizeof password);
        imap_bad(s, err);
        return;
    }
    if (login_start(s, user, password, login_done) < 0)
        imap_tagged(s, "NO",
                    "[UNAVAILABLE] authentication is unavailable, try again later");
    OPENSSL_cleanse(password, sizeof password);
}

/* RFC 9051 6.2.2: "+ " then base64; "*" cancels with BAD. The replies
 * carry the command's tag, which lives in the session until the next
 * command is dispatched. */
static void sasl_replies_for(struct session *s)
{
    struct imap *im = imap_of(s);
    char(*t)[128] = im->sasl_text;
    snprintf(t[0], sizeof t[0], "%s BAD authentication cancelled", s->tag);
    snprintf(t[1], sizeof t[1], "%s BAD malformed response", s->tag);
    snprintf(t[2], sizeof t[2], "%s NO unsupported mechanism", s->tag);
    snprintf(t[3], sizeof t[3], "%s NO [UNAVAILABLE] authentication is unavailable",
             s->tag);
    im->sasl_replies = (struct sasl_replies){
        .challenge = "+ %s",
        .cancelled = t[0],
        .malformed = t[1],
        .unsupported = t[2],
        .temporary = t[3],
    };
}

void imap_cmd_authenticate(struct session *s, char *args)
{
    if (!plaintext_ok(s)) {
        imap_tagged(s, "NO", "[PRIVACYREQUIRED] use STARTTLS before AUTHENTICATE");
        return;
    }
    if (!*args) {
        imap_bad(s, "AUTHENTICATE needs a mechanism");
        return;
    }
    sasl_replies_for(s);
    char *initial = strchr(args, ' ');
    if (initial)
        *initial++ = '\0';
    sasl_server_start(s, &imap_of(s)->sasl_replies, args, initial, login_done);
}
