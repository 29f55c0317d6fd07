/* session: the FTP control connection on top of the core line-protocol
 * layer: the command table (which carries the state policy of RFC 959 6),
 * the greeting, the error replies, login entry/reset and path helpers. */
#include "ftp/ftp.h"

#include "core/log.h"
#include "ftp/data.h"
#include "ftp/parse.h"
#include "ftp/transfer.h"
#include "store/sandbox.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const state_names[FTP_STATE_COUNT] = {
    [FTP_LOGIN] = "login",    [FTP_PASS] = "pass",     [FTP_USER] = "user",
    [FTP_ANON] = "anonymous", [FTP_XFER] = "transfer",
};

#define PRE (STATE_BIT(FTP_LOGIN) | STATE_BIT(FTP_PASS))
#define READ (STATE_BIT(FTP_USER) | STATE_BIT(FTP_ANON)) /* logged in */
#define WRITE STATE_BIT(FTP_USER)                        /* not anonymous */
#define XFER STATE_BIT(FTP_XFER)
#define ANY (PRE | READ | XFER)

/* RFC 959 4.1 and 5.3.1, RFC 2389, 2428, 3659, 4217, 7151; X* aliases are
 * RFC 775's, still sent by some clients. */
static const struct command commands[] = {
    {"USER", PRE, 0, ftp_cmd_user},
    {"PASS", STATE_BIT(FTP_PASS), 0, ftp_cmd_pass},
    {"ACCT", PRE | READ, 0, ftp_cmd_acct},
    {"REIN", PRE | READ, 0, ftp_cmd_rein},
    {"QUIT", ANY, 0, ftp_cmd_quit},
    {"AUTH", PRE, CMD_NO_TLS, ftp_cmd_auth},
    {"PBSZ", PRE | READ, CMD_NEEDS_TLS, ftp_cmd_pbsz},
    {"PROT", PRE | READ, CMD_NEEDS_TLS, ftp_cmd_prot},
    {"HOST", PRE, 0, ftp_cmd_host},
    {"CLNT", PRE | READ, 0, ftp_cmd_clnt},
    {"FEAT", PRE | READ, 0, ftp_cmd_feat},
    {"OPTS", PRE | READ, 0, ftp_cmd_opts},
    {"HELP", PRE | READ, 0, ftp_cmd_help},
    {"NOOP", ANY, 0, ftp_cmd_noop},
    {"SYST", PRE | READ, 0, ftp_cmd_syst},
    {"STAT", ANY, 0, ftp_cmd_stat},
    {"ABOR", READ | XFER, 0, ftp_cmd_abor},
    {"SITE", READ, 0, ftp_cmd_site},
    {"ALLO", READ, 0, ftp_cmd_allo},
    {"SMNT", READ, 0, ftp_cmd_smnt},
    {"TYPE", READ, 0, ftp_cmd_type},
    {"STRU", READ, 0, ftp_cmd_stru},
    {"MODE", READ, 0, ftp_cmd_mode},
    {"CWD", READ, 0, ftp_cmd_cwd},
    {"XCWD", READ, 0, ftp_cmd_cwd},
    {"CDUP", READ, 0, ftp_cmd_cdup},
    {"XCUP", READ, 0, ftp_cmd_cdup},
    {"PWD", READ, 0, ftp_cmd_pwd},
    {"XPWD", READ, 0, ftp_cmd_pwd},
    {"SIZE", READ, 0, ftp_cmd_size},
    {"MDTM", READ, 0, ftp_cmd_mdtm},
    {"MLST", READ, 0, ftp_cmd_mlst},
    {"PORT", READ, 0, ftp_cmd_port},
    {"EPRT", READ, 0, ftp_cmd_eprt},
    {"PASV", READ, 0, ftp_cmd_pasv},
    {"EPSV", READ, 0, ftp_cmd_epsv},
    {"REST", READ, 0, ftp_cmd_rest},
    {"RETR", READ, 0, ftp_cmd_retr},
    {"LIST", READ, 0, ftp_cmd_list},
    {"NLST", READ, 0, ftp_cmd_nlst},
    {"MLSD", READ, 0, ftp_cmd_mlsd},
    {"STOR", WRITE, 0, ftp_cmd_stor},
    {"STOU", WRITE, 0, ftp_cmd_stou},
    {"APPE", WRITE, 0, ftp_cmd_appe},
    {"MKD", WRITE, 0, ftp_cmd_mkd},
    {"XMKD", WRITE, 0, ftp_cmd_mkd},
    {"RMD", WRITE, 0, ftp_cmd_rmd},
    {"XRMD", WRITE, 0, ftp_cmd_rmd},
    {"DELE", WRITE, 0, ftp_cmd_dele},
    {"RNFR", WRITE, 0, ftp_cmd_rnfr},
    {"RNTO", WRITE, 0, ftp_cmd_rnto},
    {"MFMT", WRITE, 0, ftp_cmd_mfmt},
    {NULL, 0, 0, NULL},
};

