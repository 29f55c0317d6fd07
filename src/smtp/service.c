/* service: the SMTP receiver's line-protocol descriptors (one command table
 * per role), greeting, error replies, the transaction reset and the async
 * helper every pool round trip of the receiver goes through. */
#include "smtp/service.h"

#include "core/log.h"
#include "smtp/smtp.h"
#include "smtp/spool.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ST(x) STATE_BIT(SMTP_##x)
#define ANY STATES_ALL
#define IDLE (ST(INIT) | ST(READY))

static const char *const state_names[SMTP_NSTATES] = {"init", "ready", "mail", "rcpt",
                                                      "bdat"};

/* BDAT is allowed everywhere in the table: its handler refuses a chunk only
 * after consuming its bytes, so they can never run as commands. */
#define COMMON_COMMANDS                                                                  \
    {"EHLO", ANY, 0, smtp_cmd_ehlo}, {"HELO", ANY, 0, smtp_cmd_helo},                    \
        {"RSET", ANY, 0, smtp_cmd_rset}, {"NOOP", ANY, 0, smtp_cmd_noop},                \
        {"QUIT", ANY, 0, smtp_cmd_quit}, {"VRFY", ANY, 0, smtp_cmd_vrfy},                \
        {"HELP", ANY, 0, smtp_cmd_help},                                                 \
        {"STARTTLS", IDLE, CMD_NO_TLS, smtp_cmd_starttls},                               \
    {                                                                                    \
        "BDAT", ANY, 0, smtp_cmd_bdat                                                    \
    }

static const struct command mx_commands[] = {
    COMMON_COMMANDS,
    {"MAIL", ST(READY), 0, smtp_cmd_mail},
    {"RCPT", ST(MAIL) | ST(RCPT), 0, smtp_cmd_rcpt},
    {"DATA", ST(RCPT), 0, smtp_cmd_data},
    {NULL, 0, 0, NULL},
};

/* RFC 6409 4.3 / RFC 4954: submission requires authentication. */
static const struct command submission_commands[] = {
    COMMON_COMMANDS,
    {"AUTH", ST(READY), CMD_NO_AUTH, smtp_cmd_auth},
    {"MAIL", ST(READY), CMD_NEEDS_AUTH, smtp_cmd_mail},
    {"RCPT", ST(MAIL) | ST(RCPT), CMD_NEEDS_AUTH, smtp_cmd_rcpt},
    {"DATA", ST(RCPT), CMD_NEEDS_AUTH, smtp_cmd_data},
    {NULL, 0, 0, NULL},
};

static void on_open_role(struct session *s, enum smtp_role role)
{
    struct smtp *m = calloc(1, sizeof *m);
    if (!m) {
        session_reply(s, "421 4.3.0 Out of memory");
        session_close(s);
        return;
    }
    m->role = role;
    m->txn.spoolfd = -1;
    s->data = m;
    session_set_state(s, SMTP_INIT);
    /* RFC 5321 4.2 / 3.1: the greeting names us; ESMTP announces EHLO. */
    session_reply(s, "220 %s ESMTP portico",
                  runtime ? runtime->cfg->hostname : "localhost");
}

static void on_open_mx(struct session *s)
{
    on_open_role(s, SMTP_ROLE_MX);
}

static void on_open_submission(struct session *s)
{
    on_open_role(s, SMTP_ROLE_SUBMISSION);
}

static void txn_clear(struct smtp_txn *t)
{
    smtp_spool_put(t->spoolfd);
    free(t->rcpts);
    memset(t, 0, sizeof *t);
    t->spoolfd = -1;
}

static void on_close(struct session *s)
{
    struct smtp *m = s->data;
    if (!m)
        return;
    txn_clear(&m->txn);
    free(m);
    s->data = NULL;
}

void smtp_txn_reset(struct session *s)
{
    struct smtp *m = smtp_of(s);
    txn_clear(&m->txn);
    session_set_state(s, m->helo[0] ? SMTP_READY : SMTP_INIT);
}

uint64_t smtp_max_size(void)
{
    return runtime ? runtime->cfg->smtp_max_message_size : 10u << 20;
}

/* RFC 5321 4.5.3.2.7: the server waits at least 5 minutes for the next
 * command; [smtp] timeout sets it for every state. */
static unsigned config_timeout(unsigned state)
{
    if (!runtime)
        return 0;
    return (unsigned)runtime->cfg->smtp_timeout;
}

/* RFC 5321 4.2.2 / RFC 3463 codes for refusals by the session layer. */
static void on_error(struct session *s, enum session_error e, const char *verb)
{
    switch (e) {
    case SERR_LINE_TOO_LONG: /* 4.5.3.1.4 */
        session_reply(s, "500 5.5.6 Line too long");
        break;
    case SERR_SYNTAX:
    case SERR_LITERAL_TOO_BIG: /* SMTP has no literals */
        session_reply(s, "500 5.5.2 Syntax error");
        break;
    case SERR_UNKNOWN:
        session_reply(s, "500 5.5.1 Command unrecognized");
        break;
    case SERR_BAD_STATE:
    case SERR_ALREADY_AUTH:
    case SERR_ALREADY_TLS:
        session_reply(s, "503 5.5.1 Bad sequence of commands");
        break;
    case SERR_NEEDS_TLS: /* RFC 3207 4 */
        session_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
        break;
    case SERR_NEEDS_AUTH: /* RFC 4954 6 */
        session_reply(s, "530 5.7.0 Authentication required");
        break;
    case SERR_TOO_MANY:
        session_reply(s, "421 4.7.0 Too many errors, closing");
        break;
    case SERR_PEER_LIMIT: /* RFC 3463 4.7.0: a policy of this server */
        session_reply(s, "421 4.7.0 Too many connections from your address, closing");
        break;
    case SERR_SERVER_FULL: /* RFC 3463 4.3.2: not accepting messages now */
        session_reply(s, "421 4.3.2 Too many connections, try again later");
        break;
    case SERR_TIMEOUT: /* 4.5.3.2.7 */
        session_reply(s, "421 4.4.2 Timeout, closing");
        break;
    case SERR_SHUTDOWN:
        session_reply(s, "421 4.3.2 Shutting down");
        break;
    }
}

static const struct proto mx_proto = {
    .name = "smtp",
    .max_line = SMTP_MAX_LINE,
    .idle_timeout_sec = 300,
    .config_timeout = config_timeout,
    .commands = mx_commands,
    .state_names = state_names,
    .on_open = on_open_mx,
    .on_close = on_close,
    .on_error = on_error,
};

static const struct proto submission_proto = {
    .name = "submission",
    .login_deadline = true,
    .max_line = SMTP_MAX_LINE,
    .idle_timeout_sec = 300,
    .config_timeout = config_timeout,
    .commands = submission_commands,
    .state_names = state_names,
    .on_open = on_open_submission,
    .on_close = on_close,
    .on_error = on_error,
};

static void start_mx(struct conn *c)
{
    session_start(c, &mx_proto);
}

static void start_submission(struct conn *c)
{
    session_start(c, &submission_proto);
}

const struct service_impl smtp_service = {"smtp", start_mx};
const struct service_impl submission_service = {"submission", start_submission};

/* ---- async work ---- */

int smtp_async(struct session *s, void (*work)(void *job), smtp_done_fn done, void *job)
{
    if (session_work(s, work, done, job) == 0)
        return 0;
    done(NULL, job);
    session_reply(s, "451 4.3.0 Temporary server error");
    return -1;
}
