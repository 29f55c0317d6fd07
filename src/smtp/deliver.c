/* deliver: the end of a mail transaction. On the loop: the trace header
 * (RFC 5321 4.4 Received, with TLS details; Return-Path for local copies)
 * and moving the transaction into a job. On the pool: every local copy is
 * staged and fsynced, remote recipients are written to the queue, and only
 * then are the local copies committed. Then one reply (3.3): 250 only when
 * every copy is safe; otherwise nothing was delivered and the reply is a
 * temporary failure (over quota: 452 4.2.2). */
#include "store/deliver.h"
#include "auth/accounts.h"
#include "core/log.h"
#include "core/metrics.h"
#include "queue/queue.h"
#include "queue/srs.h"
#include "smtp/smtp.h"
#include "smtp/spool.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TRACE_MAX 2048

struct deliver_job {
    uint64_t sid;
    enum service svc; /* smtp or submission, for the metrics */
    char from[SMTP_MAX_PATH + 1];
    struct smtp_rcpt *rcpts;
    size_t nrcpt;
    int spoolfd;
    char received[TRACE_MAX]; /* LF form */
    char envid[QUEUE_ENVID_MAX];
    enum queue_ret ret;
    bool smtputf8, body8;
    size_t nqueued;
    char qid[QUEUE_ID_MAX];
    char reply[160];
};

/* RFC 3848: the "with" keyword. */
static const char *with_protocol(struct session *s)
{
    struct smtp *m = smtp_of(s);
    static const char *const names[2][2][2] = {
        {{"SMTP", "SMTP"}, {"SMTPS", "SMTPS"}},
        {{"ESMTP", "ESMTPA"}, {"ESMTPS", "ESMTPSA"}},
    };
    if (m->txn.smtputf8)
        return s->authenticated ? (session_tls(s) ? "UTF8SMTPSA" : "UTF8SMTPA")
                                : (session_tls(s) ? "UTF8SMTPS" : "UTF8SMTP");
    return names[m->esmtp][session_tls(s)][s->authenticated];
}

static void build_received(struct session *s, char *out, size_t outlen)
{
    struct smtp *m = smtp_of(s);
    char tls[160] = "", date[64];
    conn_tls_describe(s->conn, tls, sizeof tls);
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", localtime_r(&now, &tm));
    char *sp = strchr(tls, ' ');
    if (sp)
        *sp++ = '\0';
    char tlsline[200] = "";
    if (tls[0])
        snprintf(tlsline, sizeof tlsline, "\t(using %s with cipher %s)\n", tls,
                 sp ? sp : "?");
    char forline[SMTP_MAX_PATH + 16] = "";
    if (m->txn.nrcpt == 1) /* only one: naming several would leak Bcc */
        snprintf(forline, sizeof forline, "\n\tfor <%s>", m->txn.rcpts[0].address);
    snprintf(out, outlen,
             "Received: from %s ([%s])\n%s\tby %s (portico) with %s id %016" PRIx64
             "%s;\n"
             "\t%s\n",
             m->helo[0] ? m->helo : "unknown", s->conn->peer_ip, tlsline,
             runtime ? runtime->cfg->hostname : "localhost", with_protocol(s), s->id,
             forline, date);
}

static bool seen_before(const struct deliver_job *j, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (j->rcpts[k].local && j->rcpts[k].acct.id == j->rcpts[i].acct.id)
            return true;
    return false;
}

static void free_staged(struct store_delivery **d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_delivery_free(d[i]);
}

/* Stages every local copy (one per account); d[i] NULL for the rest. */
static enum store_result stage_all(struct deliver_job *j, struct store_delivery **d,
                                   const char *prefix)
{
    const struct config *c = runtime->cfg;
    struct store_quota q = {c->mail_quota_bytes, (uint64_t)c->mail_quota_messages};
    for (size_t i = 0; i < j->nrcpt; i++) {
        if (!j->rcpts[i].local || seen_before(j, i))
            continue;
        enum store_result r =
            store_delivery_stage(runtime->datadir_fd, &j->rcpts[i].acct, "INBOX", prefix,
                                 j->spoolfd, &q, &d[i]);
        if (r != STORE_OK)
            return r;
    }
    return STORE_OK;
}

/* The envelope sender of forwarded copies: SRS-rewritten (queue/srs.h)
 * when the original sender is not in a local domain, so the destination's
 * SPF check passes; "" when no rewrite is needed. */
static void forward_sender(const struct deliver_job *j, char *out, size_t len)
{
    char secret[SRS_SECRET_MAX], primary[256] = "localhost";
    const char *at = strrchr(j->from, '@');
    out[0] = '\0';
    if (!at || authdb_domain_is_local(runtime->authdb, at + 1) != 0)
        return; /* null sender, or ours (an error means: leave it) */
    sscanf(runtime->cfg->domains, "%255[^ ,\t]", primary);
    if (srs_secret_load(runtime->datadir_fd, runtime->cfg->relay_srs_secret, secret,
                        sizeof secret) < 0 ||
        srs_forward(secret, j->from, primary, (int64_t)time(NULL), out, len) < 0)
        out[0] = '\0';
}

