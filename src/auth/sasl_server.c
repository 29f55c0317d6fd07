/* sasl_server: one exchange at a time per session, its state (the mechanism,
 * the LOGIN user name between steps) in s->sasl, freed when the exchange
 * ends or with the session. Secrets are wiped as soon as they were used. */
#include "auth/sasl_server.h"

#include "auth/sasl.h"
#include "core/session.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum mech { MECH_PLAIN, MECH_LOGIN };

struct sasl_exchange {
    const struct sasl_replies *r;
    login_done_fn done;
    enum mech mech;
    char user[AUTH_MAX_USERNAME + 1]; /* LOGIN, between its two steps */
};

static void end_exchange(struct session *s)
{
    free(s->sasl);
    s->sasl = NULL;
}

static void fail(struct session *s, const char *reply)
{
    session_reply(s, "%s", reply);
    end_exchange(s);
}

static void check(struct session *s, const char *user, char *password)
{
    struct sasl_exchange *x = s->sasl;
    login_done_fn done = x->done;
    const char *temporary = x->r->temporary;
    end_exchange(s);
    if (login_start(s, user, password, done) < 0)
        session_reply(s, "%s", temporary);
    OPENSSL_cleanse(password, strlen(password));
}

static void challenge(struct session *s, const char *b64, session_line_fn next)
{
    session_reply(s, s->sasl->r->challenge, b64);
    session_expect_line(s, next);
}

/* Decodes one base64 response into text without NULs; -1 if it cannot. */
static int decode_text(const char *b64, char *out, size_t outlen)
{
    long n = sasl_base64_decode(b64, out, outlen);
    return n > 0 && (size_t)n == strlen(out) ? 0 : -1;
}

static void plain_step(struct session *s, const char *b64)
{
    char user[AUTH_MAX_USERNAME + 1], password[AUTH_MAX_PASSWORD + 1];
    if (sasl_plain_decode(b64, user, sizeof user, password, sizeof password) < 0)
        fail(s, s->sasl->r->malformed);
    else
        check(s, user, password);
    OPENSSL_cleanse(password, sizeof password);
}

static void login_password_step(struct session *s, const char *b64)
{
    struct sasl_exchange *x = s->sasl;
    char password[AUTH_MAX_PASSWORD + 1];
    char user[sizeof x->user];
    memcpy(user, x->user, sizeof user);
    if (decode_text(b64, password, sizeof password) < 0)
        fail(s, x->r->malformed);
    else
        check(s, user, password);
    OPENSSL_cleanse(password, sizeof password);
}

static void on_line(struct session *s, char *line, size_t len);

static void login_user_step(struct session *s, const char *b64)
{
    struct sasl_exchange *x = s->sasl;
    if (decode_text(b64, x->user, sizeof x->user) < 0) {
        fail(s, x->r->malformed);
        return;
    }
    x->mech = MECH_LOGIN;
    challenge(s, "UGFzc3dvcmQ6", on_line); /* "Password:" */
}

/* A response line; LOGIN's second step is told by the user name set. */
static void on_line(struct session *s, char *line, size_t len)
{
    struct sasl_exchange *x = s->sasl;
    if (!x)
        return;
    if (strcmp(line, "*") == 0) /* RFC 4422 3.4: the client aborts */
        fail(s, x->r->cancelled);
    else if (strlen(line) != len)
        fail(s, x->r->malformed);
    else if (x->mech == MECH_PLAIN)
        plain_step(s, line);
    else if (!x->user[0])
        login_user_step(s, line);
    else
        login_password_step(s, line);
    OPENSSL_cleanse(line, len);
}

void sasl_server_start(struct session *s, const struct sasl_replies *r, const char *mech,
                       char *initial, login_done_fn done)
{
    enum mech m;
    if (strcasecmp(mech, "PLAIN") == 0)
        m = MECH_PLAIN;
    else if (strcasecmp(mech, "LOGIN") == 0)
        m = MECH_LOGIN;
    else {
        session_reply(s, "%s", r->unsupported);
        return;
    }
    end_exchange(s);
    s->sasl = calloc(1, sizeof *s->sasl);
    if (!s->sasl) {
        session_reply(s, "%s", r->temporary);
        return;
    }
    *s->sasl = (struct sasl_exchange){.r = r, .done = done, .mech = m};
    if (!initial) {
        challenge(s, m == MECH_PLAIN ? "" : "VXNlcm5hbWU6", on_line); /* "Username:" */
        return;
    }
    /* RFC 4422 4 (and RFC 4954 4, RFC 5034 4): "=" is an empty response. */
    on_line(s, strcmp(initial, "=") == 0 ? (char[]){""} : initial,
            strcmp(initial, "=") == 0 ? 0 : strlen(initial));
    OPENSSL_cleanse(initial, strlen(initial));
}
