/* cmd_envelope: MAIL (RFC 5321 4.1.1.2 with RFC 1870 SIZE, RFC 6152 BODY,
 * RFC 6531 SMTPUTF8, RFC 4954 AUTH=) and RCPT (4.1.1.3). Address lookups
 * run on the work pool; the session waits (pipelined lines stay queued). */
#include "auth/recipient.h"
#include "core/idna.h"
#include "core/log.h"
#include "queue/queue.h"
#include "queue/srs.h"
#include "smtp/smtp.h"
#include "store/mailbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* One lookup on the pool: the question and the reply line to send. */
struct lookup {
    char address[AUTH_MAX_USERNAME + 1]; /* unquoted local@domain */
    char user[AUTH_MAX_USERNAME + 1];    /* submission: the account */
    bool authenticated;
    bool null_sender;
    bool rcpt_remote_ok;
    uint64_t size;
    struct smtp_rcpt rcpt; /* RCPT: the result */
    char reply[160];
};

/* local@domain as the account store compares it: an international domain
 * (RFC 6531 with SMTPUTF8) as its A-label, so RCPT TO:<u@bücher.example>
 * finds u@xn--bcher-kva.example. A domain that is no valid IDN stays as
 * written (and matches nothing). 0, or -1 when it does not fit. */
static int lookup_address(const struct smtp_addr *a, char *out, size_t outlen)
{
    char ascii[256];
    const char *domain = a->domain;
    if (!idna_is_ascii(domain) && idna_to_ascii(domain, ascii, sizeof ascii) == 0)
        domain = ascii;
    int n = snprintf(out, outlen, "%s@%s", a->local, domain);
    if (n < 0 || (size_t)n >= outlen)
        return -1;
    return 0;
}

static void parse_error_reply(struct session *s, enum smtp_parse_error e)
{
    if (e == SMTP_PARSE_UTF8) /* RFC 6531 3.4 */
        session_reply(s, "553 5.6.7 Non-ASCII address requires SMTPUTF8");
    else if (e == SMTP_PARSE_TOO_LONG) /* 4.5.3.1 */
        session_reply(s, "501 5.1.3 Address or parameters too long");
    else
        session_reply(s, "501 5.1.3 Bad address syntax");
}

/* RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 4954 5 AUTH=. */
static int mail_params(struct session *s, const struct smtp_args *a)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    for (int i = 0; i < a->nparams; i++) {
        const struct smtp_param *p = &a->params[i];
        unsigned long long v;
        if (strcmp(p->key, "SIZE") == 0 && p->value &&
            smtp_parse_u64(p->value, &v) == 0) {
            if (v > smtp_max_size()) {
                session_reply(s, "552 5.3.4 Message size exceeds fixed limit");
                return -1;
            }
            t->declared = v;
        } else if (strcmp(p->key, "BODY") == 0 && p->value &&
                   (strcasecmp(p->value, "7BIT") == 0 ||
                    strcasecmp(p->value, "8BITMIME") == 0)) {
            t->body8 = strcasecmp(p->value, "8BITMIME") == 0;
        } else if (strcmp(p->key, "SMTPUTF8") == 0 && !p->value) {
            t->smtputf8 = true;
        } else if (strcmp(p->key, "RET") == 0 && p->value && t->ret == QRET_DEFAULT &&
                   strcasecmp(p->value, "FULL") == 0) { /* RFC 3461 4.3 */
            t->ret = QRET_FULL;
        } else if (strcmp(p->key, "RET") == 0 && p->value && t->ret == QRET_DEFAULT &&
                   strcasecmp(p->value, "HDRS") == 0) {
            t->ret = QRET_HDRS;
        } else if (strcmp(p->key, "ENVID") == 0 && p->value && !t->envid[0] &&
                   smtp_xtext_valid(p->value, QUEUE_ENVID_MAX - 1)) { /* 4.4 */
            snprintf(t->envid, sizeof t->envid, "%s", p->value);
        } else if (strcmp(p->key, "AUTH") != 0 || !p->value) {
            session_reply(s, "555 5.5.4 MAIL parameter not recognized: %.31s", p->key);
            return -1;
        }
    }
    return 0;
}

static void mail_accept(struct session *s, const char *from)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    snprintf(t->from, sizeof t->from, "%s", from);
    t->active = true;
    session_set_state(s, SMTP_MAIL);
    session_reply(s, "250 2.1.0 OK");
}

static void sender_work(void *arg)
{
    struct lookup *l = arg;
    int ok = recipient_sender_allowed(runtime->authdb, l->user, l->address);
    if (ok < 0)
        snprintf(l->reply, sizeof l->reply, "451 4.3.0 Temporary lookup failure");
    else if (ok == 0) /* RFC 6409 4.1 */
        snprintf(l->reply, sizeof l->reply, "553 5.7.1 Sender address not owned by %.64s",
                 l->user);
}

