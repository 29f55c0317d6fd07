/* imap session: the protocol descriptor (command table with the states of
 * RFC 9051 3, literal announcements of RFC 9051 4.3 / RFC 7888 / RFC 3516,
 * per-state timeouts of 5.4), the greeting, error replies, CAPABILITY,
 * NOOP and LOGOUT (RFC 9051 6.1). */
#include "imap/imap.h"

#include "core/config.h"
#include "core/log.h"
#include "imap/parse.h"
#include "imap/seqset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"not-authenticated", "authenticated",
                                          "selected", "logout"};

/* RFC 9051 5.4: 30 minutes once authenticated (IDLE included); a client
 * that has not logged in gets a minute. */
static const unsigned state_timeouts[] = {
    [IMAP_NOT_AUTHENTICATED] = IMAP_TIMEOUT_PREAUTH_SEC,
    [IMAP_AUTHENTICATED] = IMAP_TIMEOUT_AUTH_SEC,
    [IMAP_SELECTED] = IMAP_TIMEOUT_AUTH_SEC,
    [IMAP_LOGOUT] = IMAP_TIMEOUT_PREAUTH_SEC,
};

#define ANY (STATE_BIT(IMAP_NOT_AUTHENTICATED) | STATE_BIT(IMAP_AUTHENTICATED) | SEL)
#define NOAUTH STATE_BIT(IMAP_NOT_AUTHENTICATED)
#define AUTH (STATE_BIT(IMAP_AUTHENTICATED) | SEL)
#define SEL STATE_BIT(IMAP_SELECTED)

/* The session matches two-word verbs ("UID FETCH") before one-word ones. */
static const struct command commands[] = {
    {"CAPABILITY", ANY, 0, imap_cmd_capability},
    {"NOOP", ANY, 0, imap_cmd_noop},
    {"LOGOUT", ANY, 0, imap_cmd_logout},
    {"STARTTLS", NOAUTH, CMD_NO_TLS, imap_cmd_starttls},
    {"LOGIN", NOAUTH, 0, imap_cmd_login},
    {"AUTHENTICATE", NOAUTH, 0, imap_cmd_authenticate},
    {"ENABLE", STATE_BIT(IMAP_AUTHENTICATED), 0, imap_cmd_enable},
    {"ID", ANY, 0, imap_cmd_id},
    {"NAMESPACE", AUTH, 0, imap_cmd_namespace},
    {"COMPRESS", AUTH, 0, imap_cmd_compress},
    {"SELECT", AUTH, 0, imap_cmd_select},
    {"EXAMINE", AUTH, 0, imap_cmd_examine},
    {"CREATE", AUTH, 0, imap_cmd_create},
    {"DELETE", AUTH, 0, imap_cmd_delete},
    {"RENAME", AUTH, 0, imap_cmd_rename},
    {"SUBSCRIBE", AUTH, 0, imap_cmd_subscribe},
    {"UNSUBSCRIBE", AUTH, 0, imap_cmd_unsubscribe},
    {"LIST", AUTH, 0, imap_cmd_list},
    {"LSUB", AUTH, 0, imap_cmd_lsub},
    {"STATUS", AUTH, 0, imap_cmd_status},
    {"GETQUOTAROOT", AUTH, 0, imap_cmd_getquotaroot},
    {"GETQUOTA", AUTH, 0, imap_cmd_getquota},
    {"SETQUOTA", AUTH, 0, imap_cmd_setquota},
    {"APPEND", AUTH, 0, imap_cmd_append},
    {"IDLE", AUTH, 0, imap_cmd_idle},
    {"UNSELECT", SEL, 0, imap_cmd_unselect},
    {"CLOSE", SEL, 0, imap_cmd_close},
    {"CHECK", SEL, 0, imap_cmd_noop}, /* RFC 3501 6.4.1 (rev1; mbsync sends it) */
    {"UID EXPUNGE", SEL, 0, imap_cmd_uid_expunge},
    {"UID STORE", SEL, 0, imap_cmd_uid_store},
    {"UID COPY", SEL, 0, imap_cmd_uid_copy},
    {"UID MOVE", SEL, 0, imap_cmd_uid_move},
    {"EXPUNGE", SEL, 0, imap_cmd_expunge},
    {"STORE", SEL, 0, imap_cmd_store},
    {"COPY", SEL, 0, imap_cmd_copy},
    {"MOVE", SEL, 0, imap_cmd_move},
    IMAP_FETCH_COMMANDS{NULL, 0, 0, NULL},
};

