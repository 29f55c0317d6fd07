/* cmd_auth: SMTP AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN, for the
 * submission role. The password check is auth/login's (throttled, on the
 * work pool); secrets are wiped as soon as they were handed over. */
#include "auth/login.h"
#include "auth/sasl.h"
#include "core/log.h"
#include "smtp/smtp.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* base64 of up to user + password + two NULs, and its decoding. */
#define SASL_B64_MAX 2048

static void auth_done(struct session *s, enum login_result r, const struct account *acct)
{
    switch (r) {
    case LOGIN_OK:
        session_reply(s, "235 2.7.0 Authentication successful");
        break;
    case LOGIN_FAIL: /* RFC 4954 6 */
        session_reply(s, "535 5.7.8 Authentication credentials invalid");
        break;
    case LOGIN_LOCKED:
    case LOGIN_ERROR:
        session_reply(s, "454 4.7.0 Temporary authentication failure");
        break;
    }
}

static void auth_login_check(struct session *s, const char *user, char *pass)
{
    if (login_start(s, user, pass, auth_done) < 0)
        session_reply(s, "454 4.7.0 Temporary authentication failure");
    OPENSSL_cleanse(pass, strlen(pass));
}

/* RFC 4954 4: "*" cancels the exchange. */
static bool cancelled(struct session *s, const char *line)
{
    if (strcmp(line, "*") != 0)
        return false;
    session_reply(s, "501 5.7.0 Authentication cancelled");
    return true;
}

static void plain_response(struct session *s, const char *b64)
{
    char user[AUTH_MAX_USERNAME + 1], pass[AUTH_MAX_PASSWORD + 1];
    if (sasl_plain_decode(b64, user, sizeof user, pass, sizeof pass) < 0) {
        session_reply(s, "501 5.5.2 Cannot decode the response");
        return;
    }
    auth_login_check(s, user, pass);
    OPENSSL_cleanse(pass, sizeof pass);
}

static void plain_line(struct session *s, char *line, size_t len)
{
    if (!cancelled(s, line))
        plain_response(s, line);
    OPENSSL_cleanse(line, len);
}

static void login_password(struct session *s, char *line, size_t len)
{
    struct smtp *m = smtp_of(s);
    char pass[AUTH_MAX_PASSWORD + 1];
    if (!cancelled(s, line)) {
        if (sasl_base64_decode(line, pass, sizeof pass) < 0 || strlen(pass) == 0)
            session_reply(s, "501 5.5.2 Cannot decode the response");
        else
            auth_login_check(s, m->sasl_user, pass);
    }
    OPENSSL_cleanse(pass, sizeof pass);
    OPENSSL_cleanse(line, len);
    m->sasl_user[0] = '\0';
}

/* The user name (base64) of AUTH LOGIN, then ask for the password. */
static void login_user(struct session *s, const char *b64)
{
    struct smtp *m = smtp_of(s);
    long n = sasl_base64_decode(b64, m->sasl_user, sizeof m->sasl_user);
    if (n <= 0 || (size_t)n != strlen(m->sasl_user)) {
        m->sasl_user[0] = '\0';
        session_reply(s, "501 5.5.2 Cannot decode the response");
        return;
    }
    session_reply(s, "334 UGFzc3dvcmQ6"); /* "Password:" */
    session_expect_line(s, login_password);
}

static void login_user_line(struct session *s, char *line, size_t len)
{
    if (!cancelled(s, line))
        login_user(s, line);
}

void smtp_cmd_auth(struct session *s, char *args)
{
    if (!session_plaintext_auth_ok(s, false)) { /* RFC 4954 4, RFC 3207 */
        session_reply(s, "538 5.7.11 Encryption required for requested authentication "
                         "mechanism");
        return;
    }
    char *initial = strchr(args, ' ');
    if (initial)
        *initial++ = '\0';
    if (strcasecmp(args, "PLAIN") == 0) {
        if (initial && strcmp(initial, "=") != 0)
            plain_response(s, initial);
        else {
            session_reply(s, "334 ");
            session_expect_line(s, plain_line);
        }
    } else if (strcasecmp(args, "LOGIN") == 0) {
        if (initial)
            login_user(s, initial);
        else {
            session_reply(s, "334 VXNlcm5hbWU6"); /* "Username:" */
            session_expect_line(s, login_user_line);
        }
    } else {
        session_reply(s, "504 5.5.4 Unrecognized authentication type");
    }
    if (initial)
        OPENSSL_cleanse(initial, strlen(initial));
}
