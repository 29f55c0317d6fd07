/* pop3 session: the protocol descriptor (command table with the states
 * of RFC 1939 3), the greeting, error replies, CAPA (RFC 2449) and QUIT. */
#include "pop3/pop3.h"

#include "auth/sasl_server.h"
#include "core/log.h"

#include <stdlib.h>
#include <unistd.h>

/* RFC 1939 3: an autologout timer of at least 10 minutes. */
#define POP3_IDLE_TIMEOUT_SEC 600

static const char *const state_names[] = {"authorization", "transaction", "update"};

#define AUTHZ STATE_BIT(POP3_AUTHORIZATION)
#define TRANS STATE_BIT(POP3_TRANSACTION)

/* One command a line: the table reads as a table. */
// clang-format off
static const struct command commands[] = {
    {"USER", AUTHZ, 0, pop3_cmd_user},
    {"PASS", AUTHZ, 0, pop3_cmd_pass},
    {"AUTH", AUTHZ, 0, pop3_cmd_auth},
    {"APOP", AUTHZ, 0, pop3_cmd_apop},
    {"STLS", AUTHZ, CMD_NO_TLS, pop3_cmd_stls},
    {"CAPA", AUTHZ | TRANS, 0, pop3_cmd_capa},
    {"QUIT", AUTHZ | TRANS, 0, pop3_cmd_quit},
    {"STAT", TRANS, 0, pop3_cmd_stat},
    {"LIST", TRANS, 0, pop3_cmd_list},
    {"UIDL", TRANS, 0, pop3_cmd_uidl},
    {"RETR", TRANS, 0, pop3_cmd_retr},
    {"TOP", TRANS, 0, pop3_cmd_top},
    {"DELE", TRANS, 0, pop3_cmd_dele},
    {"NOOP", TRANS, 0, pop3_cmd_noop},
    {"RSET", TRANS, 0, pop3_cmd_rset},
    {NULL, 0, 0, NULL},
};
// clang-format on

static void pop3_open(struct session *s)
{
    struct pop3 *p = calloc(1, sizeof *p);
    if (!p) {
        session_close(s);
        return;
    }
    p->msg_fd = -1;
    s->data = p;
    /* RFC 1939 4: no APOP timestamp: passwords are stored hashed. */
    session_reply(s, "+OK portico POP3 server ready");
}

/* A dropped connection, a timeout or a crash applies no deletion: only
 * QUIT in TRANSACTION does (RFC 1939 6). */
static void pop3_close(struct session *s)
{
    struct pop3 *p = pop3_of(s);
    if (!p)
        return;
    if (p->msg_fd >= 0)
        close(p->msg_fd);
    if (p->drop) {
        maildrop_unlock(p->account.address);
        maildrop_free(p->drop);
    }
    free(p);
    s->data = NULL;
}

static void pop3_error(struct session *s, enum session_error e, const char *verb)
{
    static const char *const text[] = {
        [SERR_LINE_TOO_LONG] = "-ERR line too long",
        [SERR_SYNTAX] = "-ERR syntax error",
        [SERR_UNKNOWN] = "-ERR unknown command",
        [SERR_BAD_STATE] = "-ERR command not valid in this state",
        [SERR_NEEDS_TLS] = "-ERR use STLS first",
        [SERR_NEEDS_AUTH] = "-ERR not logged in",
        [SERR_ALREADY_AUTH] = "-ERR already logged in",
        [SERR_ALREADY_TLS] = "-ERR TLS already active",
        [SERR_TOO_MANY] = "-ERR [SYS/TEMP] too many errors or commands, closing",
        [SERR_PEER_LIMIT] = "-ERR [SYS/TEMP] too many connections from your address",
        [SERR_SERVER_FULL] = "-ERR [SYS/TEMP] too many connections, try again later",
        [SERR_TIMEOUT] = "-ERR autologout: idle for too long",
        [SERR_SHUTDOWN] = "-ERR [SYS/TEMP] server shutting down",
        [SERR_LITERAL_TOO_BIG] = "-ERR syntax error", /* POP3 has no literals */
    };
    session_reply(s, "%s", text[e]);
}

bool pop3_plaintext_ok(struct session *s)
{
    return session_plaintext_auth_ok(s, true);
}

/* RFC 2449 5: the capabilities; STLS until TLS is up, and the login methods
 * only where a plaintext password may be sent. */
void pop3_cmd_capa(struct session *s, char *args)
{
    bool authz = s->state == POP3_AUTHORIZATION;
    session_reply(s, "+OK capability list follows");
    session_printf(s,
                   "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
                   "IMPLEMENTATION portico-%s\r\n",
                   PORTICO_VERSION);
    if (authz && pop3_plaintext_ok(s))
        session_printf(s, "USER\r\nSASL " SASL_MECHANISMS "\r\n");
    if (authz && !session_tls(s))
        session_printf(s, "STLS\r\n");
    session_printf(s, ".\r\n");
}

void pop3_cmd_quit(struct session *s, char *args)
{
    if (s->state == POP3_TRANSACTION) {
        pop3_cmd_quit_update(s);
        return;
    }
    session_reply(s, "+OK portico POP3 server signing off");
    session_close(s);
}

static const struct proto pop3_proto = {
    .name = "pop3",
    .login_deadline = true,
    .max_line = POP3_MAX_LINE,
    .idle_timeout_sec = POP3_IDLE_TIMEOUT_SEC,
    .commands = commands,
    .state_names = state_names,
    .on_open = pop3_open,
    .on_close = pop3_close,
    .on_error = pop3_error,
};

static void pop3_start(struct conn *c)
{
    session_start(c, &pop3_proto);
}

const struct service_impl pop3_service = {"pop3", pop3_start};