uint64_t imap_appendlimit(void)
{
    if (runtime && runtime->cfg->imap_max_message_size)
        return runtime->cfg->imap_max_message_size;
    if (runtime && runtime->cfg->smtp_max_message_size)
        return runtime->cfg->smtp_max_message_size;
    return IMAP_DEFAULT_APPENDLIMIT;
}

/* RFC 9051 7.2.2 (and the list): advertised exactly as they work.
 * Before TLS off loopback: LOGINDISABLED and no AUTH= (RFC 9051 6.2.3,
 * 11.1); STARTTLS only before TLS; COMPRESS=DEFLATE once logged in and
 * until it is on (RFC 4978 3). */
void imap_capabilities(struct session *s, char *buf, size_t len)
{
    bool preauth = s->state == IMAP_NOT_AUTHENTICATED;
    char limit[48];
    snprintf(limit, sizeof limit, "APPENDLIMIT=%llu",
             (unsigned long long)imap_appendlimit());
    const char *starttls = "";
    const char *login = "";
    if (preauth && !session_tls(s))
        starttls = " STARTTLS";
    if (preauth && session_plaintext_auth_ok(s, true))
        login = " AUTH=PLAIN AUTH=LOGIN SASL-IR";
    else if (preauth)
        login = " LOGINDISABLED";
    const char *compress = "";
    if (!preauth && !session_compressed(s))
        compress = " COMPRESS=DEFLATE";
    snprintf(buf, len,
             "IMAP4rev1 IMAP4rev2%s%s LITERAL+ ENABLE IDLE NAMESPACE ID UIDPLUS MOVE "
             "UNSELECT CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE STATUS=SIZE "
             "CONDSTORE QRESYNC %s OBJECTID UTF8=ACCEPT " IMAP_CAPS_SEARCH "%s%s",
             starttls, login, limit, imap_quota_caps(), compress);
}

struct imap_parser *imap_parser_for(struct session *s, char *args, char *err,
                                    size_t errlen)
{
    size_t n = 0;
    const struct session_literal *lits = session_literals(s, &n);
    unsigned flags = 0;
    if (imap_utf8(s))
        flags |= IMAP_PARSE_UTF8;
    else
        flags |= IMAP_PARSE_MUTF7;
    struct imap_parser *p = imap_parser_new(args, lits, n, flags, err, errlen);
    if (!p)
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
    return p;
}

void imap_set_state(struct session *s, enum imap_state st)
{
    struct imap *im = imap_of(s);
    if (st != IMAP_SELECTED && im->view) {
        imap_view_free(im->view);
        im->view = NULL;
    }
    session_set_state(s, st);
}

/* RFC 9051 7.1.1: the greeting carries the capabilities. */
static void imap_open(struct session *s)
{
    struct imap *im = calloc(1, sizeof *im);
    if (!im) {
        session_close(s);
        return;
    }
    s->data = im;
    session_set_max_literal(s, imap_appendlimit());
    char caps[512];
    imap_capabilities(s, caps, sizeof caps);
    session_reply(s, "* OK [CAPABILITY %s] portico IMAP4rev2 ready", caps);
}

static void imap_close(struct session *s)
{
    struct imap *im = imap_of(s);
    if (!im)
        return;
    imap_bus_stop(s);
    if (im->stream_free)
        im->stream_free(im->stream_arg);
    imap_view_free(im->view);
    imap_seqset_free(&im->saved);
    free(im);
    s->data = NULL;
}

/* A goodbye (RFC 9051 7.1.5) for the errors that end the session. */
static bool error_ends(struct session *s, enum session_error e)
{
    switch (e) {
    case SERR_TOO_MANY:
        session_reply(s, "* BYE too many errors or commands");
        return true;
    case SERR_PEER_LIMIT:
        session_reply(s, "* BYE [UNAVAILABLE] too many connections from your address");
        return true;
    case SERR_SERVER_FULL:
        session_reply(s, "* BYE [UNAVAILABLE] too many connections, try again later");
        return true;
    case SERR_TIMEOUT:
        session_reply(s, "* BYE autologout: idle for too long");
        return true;
    case SERR_SHUTDOWN:
        session_reply(s, "* BYE [UNAVAILABLE] server shutting down");
        return true;
    default:
        return false;
    }
}