const struct command *ftp_commands(void)
{
    return commands;
}

/* RFC 959 5.4: an idle control connection may be closed; during a transfer
 * the data connection has its own timeout ([ftp] data_timeout). */
static const unsigned state_timeouts[FTP_STATE_COUNT] = {
    [FTP_LOGIN] = FTP_IDLE_TIMEOUT_SEC,
    [FTP_PASS] = FTP_IDLE_TIMEOUT_SEC,
    [FTP_USER] = FTP_IDLE_TIMEOUT_SEC,
    [FTP_ANON] = FTP_IDLE_TIMEOUT_SEC,
    [FTP_XFER] = 0,
};

/* [ftp] idle_timeout, for every state but a transfer. */
static unsigned config_timeout(unsigned state)
{
    if (!runtime || state == FTP_XFER)
        return 0;
    return (unsigned)runtime->cfg->ftp_idle_timeout;
}

/* RFC 959 4.1.3: ABOR may arrive as Telnet IP/Synch before the verb. */
static size_t filter_line(struct session *s, char *line, size_t len)
{
    return ftp_strip_telnet(line, len);
}

static void remember_addresses(struct ftp *f)
{
    evutil_socket_t fd = conn_socket_fd(f->s->conn);
    f->peerlen = sizeof f->peer;
    f->locallen = sizeof f->local;
    if (getpeername(fd, (struct sockaddr *)&f->peer, &f->peerlen) < 0)
        f->peerlen = 0;
    if (getsockname(fd, (struct sockaddr *)&f->local, &f->locallen) < 0)
        f->locallen = 0;
    /* ftplib sends ABOR with MSG_OOB: keep the urgent byte in the stream. */
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_OOBINLINE, &one, sizeof one);
}

static void on_open(struct session *s)
{
    struct ftp *f = calloc(1, sizeof *f);
    if (!f) {
        session_reply(s, "421 Out of memory");
        session_close(s);
        return;
    }
    f->s = s;
    f->rootfd = -1;
    s->data = f;
    remember_addresses(f);
    session_set_state(s, FTP_LOGIN);
    session_reply(s, "220 portico FTP server ready");
}

static void on_close(struct session *s)
{
    struct ftp *f = s->data;
    if (!f)
        return;
    ftp_reset(f);
    free(f);
    s->data = NULL;
}

static void refuse_state(struct session *s, const char *verb)
{
    switch (s->state) {
    case FTP_LOGIN:
    case FTP_PASS:
        if (verb && strcmp(verb, "PASS") == 0)
            session_reply(s, "503 Login with USER first");
        else
            session_reply(s, "530 Please login with USER and PASS");
        return;
    case FTP_ANON:
        session_reply(s, "550 Permission denied: anonymous access is read-only");
        return;
    case FTP_XFER:
        session_reply(s, "503 A transfer is in progress: ABOR, STAT, NOOP or QUIT");
        return;
    default:
        session_reply(s, "503 Bad sequence of commands: already logged in");
    }
}

