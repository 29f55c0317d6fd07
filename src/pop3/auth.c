/* pop3 auth: the AUTHORIZATION state: USER/PASS (RFC 1939 7), AUTH PLAIN and
 * LOGIN (RFC 5034, with initial response), STLS (RFC 2595 4), APOP refused;
 * then the maildrop is locked and loaded before TRANSACTION begins. */
#include "pop3/pop3.h"

#include "auth/login.h"
#include "auth/sasl.h"
#include "core/log.h"
#include "core/workpool.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PLAINTEXT_REFUSED                                                                  \
    "-ERR [AUTH] plaintext authentication disallowed on an insecure connection: use STLS"

/* ---- entering TRANSACTION ---- */

struct open_job {
    struct session *s;
    struct account account;
    struct maildrop *drop;
};

static void open_work(void *arg)
{
    struct open_job *job = arg;
    job->drop = maildrop_load(&job->account);
}

static void open_done(void *arg)
{
    struct open_job *job = arg;
    struct session *s = job->s;
    struct pop3 *p = pop3_of(s);
    if (session_gone(s) || !job->drop) {
        maildrop_unlock(job->account.address);
        maildrop_free(job->drop);
        if (!session_gone(s)) {
            s->authenticated = false;
            session_reply(s, "-ERR [SYS/TEMP] cannot open the maildrop");
        }
    } else {
        p->drop = job->drop;
        session_set_state(s, POP3_TRANSACTION);
        session_reply(s, "+OK maildrop has %zu messages (%llu octets)",
                      maildrop_count(p->drop), (unsigned long long)maildrop_octets(p->drop));
    }
    session_resume(s);
    session_unref(s);
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
    if (job) {
        job->s = s;
        job->account = *acct;
    }
    if (!job || workpool_submit(runtime->pool, s->conn->loop->base, open_work, open_done,
                                job) < 0) {
        free(job);
        maildrop_unlock(acct->address);
        s->authenticated = false;
        session_reply(s, "-ERR [SYS/TEMP] cannot open the maildrop");
        return;
    }
    session_suspend(s);
    session_ref(s);
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

static void sasl_fail(struct session *s, const char *why)
{
    pop3_of(s)->sasl = SASL_NONE;
    session_reply(s, "-ERR %s", why);
}

static void sasl_step(struct session *s, char *line, size_t len);

static void sasl_continue(struct session *s, const char *challenge_b64)
{
    session_reply(s, "+ %s", challenge_b64);
    session_expect_line(s, sasl_step);
}

static void sasl_plain(struct session *s, const char *response)
{
    char user[AUTH_MAX_USERNAME + 1], password[AUTH_MAX_PASSWORD + 1];
    pop3_of(s)->sasl = SASL_NONE;
    if (sasl_plain_decode(response, user, sizeof user, password, sizeof password) < 0) {
        sasl_fail(s, "[AUTH] malformed PLAIN response");
        return;
    }
    check_password(s, user, password);
    OPENSSL_cleanse(password, sizeof password);
}

/* LOGIN: "Username:" then "Password:", each answered in base64. */
static void sasl_login(struct session *s, const char *response)
{
    struct pop3 *p = pop3_of(s);
    char text[AUTH_MAX_PASSWORD + 1];
    long n = sasl_base64_decode(response, text, sizeof text);
    if (n < 0 || strlen(text) != (size_t)n) {
        sasl_fail(s, "[AUTH] malformed LOGIN response");
        return;
    }
    if (p->sasl == SASL_LOGIN_USER) {
        if (strlen(text) > AUTH_MAX_USERNAME || !text[0]) {
            sasl_fail(s, "[AUTH] malformed LOGIN response");
            return;
        }
        snprintf(p->user, sizeof p->user, "%s", text);
        p->sasl = SASL_LOGIN_PASS;
        sasl_continue(s, "UGFzc3dvcmQ6"); /* "Password:" */
        return;
    }
    p->sasl = SASL_NONE;
    char user[sizeof p->user];
    memcpy(user, p->user, sizeof user);
    p->user[0] = '\0';
    check_password(s, user, text);
    OPENSSL_cleanse(text, sizeof text);
}

static void sasl_step(struct session *s, char *line, size_t len)
{
    if (strcmp(line, "*") == 0) { /* RFC 5034 4: the client cancels */
        sasl_fail(s, "authentication cancelled");
        return;
    }
    if (strlen(line) != len) {
        sasl_fail(s, "[AUTH] malformed response");
        return;
    }
    if (pop3_of(s)->sasl == SASL_PLAIN)
        sasl_plain(s, line);
    else
        sasl_login(s, line);
    OPENSSL_cleanse(line, len);
}

void pop3_cmd_auth(struct session *s, char *args)
{
    struct pop3 *p = pop3_of(s);
    if (!pop3_plaintext_ok(s)) {
        session_reply(s, PLAINTEXT_REFUSED);
        return;
    }
    if (!*args) { /* the mechanisms, as many clients ask (pre-RFC 5034 form) */
        session_printf(s, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
        return;
    }
    char *initial = strchr(args, ' ');
    if (initial)
        *initial++ = '\0';
    if (strcasecmp(args, "PLAIN") == 0) {
        p->sasl = SASL_PLAIN;
    } else if (strcasecmp(args, "LOGIN") == 0) {
        p->sasl = SASL_LOGIN_USER;
    } else {
        session_reply(s, "-ERR [AUTH] unsupported mechanism");
        return;
    }
    if (!initial) {
        sasl_continue(s, p->sasl == SASL_PLAIN ? "" : "VXNlcm5hbWU6"); /* "Username:" */
        return;
    }
    /* RFC 5034 4: an initial response; "=" stands for an empty one. */
    sasl_step(s, initial, strlen(initial));
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