static void imap_session_error(struct session *s, enum session_error e, const char *verb)
{
    static const char *const text[] = {
        [SERR_LINE_TOO_LONG] = "BAD [TOOBIG] command line too long",
        [SERR_SYNTAX] = "BAD syntax error",
        [SERR_UNKNOWN] = "BAD unknown command",
        [SERR_BAD_STATE] = "BAD command not valid in this state",
        [SERR_NEEDS_TLS] = "NO [PRIVACYREQUIRED] use STARTTLS first",
        [SERR_NEEDS_AUTH] = "BAD log in first",
        [SERR_ALREADY_AUTH] = "BAD already logged in",
        [SERR_ALREADY_TLS] = "BAD TLS is already active",
        [SERR_LITERAL_TOO_BIG] = "NO [TOOBIG] literal too large",
    };
    if (error_ends(s, e))
        return;
    if ((unsigned)e >= sizeof text / sizeof text[0] || !text[e]) {
        session_reply(s, "* BAD error");
        return;
    }
    /* RFC 9051 7.1.3: tagged when the tag is known, "* BAD" otherwise. */
    if (s->tag[0])
        session_reply(s, "%s %s", s->tag, text[e]);
    else
        session_reply(s, "* %s", text[e]);
}

/* RFC 9051 4.3: "{n}", "{n+}", "{n-}" (RFC 7888) and "~{n}" (RFC 3516 4.3)
 * at the very end of a line. */
static bool imap_literal_at_end(const char *line, size_t len, struct literal_ann *ann)
{
    if (len < 3 || line[len - 1] != '}')
        return false;
    size_t end = len - 1;
    bool sync = true;
    if (line[end - 1] == '+' || line[end - 1] == '-') {
        sync = false;
        end--;
    }
    size_t start = end;
    while (start > 0 && line[start - 1] >= '0' && line[start - 1] <= '9')
        start--;
    if (start == end || start == 0 || line[start - 1] != '{' || end - start > 20)
        return false;
    uint64_t n = 0;
    for (size_t i = start; i < end; i++) {
        unsigned d = (unsigned)(line[i] - '0');
        if (n > (UINT64_MAX - d) / 10)
            return false;
        n = n * 10 + d;
    }
    ann->len = n;
    ann->sync = sync;
    ann->binary = start >= 2 && line[start - 2] == '~';
    return true;
}

/* RFC 9051 7.5: the continuation request for a synchronising literal. */
static void imap_continue(struct session *s)
{
    session_reply(s, "+ Ready for literal data");
}

void imap_cmd_capability(struct session *s, char *args)
{
    char caps[512];
    imap_capabilities(s, caps, sizeof caps);
    session_reply(s, "* CAPABILITY %s", caps);
    imap_tagged(s, "OK", "CAPABILITY completed");
}

/* RFC 9051 6.1.2: NOOP is the poll: the updates of the selected mailbox. */
void imap_cmd_noop(struct session *s, char *args)
{
    imap_done(s, IMAP_REFRESH_ALWAYS, "OK", "NOOP completed");
}

/* RFC 9051 6.1.3: BYE first, then the tagged OK. */
void imap_cmd_logout(struct session *s, char *args)
{
    session_reply(s, "* BYE portico IMAP4rev2 server signing off");
    imap_tagged(s, "OK", "LOGOUT completed");
    imap_set_state(s, IMAP_LOGOUT);
    session_close(s);
}

/* A client that has not logged in is not left idle longer than
 * [portico] login_timeout gives it to log in at all. */
static unsigned config_timeout(unsigned state)
{
    if (state != IMAP_NOT_AUTHENTICATED || !runtime)
        return 0;
    int login = runtime->cfg->login_timeout;
    if (login > 0 && login < IMAP_TIMEOUT_PREAUTH_SEC)
        return (unsigned)login;
    return 0;
}

static const struct proto imap_proto = {
    .name = "imap",
    .login_deadline = true,
    .max_line = IMAP_MAX_LINE,
    .tagged = true,
    .idle_timeout_sec = IMAP_TIMEOUT_AUTH_SEC,
    .state_timeouts = state_timeouts,
    .config_timeout = config_timeout,
    .commands = commands,
    .state_names = state_names,
    .literal_at_end = imap_literal_at_end,
    .max_literal = IMAP_DEFAULT_APPENDLIMIT,
    .on_continue = imap_continue,
    .on_open = imap_open,
    .on_close = imap_close,
    .on_error = imap_session_error,
};

static void imap_start(struct conn *c)
{
    session_start(c, &imap_proto);
}

const struct service_impl imap_service = {"imap", imap_start};
