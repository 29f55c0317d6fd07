/* pop3 auth: the AUTHORIZATION state: USER/PASS (RFC 1939 7), AUTH PLAIN and
 * LOGIN (RFC 5034, via auth/sasl_server), STLS (RFC 2595 4), APOP refused;
 * then the maildrop is locked and loaded before TRANSACTION begins. */
#include "pop3/pop3.h"

#include "auth/login.h"
#include "auth/sasl_server.h"
#include "core/log.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PLAINTEXT_REFUSED                                                                  \
    "-ERR [AUTH] plaintext authentication disallowed on an insecure connection: use STLS"

/* ---- entering TRANSACTION ---- */

struct open_job {
    struct account account;
    struct maildrop *drop;
};

static void open_work(void *arg)
{
    struct open_job *job = arg;
    job->drop = maildrop_load(&job->account);
}

static void open_done(struct session *s, void *arg)
{
    struct open_job *job = arg;
    if (s && job->drop) {
        pop3_of(s)->drop = job->drop;
        session_set_state(s, POP3_TRANSACTION);
        session_reply(s, "+OK maildrop has %zu messages (%llu octets)",
                      maildrop_count(job->drop), (unsigned long long)maildrop_octets(job->drop));
    } else {
        maildrop_unlock(job->account.address);
        maildrop_free(job->drop);
        if (s) {
            s->authenticated = false;
            session_reply(s, "-ERR [SYS/TEMP] cannot open the maildrop");
        }
    }
    free(job);
}

/* RFC 2449 8.1.2 [IN-USE]: the maildrop is locked for other POP3 sessions. */
static void enter_transaction(struct session *s, const struct account *acct)
{
    struct pop3 *p = pop3_of(s);
    p->account = *acct;
    if (!maildrop_lock(acct->address)) {
        s->authenticated = false;
        session_reply(s, "-ERR [IN-USE] maildrop is locked by another POP3 session");
        return;
    }
    struct open_job *job = calloc(1, sizeof *job);
    if (job)
        job->account = *acct;
    if (!job || session_work(s, open_work, open_done, job) < 0) {
        free(job);
        maildrop_unlock(acct->address);
        s->authenticated = false;
        session_reply(s, "-ERR [SYS/TEMP] cannot open the maildrop");
    }
}

static void login_done(struct session *s, enum login_result r, const struct account *acct)
{
    switch (r) {
    case LOGIN_OK:
        enter_transaction(s, acct);
        break;
    case LOGIN_FAIL:
        session_reply(s, "-ERR [AUTH] invalid user name or password");
        break;
    case LOGIN_LOCKED:
        session_reply(s, "-ERR [AUTH] too many failed logins, try again later");
        break;
    case LOGIN_ERROR:
        session_reply(s, "-ERR [SYS/TEMP] authentication is unavailable, try again later");
        break;
    }
}

static void check_password(struct session *s, const char *user, const char *password)
{
    if (login_start(s, user, password, login_done) < 0)
        session_reply(s, "-ERR [SYS/TEMP] authentication is unavailable, try again later");
}

/* ---- USER / PASS / APOP ---- */

void pop3_cmd_user(struct session *s, char *args)
{
    struct pop3 *p = pop3_of(s);
    if (!pop3_plaintext_ok(s)) {
        session_reply(s, PLAINTEXT_REFUSED);
        return;
    }
    if (!*args || strlen(args) > AUTH_MAX_USERNAME) {
        session_reply(s, "-ERR syntax: USER name");
        return;
    }
    snprintf(p->user, sizeof p->user, "%s", args);
    session_reply(s, "+OK send PASS");
}

void pop3_cmd_pass(struct session *s, char *args)
{
    struct pop3 *p = pop3_of(s);
    if (!p->user[0]) {
        session_reply(s, "-ERR USER first");
        return;
    }
    char user[sizeof p->user];
    memcpy(user, p->user, sizeof user);
    p->user[0] = '\0'; /* RFC 1939 7: a failed PASS needs a new USER */
    check_password(s, user, args);
    OPENSSL_cleanse(args, strlen(args));
}

void pop3_cmd_apop(struct session *s, char *args)
{
    session_reply(s, "-ERR [AUTH] APOP is not offered: passwords are stored hashed");
}

/* ---- AUTH (RFC 5034) ---- */

static const struct sasl_replies pop3_sasl_replies = {
    .challenge = "+ %s",
    .cancelled = "-ERR authentication cancelled",
    .malformed = "-ERR [AUTH] malformed response",
    .unsupported = "-ERR [AUTH] unsupported mechanism",
    .temporary = "-ERR [SYS/TEMP] authentication is unavailable, try again later",
};

void pop3_cmd_auth(struct session *s, char *args)
{
    if (!pop3_plaintext_ok(s)) {
        session_reply(s, PLAINTEXT_REFUSED);
        return;
    }
    if (!*args) { /* the mechanisms, as many clients ask (the RFC 1734 form) */
        session_printf(s, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
        return;
    }
    char *initial = strchr(args, ' ');
    if (initial)
        *initial++ = '\0';
    sasl_server_start(s, &pop3_sasl_replies, args, initial, login_done);
}

/* ---- STLS (RFC 2595 4) ---- */

void pop3_cmd_stls(struct session *s, char *args)
{
    struct pop3 *p = pop3_of(s);
    session_reply(s, "+OK begin TLS negotiation");
    if (session_starttls(s) < 0) {
        session_close(s);
        return;
    }
    p->user[0] = '\0'; /* nothing said before TLS carries over */
}