static void sender_done(struct session *s, void *arg)
{
    struct lookup *l = arg;
    if (s && l->reply[0]) {
        smtp_txn_reset(s);
        session_reply(s, "%s", l->reply);
    } else if (s) {
        mail_accept(s, l->address);
    }
    free(l);
}

void smtp_cmd_mail(struct session *s, char *args)
{
    struct smtp_args a;
    enum smtp_parse_error e = smtp_parse_mail_rcpt(args, "FROM", false, &a);
    if (e != SMTP_PARSE_OK) {
        parse_error_reply(s, e);
        return;
    }
    if (mail_params(s, &a) < 0) {
        smtp_txn_reset(s);
        return;
    }
    if (smtp_of(s)->role == SMTP_ROLE_MX) {
        mail_accept(s, a.addr.null ? "" : a.addr.address);
        return;
    }
    struct lookup *l = calloc(1, sizeof *l);
    if (!l || a.addr.null) {
        free(l);
        session_reply(s, a.addr.null ? "553 5.7.1 Null sender not allowed here"
                                     : "451 4.3.0 Out of memory");
        return;
    }
    if (lookup_address(&a.addr, l->address, sizeof l->address) < 0) {
        /* unquoted can outgrow quoted */
        free(l);
        session_reply(s, "501 5.1.3 Address too long");
        return;
    }
    snprintf(l->user, sizeof l->user, "%s", s->user);
    smtp_async(s, sender_work, sender_done, l);
}

/* ---- RCPT ---- */

static void rcpt_local(struct lookup *l, const struct rcpt_target *t)
{
    l->rcpt.local = true;
    l->rcpt.acct = t->acct;
    const struct config *c = runtime->cfg;
    int q = store_quota_check(runtime->datadir_fd, &t->acct, l->size, c->mail_quota_bytes,
                              (uint64_t)c->mail_quota_messages);
    if (q > 0) /* RFC 3463 4.2.2: temporary, the sender retries */
        snprintf(l->reply, sizeof l->reply, "452 4.2.2 Mailbox full");
    else if (q < 0)
        snprintf(l->reply, sizeof l->reply, "451 4.3.0 Temporary mailbox failure");
}

/* A bounce to one of our SRS addresses (queue/srs.h) goes back to the
 * original sender; anything else sent to one, or one that does not verify,
 * is refused. Returns true when it answered (l->reply or l->rcpt set). */
static bool rcpt_srs(struct lookup *l)
{
    char primary[256] = "localhost", secret[SRS_SECRET_MAX], orig[QUEUE_ADDR_MAX];
    const struct config *c = runtime->cfg;
    if (strncasecmp(l->address, "SRS0=", 5) != 0)
        return false;
    sscanf(c->domains, "%255[^ ,\t]", primary);
    if (srs_secret_load(runtime->datadir_fd, c->relay_srs_secret, secret, sizeof secret) <
        0) {
        snprintf(l->reply, sizeof l->reply, "451 4.3.0 Temporary lookup failure");
        return true;
    }
    enum srs_result r = srs_reverse(secret, l->address, primary, (int64_t)time(NULL),
                                    c->relay_srs_max_age, orig, sizeof orig);
    switch (r) {
    case SRS_NOT_SRS:
        return false;
    case SRS_OK:
        break;
    case SRS_MALFORMED:
        snprintf(l->reply, sizeof l->reply, "550 5.1.1 Malformed SRS address");
        return true;
    case SRS_BAD_HASH:
        snprintf(l->reply, sizeof l->reply,
                 "550 5.7.1 Forged SRS address: its hash does not verify");
        return true;
    case SRS_EXPIRED:
        snprintf(l->reply, sizeof l->reply,
                 "550 5.1.1 Expired SRS address: older than %d days",
                 c->relay_srs_max_age);
        return true;
    }
    if (!l->null_sender) { /* only bounces come back this way */
        snprintf(l->reply, sizeof l->reply,
                 "550 5.7.1 This SRS address accepts only bounces (null sender)");
        return true;
    }
    snprintf(l->rcpt.target, sizeof l->rcpt.target, "%s", orig);
    l->rcpt.forwarded = true;
    log_info(0, "smtp srs_reverse rcpt=%s to=%s", l->address, orig);
    return true;
}

