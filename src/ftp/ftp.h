/* ftp: the FTP session's shared state and the functions the ftp/ files call
 * on each other. The control connection is a core line-protocol session
 * (session.c holds the command table); data connections are data.c;
 * transfers are transfer.c; listings list.c. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/loop.h"
#include "core/session.h"

/* RFC 959 6 (state diagrams): before USER, after USER, logged in (an account
 * or anonymous, read-only) and while a transfer runs. Policy in the table:
 * a write command is allowed only in FTP_USER; in FTP_XFER only ABOR, STAT,
 * QUIT and NOOP (RFC 959 4.1.3). */
enum ftp_state { FTP_LOGIN, FTP_PASS, FTP_USER, FTP_ANON, FTP_XFER, FTP_STATE_COUNT };

struct ftp_data;
struct ftp_xfer;

struct ftp {
    struct session *s;
    int rootfd;          /* the user's file area, -1 before login */
    char *cwd;           /* virtual path, "/" at login */
    char *pending_user;  /* USER name awaiting PASS */
    char *rnfr;          /* RNFR path awaiting RNTO */
    bool ascii;          /* TYPE A */
    bool pbsz;           /* RFC 4217 9: PBSZ seen */
    bool prot_p;         /* RFC 4217 9: PROT P */
    bool epsv_all;       /* RFC 2428 4: EPSV ALL */
    uint64_t rest;       /* RFC 3659 5: REST offset for the next transfer */
    unsigned prev_state; /* state to return to after a transfer */
    unsigned tmp_seq;    /* upload temp names */
    struct sockaddr_storage peer, local; /* of the control connection */
    socklen_t peerlen, locallen;
    struct ftp_data *data;
    struct ftp_xfer *xfer;
};

extern const struct service_impl ftp_service;

/* [ftp] require_tls_data: with TLS on the control connection, data
 * connections must be TLS too (PROT C is refused, 534; transfers without
 * PROT P get 521). */
bool ftp_require_tls_data(void);
bool ftp_clear_data_refused(struct ftp *f);

static inline struct ftp *ftp_of(struct session *s)
{
    return s->data;
}

/* session.c */
/* Joins args to the cwd (sandbox_join); replies 501/553 and returns -1 on a
 * bad path. out holds STORE_MAX_PATH + 1 bytes. */
int ftp_path(struct ftp *f, const char *args, char *out);
/* Replies 550/552/553 for a failed file operation (errno). */
void ftp_reply_errno(struct ftp *f, int err, const char *what);
/* After a successful login: opens the root, sets the state. 0 or -1. */
int ftp_enter(struct ftp *f, int rootfd, bool anonymous);
/* Drops login, transfer and data state (REIN, AUTH TLS). */
void ftp_reset(struct ftp *f);
/* Marks the start and the end of a transfer (state, control timeout). */
void ftp_xfer_state(struct ftp *f, bool running);
const struct command *ftp_commands(void);

/* Command handlers, one file per group. */
/* cmd_login.c: RFC 959 4.1.1, RFC 4217, RFC 7151 */
void ftp_cmd_user(struct session *s, char *args);
void ftp_cmd_pass(struct session *s, char *args);
void ftp_cmd_acct(struct session *s, char *args);
void ftp_cmd_rein(struct session *s, char *args);
void ftp_cmd_quit(struct session *s, char *args);
void ftp_cmd_auth(struct session *s, char *args);
void ftp_cmd_pbsz(struct session *s, char *args);
void ftp_cmd_prot(struct session *s, char *args);
void ftp_cmd_host(struct session *s, char *args);
/* cmd_info.c: RFC 959 4.1.2/4.1.3, RFC 2389 */
void ftp_cmd_syst(struct session *s, char *args);
void ftp_cmd_feat(struct session *s, char *args);
void ftp_cmd_opts(struct session *s, char *args);
void ftp_cmd_help(struct session *s, char *args);
void ftp_cmd_noop(struct session *s, char *args);
void ftp_cmd_clnt(struct session *s, char *args);
void ftp_cmd_stat(struct session *s, char *args);
void ftp_cmd_site(struct session *s, char *args);
void ftp_cmd_allo(struct session *s, char *args);
void ftp_cmd_smnt(struct session *s, char *args);
void ftp_cmd_type(struct session *s, char *args);
void ftp_cmd_stru(struct session *s, char *args);
void ftp_cmd_mode(struct session *s, char *args);
/* cmd_fs.c: RFC 959 4.1.1/4.1.3, RFC 3659 */
void ftp_cmd_cwd(struct session *s, char *args);
void ftp_cmd_cdup(struct session *s, char *args);
void ftp_cmd_pwd(struct session *s, char *args);
void ftp_cmd_mkd(struct session *s, char *args);
void ftp_cmd_rmd(struct session *s, char *args);
void ftp_cmd_dele(struct session *s, char *args);
void ftp_cmd_rnfr(struct session *s, char *args);
void ftp_cmd_rnto(struct session *s, char *args);
void ftp_cmd_size(struct session *s, char *args);
void ftp_cmd_mdtm(struct session *s, char *args);
void ftp_cmd_mfmt(struct session *s, char *args);
void ftp_cmd_mlst(struct session *s, char *args);
void ftp_site_chmod(struct ftp *f, char *args);
/* cmd_port.c: RFC 959 4.1.2, RFC 2428 */
void ftp_cmd_port(struct session *s, char *args);
void ftp_cmd_eprt(struct session *s, char *args);
void ftp_cmd_pasv(struct session *s, char *args);
void ftp_cmd_epsv(struct session *s, char *args);
/* cmd_xfer.c: RFC 959 4.1.3, RFC 3659 */
void ftp_cmd_retr(struct session *s, char *args);
void ftp_cmd_stor(struct session *s, char *args);
void ftp_cmd_stou(struct session *s, char *args);
void ftp_cmd_appe(struct session *s, char *args);
void ftp_cmd_rest(struct session *s, char *args);
void ftp_cmd_abor(struct session *s, char *args);
void ftp_cmd_list(struct session *s, char *args);
void ftp_cmd_nlst(struct session *s, char *args);
void ftp_cmd_mlsd(struct session *s, char *args);
/* STAT <path> (RFC 959 4.1.3): the listing over the control connection. */
void ftp_stat_path(struct ftp *f, const char *args);