/* Remote recipients go to the queue as one entry per envelope sender
 * (relay/ splits it per destination), with the RFC 3461 parameters of the
 * submission; forwarded ones (a local alias pointing out) under the SRS
 * sender. */
static int queue_some(struct deliver_job *j, bool forwarded, const char *from, char *id,
                      size_t idlen, size_t *nq)
{
    const char *targets[SMTP_MAX_RCPT], *orcpt[SMTP_MAX_RCPT];
    unsigned notify[SMTP_MAX_RCPT];
    size_t n = 0;
    for (size_t i = 0; i < j->nrcpt; i++) {
        if (j->rcpts[i].local || j->rcpts[i].forwarded != forwarded)
            continue;
        targets[n] = j->rcpts[i].target;
        notify[n] = j->rcpts[i].notify;
        orcpt[n++] = j->rcpts[i].orcpt;
    }
    *nq += n;
    if (n == 0)
        return 0;
    struct queue_new q = {
        .from = from,
        .rcpts = targets,
        .notify = notify,
        .orcpt = orcpt,
        .nrcpt = n,
        .envid = j->envid,
        .ret = j->ret,
        .smtputf8 = j->smtputf8,
        .body8 = j->body8,
    };
    if (queue_write(runtime->datadir_fd, j->received, j->spoolfd, &q, id, idlen) < 0)
        return -1;
    queue_announce(id);
    return 0;
}

static int queue_remote(struct deliver_job *j, char *id, size_t idlen, size_t *nq)
{
    char srs[QUEUE_ADDR_MAX], fwd_id[QUEUE_ID_MAX] = "";
    *nq = 0;
    if (queue_some(j, false, j->from, id, idlen, nq) < 0)
        return -1;
    forward_sender(j, srs, sizeof srs);
    const char *from = j->from;
    if (srs[0])
        from = srs;
    if (queue_some(j, true, from, fwd_id, sizeof fwd_id, nq) < 0)
        return -1;
    if (!id[0])
        snprintf(id, idlen, "%s", fwd_id);
    return 0;
}

static void deliver_work(void *arg)
{
    struct deliver_job *j = arg;
    struct store_delivery **d = calloc(j->nrcpt, sizeof *d);
    char prefix[TRACE_MAX + SMTP_MAX_PATH + 32];
    snprintf(prefix, sizeof prefix, "Return-Path: <%s>\n%s", j->from, j->received);
    enum store_result r = d ? stage_all(j, d, prefix) : STORE_ERROR;
    if (r == STORE_OK && queue_remote(j, j->qid, sizeof j->qid, &j->nqueued) < 0)
        r = STORE_ERROR;
    int failed = r == STORE_OK ? store_delivery_commit_all(d, j->nrcpt) : 0;
    if (r == STORE_OVER_QUOTA)
        snprintf(j->reply, sizeof j->reply, "452 4.2.2 Mailbox full");
    else if (r == STORE_NO_SPACE) /* RFC 3463 3.4 */
        snprintf(j->reply, sizeof j->reply, "452 4.3.1 Insufficient system storage");
    else if (r != STORE_OK || failed)
        snprintf(j->reply, sizeof j->reply, "451 4.3.0 Local delivery failed");
    else
        snprintf(j->reply, sizeof j->reply, "250 2.0.0 OK id=%016" PRIx64 "%s%s", j->sid,
                 j->qid[0] ? " queued as " : "", j->qid);
    if (d)
        free_staged(d, j->nrcpt);
    free(d);
}

static void deliver_done(struct session *s, void *arg)
{
    struct deliver_job *j = arg;
    if (j->reply[0] == '2') /* delivered even when the client has gone */
        metrics_add(j->svc, MET_DELIVERIES, j->nrcpt);
    if (s) {
        /* "delivered" only for local copies; queued ones are the relay's. */
        log_info(s->id, "smtp accepted local=%zu queued=%zu queue_id=%s reply=\"%.40s\"",
                 j->nrcpt - j->nqueued, j->nqueued, j->qid[0] ? j->qid : "-", j->reply);
        session_reply(s, "%s", j->reply);
    }
    smtp_spool_put(j->spoolfd);
    free(j->rcpts);
    free(j);
}

void smtp_deliver_start(struct session *s)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    struct deliver_job *j = calloc(1, sizeof *j);
    if (!j) {
        session_reply(s, "451 4.3.0 Out of memory");
        smtp_txn_reset(s);
        return;
    }
    j->sid = s->id;
    j->svc = s->conn->svc;
    snprintf(j->from, sizeof j->from, "%s", t->from);
    build_received(s, j->received, sizeof j->received);
    snprintf(j->envid, sizeof j->envid, "%s", t->envid);
    j->ret = t->ret;
    j->smtputf8 = t->smtputf8;
    j->body8 = t->body8;
    /* The job owns the recipients and the spool from here on. */
    j->rcpts = t->rcpts;
    j->nrcpt = t->nrcpt;
    j->spoolfd = t->spoolfd;
    t->rcpts = NULL;
    t->spoolfd = -1;
    smtp_txn_reset(s);
    smtp_async(s, deliver_work, deliver_done, j);
}
