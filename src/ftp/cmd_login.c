/* cmd_login: access control commands (RFC 959 4.1.1 USER PASS ACCT REIN
 * QUIT), security (RFC 4217 AUTH PBSZ PROT) and RFC 7151 HOST. Passwords go
 * through auth/login (throttled, checked on the work pool); anonymous
 * logins, when [ftp] anonymous_root is set, are read-only. */
#include "ftp/ftp.h"

#include "auth/login.h"
#include "core/log.h"
#include "ftp/parse.h"
#include "ftp/transfer.h"
#include "store/sandbox.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static bool anonymous_enabled(void)
{
    return runtime && runtime->cfg->ftp_anonymous_root[0];
}

static bool is_anonymous(const char *name)
{
    return strcasecmp(name, "anonymous") == 0 || strcasecmp(name, "ftp") == 0;
}

void ftp_cmd_user(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    if (!args[0]) {
        session_reply(s, "501 Syntax: USER name");
        return;
    }
    bool anon = is_anonymous(args) && anonymous_enabled();
    if (!anon && !session_plaintext_auth_ok(s, true)) {
        /* RFC 4217 4: a password must not cross the network in clear. */
        session_reply(s, "530 Login requires TLS: send AUTH TLS first");
        return;
    }
    char *name = strdup(anon ? "anonymous" : args);
    if (!name) {
        session_reply(s, "451 Local error: out of memory");
        return;
    }
    free(f->pending_user);
    f->pending_user = name;
    session_set_state(s, FTP_PASS);
    if (anon)
        session_reply(s, "331 Anonymous login ok, send your e-mail address as password");
    else
        session_reply(s, "331 Password required for %s", name);
}

static void login_failed(struct ftp *f, const char *why)
{
    free(f->pending_user);
    f->pending_user = NULL;
    session_set_state(f->s, FTP_LOGIN);
    session_reply(f->s, "530 %s", why);
}

static void pass_done(struct session *s, enum login_result r, const struct account *acct)
{
    struct ftp *f = ftp_of(s);
    if (r != LOGIN_OK) {
        login_failed(f, r == LOGIN_LOCKED  ? "Too many failed logins, try again later"
                        : r == LOGIN_ERROR ? "Temporary failure, try again later"
                                           : "Login incorrect");
        return;
    }
    int root = store_files_root_open(runtime->datadir_fd, acct->domain, acct->local);
    if (root < 0 || ftp_enter(f, root, false) < 0) {
        log_warn(s->id, "ftp files_root_failed user=%s", acct->address);
        s->authenticated = false;
        login_failed(f, "Cannot open your file area");
        return;
    }
    session_reply(s, "230 User %s logged in", acct->address);
}

static void pass_anonymous(struct ftp *f)
{
    int root = open(runtime->cfg->ftp_anonymous_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root < 0 || ftp_enter(f, root, true) < 0) {
        log_warn(f->s->id, "ftp anonymous_root_failed");
        login_failed(f, "Anonymous access unavailable");
        return;
    }
    f->s->authenticated = true;
    snprintf(f->s->user, sizeof f->s->user, "anonymous");
    conn_set_user(f->s->conn, "anonymous");
    log_info(f->s->id, "ftp login anonymous peer=%s", f->s->conn->peer_ip);
    session_reply(f->s, "230 Anonymous access granted, read-only");
}

void ftp_cmd_pass(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    if (strcmp(f->pending_user, "anonymous") == 0 && anonymous_enabled()) {
        pass_anonymous(f);
        return;
    }
    int r = login_start(s, f->pending_user, args, pass_done);
    explicit_bzero(args, strlen(args)); /* login copied it */
    if (r < 0)
        login_failed(f, "Login incorrect");
}

void ftp_cmd_acct(struct session *s, char *args)
{
    session_reply(s, "202 ACCT not needed on this server");
}

void ftp_cmd_rein(struct session *s, char *args)
{
    ftp_reset(ftp_of(s));
    session_reply(s, "220 Service ready for new user");
}

void ftp_cmd_quit(struct session *s, char *args)
{
    xfer_free(ftp_of(s)); /* a running transfer is dropped */
    session_reply(s, "221 Goodbye");
    session_close(s);
}

void ftp_cmd_auth(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    /* RFC 4217 4: "TLS"; "SSL" and "TLS-C" are old clients' names for it. */
    if (strcasecmp(args, "TLS") != 0 && strcasecmp(args, "SSL") != 0 &&
        strcasecmp(args, "TLS-C") != 0) {
        session_reply(s, "504 AUTH type not supported");
        return;
    }
    session_reply(s, "234 AUTH TLS successful");
    ftp_reset(f); /* RFC 4217 4: the session starts over under TLS */
    f->pbsz = f->prot_p = false;
    if (session_starttls(s) < 0)
        session_close(s);
}

void ftp_cmd_pbsz(struct session *s, char *args)
{
    uint64_t n;
    if (ftp_parse_u64(args, 10, &n) < 0) {
        session_reply(s, "501 Syntax: PBSZ 0");
        return;
    }
    ftp_of(s)->pbsz = true;
    session_reply(s, "200 PBSZ=0"); /* RFC 4217 9: TLS needs no buffer size */
}

bool ftp_require_tls_data(void)
{
    return runtime && runtime->cfg->ftp_require_tls_data;
}

bool ftp_clear_data_refused(struct ftp *f)
{
    return session_tls(f->s) && !f->prot_p && ftp_require_tls_data();
}

void ftp_cmd_prot(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    /* RFC 4217 9 wants PBSZ before PROT; PROT C only restates the default
     * (clear data), so it is accepted without (Python's ftplib.prot_c()
     * sends exactly that; vsftpd and ProFTPD accept it). */
    if (!f->pbsz && strcasecmp(args, "C") != 0) {
        session_reply(s, "503 PBSZ first");
        return;
    }
    if (strcasecmp(args, "C") == 0 && ftp_require_tls_data()) {
        /* RFC 4217 9: 534, refused by policy ([ftp] require_tls_data). */
        session_reply(s, "534 Clear data connections are not allowed, use PROT P");
    } else if (strcasecmp(args, "C") == 0 || strcasecmp(args, "P") == 0) {
        f->prot_p = (args[0] | 0x20) == 'p';
        session_reply(s, "200 Protection level set to %c", f->prot_p ? 'P' : 'C');
    } else if (strcasecmp(args, "S") == 0 || strcasecmp(args, "E") == 0) {
        session_reply(s, "536 Protection level not supported");
    } else {
        session_reply(s, "504 Unknown protection level");
    }
}

void ftp_cmd_host(struct session *s, char *args)
{
    /* RFC 7151 3: one server answers for every host name. */
    if (!args[0]) {
        session_reply(s, "501 Syntax: HOST name");
        return;
    }
    session_reply(s, "220 Host accepted");
}
