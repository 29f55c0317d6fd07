/* smtp: the SMTP receiver's session state shared by its command files
 * (RFC 5321): the role (MX or submission), the state machine, and the mail
 * transaction being built. Internal to smtp/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "core/limits.h"
#include "core/loop.h"
#include "core/session.h"
#include "queue/queue.h"
#include "smtp/dot.h"
#include "smtp/parse.h"

/* RFC 5321 4.1.4 command order, as session states. */
enum smtp_state {
    SMTP_INIT,  /* greeted; EHLO/HELO expected */
    SMTP_READY, /* EHLO done; MAIL (or AUTH, STARTTLS) */
    SMTP_MAIL,  /* MAIL accepted; RCPT */
    SMTP_RCPT,  /* at least one RCPT; more RCPT, DATA or BDAT */
    SMTP_BDAT,  /* RFC 3030: chunks until BDAT LAST */
    SMTP_NSTATES,
};

enum smtp_role { SMTP_ROLE_MX, SMTP_ROLE_SUBMISSION };

struct smtp_rcpt {
    bool local;
    struct account acct;                /* local: the account */
    char address[SMTP_MAX_PATH + 1];    /* as the client wrote it */
    char target[AUTH_MAX_USERNAME + 1]; /* remote: where the queue sends it */
    bool forwarded;                     /* remote via a local alias (SRS) */
    unsigned notify;                    /* RFC 3461 4.1 NOTIFY (QN_* bits) */
    char orcpt[QUEUE_ORCPT_MAX];        /* RFC 3461 4.2 ORCPT, as given */
};

struct smtp_txn {
    bool active;
    char from[SMTP_MAX_PATH + 1]; /* "" for the null reverse-path */
    bool smtputf8, body8;
    uint64_t declared;           /* RFC 1870 SIZE=, 0 if not given */
    char envid[QUEUE_ENVID_MAX]; /* RFC 3461 4.4 ENVID */
    enum queue_ret ret;          /* RFC 3461 4.3 RET */
    struct smtp_rcpt *rcpts;
    size_t nrcpt;
    int spoolfd; /* the body so far (CRLF form), or -1 */
    uint64_t bytes;
    bool too_big, spool_failed, bdat_last;
    bool no_space; /* the spool or the store is full (ENOSPC, EDQUOT) */
    struct dot dot;
};

struct smtp {
    enum smtp_role role;
    char helo[SMTP_MAX_HELO + 1];
    bool esmtp;
    struct smtp_txn txn;
    const char *pending_error; /* reply after a refused BDAT chunk is consumed */
};

static inline struct smtp *smtp_of(struct session *s)
{
    return s->data;
}

/* service.c */
void smtp_txn_reset(struct session *s); /* RFC 5321 4.1.1.5: back to READY */
uint64_t smtp_max_size(void);
/* session_work, answering 451 when the work cannot start (done(NULL, job)
 * frees the job then too). */
typedef session_work_done_fn smtp_done_fn;
int smtp_async(struct session *s, void (*work)(void *job), smtp_done_fn done, void *job);

/* cmd_basic.c */
void smtp_cmd_ehlo(struct session *s, char *args);
void smtp_cmd_helo(struct session *s, char *args);
void smtp_cmd_rset(struct session *s, char *args);
void smtp_cmd_noop(struct session *s, char *args);
void smtp_cmd_quit(struct session *s, char *args);
void smtp_cmd_vrfy(struct session *s, char *args);
void smtp_cmd_help(struct session *s, char *args);
void smtp_cmd_starttls(struct session *s, char *args);
/* cmd_auth.c */
void smtp_cmd_auth(struct session *s, char *args);
/* cmd_envelope.c */
void smtp_cmd_mail(struct session *s, char *args);
void smtp_cmd_rcpt(struct session *s, char *args);
/* cmd_data.c */
void smtp_cmd_data(struct session *s, char *args);
void smtp_cmd_bdat(struct session *s, char *args);
/* deliver.c: delivers the finished transaction, replies, resets. */
void smtp_deliver_start(struct session *s);