static void on_error(struct session *s, enum session_error e, const char *verb)
{
    switch (e) {
    case SERR_LINE_TOO_LONG:
        session_reply(s, "500 Command line too long");
        break;
    case SERR_SYNTAX:
    case SERR_LITERAL_TOO_BIG: /* FTP has no literals */
        session_reply(s, "500 Syntax error, command unrecognized");
        break;
    case SERR_UNKNOWN:
        session_reply(s, "500 Unknown command");
        break;
    case SERR_BAD_STATE:
    case SERR_NEEDS_AUTH:
    case SERR_ALREADY_AUTH:
        refuse_state(s, verb);
        break;
    case SERR_NEEDS_TLS:
        session_reply(s, "503 %s needs TLS: send AUTH TLS first", verb ? verb : "This");
        break;
    case SERR_ALREADY_TLS:
        session_reply(s, "503 TLS is already active");
        break;
    case SERR_TOO_MANY:
        session_reply(s, "421 Too many errors or commands, closing");
        break;
    case SERR_PEER_LIMIT:
        session_reply(s, "421 Too many connections from your address, closing");
        break;
    case SERR_SERVER_FULL:
        session_reply(s, "421 Too many connections, try again later");
        break;
    case SERR_TIMEOUT:
        session_reply(s, "421 Idle timeout, closing control connection");
        break;
    case SERR_SHUTDOWN:
        session_reply(s, "421 Service shutting down");
        break;
    }
}

static const struct proto ftp_proto = {
    .name = "ftp",
    .login_deadline = true,
    .max_line = FTP_MAX_LINE,
    .state_timeouts = state_timeouts,
    .config_timeout = config_timeout,
    .commands = commands,
    .state_names = state_names,
    .filter_line = filter_line,
    .on_open = on_open,
    .on_close = on_close,
    .on_error = on_error,
};

static void ftp_start(struct conn *c)
{
    session_start(c, &ftp_proto);
}

const struct service_impl ftp_service = {"ftp", ftp_start};

/* ---- helpers shared by the command files ---- */

int ftp_path(struct ftp *f, const char *args, char *out)
{
    if (!args[0]) {
        session_reply(f->s, "501 Syntax error: a path is required");
        return -1;
    }
    for (const char *p = args; *p; p++)
        if ((unsigned char)*p < 0x20) { /* no CR/LF games in replies or names */
            session_reply(f->s, "553 File name not allowed");
            return -1;
        }
    if (sandbox_join(f->cwd, args, strlen(args), out, STORE_MAX_PATH + 1) < 0) {
        session_reply(f->s, "553 File name not allowed");
        return -1;
    }
    return 0;
}

void ftp_reply_errno(struct ftp *f, int err, const char *what)
{
    switch (err) {
    case ENOENT:
        session_reply(f->s, "550 %s: No such file or directory", what);
        break;
    case EEXIST:
        session_reply(f->s, "550 %s: File exists", what);
        break;
    case ENOTEMPTY:
        session_reply(f->s, "550 %s: Directory not empty", what);
        break;
    case ENOTDIR:
        session_reply(f->s, "550 %s: Not a directory", what);
        break;
    case EISDIR:
        session_reply(f->s, "550 %s: Is a directory", what);
        break;
    case ENOSPC:
    case EDQUOT:
        session_reply(f->s, "452 %s: Insufficient storage space", what);
        break;
    case EINVAL:
    case ENAMETOOLONG:
        session_reply(f->s, "553 %s: File name not allowed", what);
        break;
    default: /* EXDEV, ELOOP (an escape attempt), EACCES, EPERM ... */
        session_reply(f->s, "550 %s: Permission denied", what);
    }
}

int ftp_enter(struct ftp *f, int rootfd, bool anonymous)
{
    char *cwd = strdup("/");
    if (!cwd) {
        close(rootfd);
        return -1;
    }
    free(f->cwd);
    f->cwd = cwd;
    f->rootfd = rootfd;
    free(f->pending_user);
    f->pending_user = NULL;
    session_set_state(f->s, anonymous ? FTP_ANON : FTP_USER);
    return 0;
}

void ftp_reset(struct ftp *f)
{
    xfer_free(f);
    data_close(f);
    if (f->rootfd >= 0)
        close(f->rootfd);
    f->rootfd = -1;
    free(f->cwd);
    free(f->pending_user);
    free(f->rnfr);
    f->cwd = f->pending_user = f->rnfr = NULL;
    f->ascii = f->epsv_all = false;
    f->rest = 0;
    f->s->authenticated = false;
    f->s->user[0] = '\0';
    session_set_state(f->s, FTP_LOGIN);
}

void ftp_xfer_state(struct ftp *f, bool running)
{
    if (running) {
        if (f->s->state != FTP_XFER)
            f->prev_state = f->s->state;
        session_set_state(f->s, FTP_XFER);
        return;
    }
    if (f->s->state == FTP_XFER)
        session_set_state(f->s, f->prev_state);
}