static void rcpt_work(void *arg)
{
    struct lookup *l = arg;
    struct rcpt_target t;
    const char *catch_all = runtime->cfg->smtp_catch_all;
    if (rcpt_srs(l))
        return;
    switch (recipient_resolve(runtime->authdb, l->address, catch_all, &t)) {
    case RCPT_LOCAL:
        rcpt_local(l, &t);
        break;
    case RCPT_REMOTE:
        /* The recipient itself is elsewhere: relaying needs AUTH (never an
         * open relay); a local alias forwarding out is the admin's choice. */
        if (strcasecmp(t.address, l->address) != 0) {
            snprintf(l->rcpt.target, sizeof l->rcpt.target, "%s", t.address);
            l->rcpt.forwarded = true;
        } else if (l->authenticated) /* as written: quotes kept for the next hop */
            snprintf(l->rcpt.target, sizeof l->rcpt.target, "%s", l->rcpt.address);
        else
            snprintf(l->reply, sizeof l->reply, "554 5.7.1 Relay access denied");
        break;
    case RCPT_UNKNOWN:
        snprintf(l->reply, sizeof l->reply, "550 5.1.1 User unknown");
        break;
    case RCPT_LOOP:
        snprintf(l->reply, sizeof l->reply, "550 5.4.6 Alias loop");
        break;
    case RCPT_ERROR:
        snprintf(l->reply, sizeof l->reply, "451 4.3.0 Temporary lookup failure");
        break;
    }
}

static void rcpt_done(struct session *s, void *arg)
{
    struct lookup *l = arg;
    struct smtp_txn *t = s ? &smtp_of(s)->txn : NULL;
    if (t && !l->reply[0] && t->nrcpt < SMTP_MAX_RCPT) {
        t->rcpts[t->nrcpt++] = l->rcpt;
        session_set_state(s, SMTP_RCPT);
        session_reply(s, "250 2.1.5 OK");
    } else if (t) {
        session_reply(s, "%s", l->reply[0] ? l->reply : "452 4.5.3 Too many recipients");
    }
    free(l);
}

/* RFC 3461 4.1 NOTIFY=NEVER | SUCCESS,FAILURE,DELAY and 4.2
 * ORCPT=addr-type;xtext. Anything else is refused. */
static int rcpt_params(const struct smtp_args *a, unsigned *notify, char *orcpt,
                       size_t orcptlen)
{
    for (int i = 0; i < a->nparams; i++) {
        const struct smtp_param *p = &a->params[i];
        if (!p->value)
            return -1;
        if (strcmp(p->key, "NOTIFY") == 0 && *notify == 0) {
            *notify = smtp_parse_notify(p->value);
            if (*notify == 0)
                return -1;
        } else if (strcmp(p->key, "ORCPT") == 0 && !orcpt[0] && strchr(p->value, ';') &&
                   smtp_xtext_valid(strchr(p->value, ';') + 1, orcptlen - 1)) {
            snprintf(orcpt, orcptlen, "%s", p->value);
        } else {
            return -1;
        }
    }
    return 0;
}

/* 4.1.1.3: "<Postmaster>" is the primary domain's postmaster. */
static int rcpt_address(const struct smtp_addr *a, char *out, size_t outlen)
{
    char primary[256] = "localhost";
    if (runtime)
        sscanf(runtime->cfg->domains, "%255[^ ,\t]", primary);
    if (a->postmaster) {
        int n = snprintf(out, outlen, "postmaster@%s", primary);
        return n < 0 || (size_t)n >= outlen ? -1 : 0;
    }
    return lookup_address(a, out, outlen);
}

void smtp_cmd_rcpt(struct session *s, char *args)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    struct smtp_args a;
    enum smtp_parse_error e = smtp_parse_mail_rcpt(args, "TO", t->smtputf8, &a);
    if (e == SMTP_PARSE_OK && a.addr.null)
        e = SMTP_PARSE_SYNTAX;
    if (e != SMTP_PARSE_OK) {
        parse_error_reply(s, e);
        return;
    }
    unsigned notify = 0;
    char orcpt[QUEUE_ORCPT_MAX] = "";
    if (rcpt_params(&a, &notify, orcpt, sizeof orcpt) < 0) {
        session_reply(s, "555 5.5.4 RCPT parameters not recognized");
        return;
    }
    if (t->nrcpt >= SMTP_MAX_RCPT) { /* 4.5.3.1.8 */
        session_reply(s, "452 4.5.3 Too many recipients");
        return;
    }
    if (!t->rcpts && !(t->rcpts = calloc(SMTP_MAX_RCPT, sizeof *t->rcpts))) {
        session_reply(s, "451 4.3.0 Out of memory");
        return;
    }
    struct lookup *l = calloc(1, sizeof *l);
    if (!l) {
        session_reply(s, "451 4.3.0 Out of memory");
        return;
    }
    int n = rcpt_address(&a.addr, l->address, sizeof l->address) < 0
                ? -1
                : snprintf(l->rcpt.address, sizeof l->rcpt.address, "%s",
                           a.addr.postmaster ? l->address : a.addr.address);
    if (n < 0 || (size_t)n >= sizeof l->rcpt.address) {
        free(l);
        session_reply(s, "501 5.1.3 Address too long");
        return;
    }
    l->authenticated = s->authenticated;
    l->null_sender = t->from[0] == '\0';
    l->size = t->declared;
    l->rcpt.notify = notify;
    snprintf(l->rcpt.orcpt, sizeof l->rcpt.orcpt, "%s", orcpt);
    smtp_async(s, rcpt_work, rcpt_done, l);
}
