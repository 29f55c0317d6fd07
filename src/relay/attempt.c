/* attempt: one outbound SMTP connection of a destination (RFC 5321 as a
 * client, on core's client session). Next hop: the MX records by
 * preference (5.1), the domain itself when it has none (implicit MX), a
 * null MX (RFC 7505) a permanent failure; or the route / smarthost host.
 * Each host's AAAA and A addresses are tried in turn (core/connect.h).
 * Then: greeting, EHLO with [portico] hostname, STARTTLS when offered
 * (RFC 3207; policy per hop: opportunistic for MX, required for the
 * smarthost, per route), AUTH PLAIN at a smarthost (RFC 4954), and one
 * transaction per job: MAIL with SIZE (RFC 1870), BODY=8BITMIME (RFC 6152),
 * SMTPUTF8 (RFC 6531), RET/ENVID (RFC 3461) as offered, the RCPTs (with
 * NOTIFY/ORCPT), DATA, pipelined when offered (RFC 2920), the next
 * transaction's right behind the previous body, with no RSET after a
 * transaction that ended with its reply. An 8-bit
 * message to a host without 8BITMIME goes as its 7-bit copy (downgrade.h,
 * RFC 6152 3). A domain's MTA-STS policy (mtasts.h, RFC 8461) comes
 * before its MX lookup: enforce keeps the listed MX hosts and demands
 * verified TLS, testing logs. Every recipient's outcome is one log line:
 * queue id, recipient, MX, TLS, reply. */
#include "relay/downgrade.h"
#include "relay/mtasts.h"
#include "relay/relay_int.h"

#include "auth/sasl.h"
#include "core/connect.h"
#include "core/dns.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/session_client.h"

#include <event2/event.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ATT_MAX_HOSTS 8
#define ATT_IDLE_SEC 1 /* a connection left without a job waits this long for one */

/* A transaction whose body is all sent and whose final reply is awaited
 * while the connection goes on with the next job (RFC 2920 3.1). */
struct sent {
    struct job *job; /* NULL until the body is all written */
    int *codes;
    char (*replies)[QUEUE_REPLY_MAX];
};

/* A finished job whose record is being saved (relay_job_done's waiter). */
struct unsaved {
    struct attempt *a;
    struct waiter *w;
    struct unsaved *next;
};

struct attempt {
    struct dest *d;
    struct session *s;
    struct job *job;
    char hosts[ATT_MAX_HOSTS][256];
    int nhosts, hi;
    char host[256];
    struct conn_addr v6[CONNECT_MAX_ADDRS / 2], v4[CONNECT_MAX_ADDRS / 2];
    size_t n6, n4;
    int qpending;
    /* EHLO (RFC 5321 4.1.1.1) */
    bool pipelining, eightbit, smtputf8, dsn, starttls, authed;
    uint64_t size_limit;
    bool tls;
    char tlsdesc[96];
    enum tls_policy policy; /* the hop's, or verified under MTA-STS enforce */
    bool sts;               /* the domain has an MTA-STS policy (testing/enforce) */
    struct mtasts_policy sts_policy;
    bool txn_started; /* reached MAIL once: the host works */
    bool txn_open;    /* the server may hold a sender: RSET before the next MAIL */
    /* the transaction */
    int msgfd;       /* the queued file, or its 7-bit copy */
    off_t sendsize;  /* the size of what msgfd holds (SIZE=) */
    bool converting; /* a pool job is making the 7-bit copy */
    int mail_code;
    int *codes; /* per job recipient: 0 = no final answer yet */
    char (*replies)[QUEUE_REPLY_MAX];
    size_t next_rcpt, rcpts_ok;
    char why[QUEUE_REPLY_MAX];
    struct unsaved *unsaved; /* finished jobs whose record is not yet saved */
    struct sent *sent;       /* the last body's transaction, its reply pending */
    bool body_waiting;       /* the 354 came; the body waits for those saves */
    bool in_next_job, next_job_again;
    struct connect_req *connecting; /* the connection being made, or NULL */
    bool parked;                    /* between transactions, waiting for a job (park) */
    struct event *idle;             /* ends the wait: QUIT */
    struct attempt *prev, *next;    /* every live attempt, for the shutdown */
};

static struct tls_client *tlsc;
static struct attempt *attempts;

static void connect_host(struct attempt *a);
static void start_txn(struct attempt *a);
static void ehlo(struct attempt *a);

static unsigned step_timeout(void)
{
    return (unsigned)relay->cfg->relay_timeout;
}

static void sent_free(struct sent *t)
{
    if (!t)
        return;
    free(t->codes);
    free(t->replies);
    free(t);
}

static void attempt_free(struct attempt *a)
{
    while (a->unsaved) {
        struct unsaved *u = a->unsaved;
        a->unsaved = u->next;
        u->w->fn = NULL; /* the item frees the waiter after its save */
        free(u);
    }
    if (a->prev)
        a->prev->next = a->next;
    else
        attempts = a->next;
    if (a->next)
        a->next->prev = a->prev;
    if (a->msgfd >= 0)
        close(a->msgfd);
    if (a->idle)
        event_free(a->idle);
    free(a->codes);
    free(a->replies);
    sent_free(a->sent);
    free(a);
}

/* ---- results ---- */

static void log_rcpt(struct attempt *a, const struct job *j, size_t k, const char *reply)
{
    const struct item *it = j->it;
    log_info(0, "relay attempt id=%s rcpt=%s mx=%s tls=%s reply=\"%s\"", it->id,
             it->env.rcpts[j->idx[k]].addr, a->host[0] ? a->host : "-",
             a->tls ? a->tlsdesc : "no", reply);
}

/* Each recipient's outcome of job j, logged and recorded: its code and
 * reply, or (no final answer yet: 0) 451 with why. */
static void record_outcomes(struct attempt *a, struct job *j, const int *codes,
                            char (*replies)[QUEUE_REPLY_MAX], const char *why)
{
    for (size_t k = 0; k < j->n; k++) {
        int code = codes[k];
        const char *reply = replies[k];
        if (code == 0) {
            code = 451;
            reply = why;
        }
        log_rcpt(a, j, k, reply);
        relay_rcpt_result(j->it, j->idx[k], code, reply, a->host, 0);
    }
}

static void next_job(struct attempt *a);
static void send_body(struct attempt *a);

/* The job's outcome is on disk. A body held for it may go now. */
static void saved(void *arg)
{
    struct unsaved *u = arg;
    struct attempt *a = u->a;
    for (struct unsaved **p = &a->unsaved; *p; p = &(*p)->next)
        if (*p == u) {
            *p = u->next;
            break;
        }
    free(u);
    if (!a->unsaved && a->body_waiting && a->s) {
        a->body_waiting = false;
        send_body(a);
    }
}

/* Waits for j's record to be saved (relay_job_done) while the next
 * transaction's envelope goes out; only its body waits (send_body). */
static void job_done_tracked(struct attempt *a, struct job *j)
{
    struct unsaved *u = calloc(1, sizeof *u);
    if (!u) {
        relay_job_done(j, NULL, NULL);
        return;
    }
    u->a = a;
    u->next = a->unsaved;
    a->unsaved = u;
    struct waiter *w = relay_job_done(j, saved, u);
    if (w) /* else saved(u) already ran and freed u */
        u->w = w;
}

/* Ends the current job: recipients without a final answer get why (451).
 * go_on: start the next job at once; its body (the end of its DATA) waits
 * until this outcome is saved (RFC 5321 6.1: the responsibility is ours
 * once 250 came), so a crash repeats at most one accepted transaction per
 * connection: the one whose record was not yet rewritten. */
static void finish_job_then(struct attempt *a, const char *why, bool go_on)
{
    struct job *j = a->job;
    record_outcomes(a, j, a->codes, a->replies, why);
    if (a->msgfd >= 0)
        close(a->msgfd);
    a->msgfd = -1;
    a->job = NULL;
    if (!go_on) {
        relay_job_done(j, NULL, NULL);
        return;
    }
    job_done_tracked(a, j);
    if (a->s)
        next_job(a);
}

static void finish_job(struct attempt *a, const char *why)
{
    finish_job_then(a, why, false);
}

/* The usual end of a transaction: the next job. */
static void job_then_next(struct attempt *a, const char *why)
{
    finish_job_then(a, why, true);
}

static void set_all(struct attempt *a, int code, const char *reply, bool only_open)
{
    for (size_t k = 0; k < a->job->n; k++) {
        if (only_open && a->codes[k] != 0)
            continue;
        a->codes[k] = code;
        queue_line_copy(a->replies[k], QUEUE_REPLY_MAX, reply);
    }
}

static void summary(const struct reply *r, char *buf, size_t len)
{
    reply_summary(r, buf, len);
}

/* ---- the session ---- */

static void on_fail(struct session *s, enum session_client_error e, const char *why)
{
    struct attempt *a = s->data;
    snprintf(a->why, sizeof a->why, "451 4.4.2 %s: %s", a->host, why);
}

/* The connection is gone: the job in progress keeps what it learnt; a host
 * that never got to a transaction makes way for the next one. */
static void closed(struct attempt *a);

static void on_close(struct session *s)
{
    struct attempt *a = s->data;
    a->s = NULL;
    if (!a->why[0])
        snprintf(a->why, sizeof a->why, "451 4.4.2 %s: connection closed", a->host);
    if (a->converting) /* the conversion's completion goes on from here */
        return;
    closed(a);
}

/* The body went out but its reply never came: no final answer (451). */
static void finish_sent(struct attempt *a)
{
    struct sent *t = a->sent;
    a->sent = NULL;
    if (t->job) {
        record_outcomes(a, t->job, t->codes, t->replies, a->why);
        relay_job_done(t->job, NULL, NULL);
    }
    sent_free(t);
}

static void closed(struct attempt *a)
{
    if (a->sent)
        finish_sent(a);
    if (!a->txn_started) {
        connect_host(a);
        return;
    }
    if (a->job)
        finish_job(a, a->why);
    relay_dest_conn_done(a->d, false, a->why);
    attempt_free(a);
}

static const struct session_client_ops relay_ops = {
    .name = "relay",
    .on_fail = on_fail,
    .on_close = on_close,
};

static void quit_reply(struct session *s, const struct reply *r, void *arg)
{
    session_close(s);
}

static void rset_reply(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    if (reply_class(r) != 2) {
        session_close(s);
        return;
    }
    if (!a->pipelining)
        start_txn(a);
}

static void idle_cb(evutil_socket_t fd, short what, void *arg)
{
    struct attempt *a = arg;
    a->parked = false;
    if (a->s)
        session_command(a->s, step_timeout(), quit_reply, NULL, "QUIT");
}

/* No job waits for the destination: the connection stays open for
 * ATT_IDLE_SEC (a connection cache, as Postfix's
 * smtp_connection_cache_time_limit), so mail that arrives one message at a
 * time does not pay a new connection, greeting and EHLO for each. 0 when
 * parked, -1 when it cannot wait. */
static int park(struct attempt *a)
{
    struct timeval tv = {ATT_IDLE_SEC, 0};
    if (relay->stopping || relay->loop->stopping)
        return -1;
    if (!a->idle)
        a->idle = evtimer_new(relay->loop->base, idle_cb, a);
    if (!a->idle || evtimer_add(a->idle, &tv) < 0)
        return -1;
    a->parked = true;
    return 0;
}

bool relay_attempt_wake(struct dest *d)
{
    for (struct attempt *a = attempts; a; a = a->next) {
        if (!a->parked || a->d != d || !a->s)
            continue;
        a->parked = false;
        evtimer_del(a->idle);
        next_job(a);
        return true;
    }
    return false;
}

static void next_job_once(struct attempt *a)
{
    a->job = relay_dest_next_job(a->d);
    if (!a->job && park(a) == 0)
        return;
    if (!a->job || relay->loop->stopping) {
        session_command(a->s, step_timeout(), quit_reply, NULL, "QUIT");
        return;
    }
    if (!a->txn_open) { /* RFC 5321 4.1.1.4: the last one ended with its reply */
        start_txn(a);
        return;
    }
    session_command(a->s, step_timeout(), rset_reply, NULL, "RSET");
    if (a->pipelining) /* RFC 2920 3.1: RSET may lead a pipelined group */
        start_txn(a);
}

/* A job refused before anything was sent (precheck) ends inside
 * start_txn and asks for the next one: a loop here, not a recursion as
 * deep as the destination's queue. */
static void next_job(struct attempt *a)
{
    if (a->in_next_job) {
        a->next_job_again = true;
        return;
    }
    a->in_next_job = true;
    do {
        a->next_job_again = false;
        next_job_once(a);
    } while (a->next_job_again && a->s);
    a->in_next_job = false;
}

/* The recipients accepted at RCPT take the outcome of the body. */
static void body_outcome(const struct job *j, int *codes,
                         char (*replies)[QUEUE_REPLY_MAX], const struct reply *r,
                         const char *line)
{
    for (size_t k = 0; k < j->n; k++)
        if (codes[k] == -1) {
            codes[k] = r->code;
            queue_line_copy(replies[k], QUEUE_REPLY_MAX, line);
        }
}

/* The final reply to a body: of a transaction set aside when its body was
 * written (body_written: the next one is under way), or of the current one. */
static void body_reply(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    struct sent *t = arg;
    char line[QUEUE_REPLY_MAX];
    summary(r, line, sizeof line);
    if (t && t->job) {
        a->sent = NULL;
        body_outcome(t->job, t->codes, t->replies, r, line);
        record_outcomes(a, t->job, t->codes, t->replies, line);
        job_done_tracked(a, t->job);
        sent_free(t);
        return;
    }
    if (t) { /* set aside but never written: cannot happen, the reply follows it */
        a->sent = NULL;
        sent_free(t);
    }
    a->txn_open = false;
    body_outcome(a->job, a->codes, a->replies, r, line);
    job_then_next(a, line);
}

/* RFC 2920 3.1: with PIPELINING the next transaction's commands follow the
 * body at once. Its outcome waits in a->sent for the body's reply; the
 * next body still waits for this one's record to be saved (send_body). */
static void body_written(struct session *s, void *arg)
{
    struct attempt *a = s->data;
    struct sent *t = arg;
    t->job = a->job;
    t->codes = a->codes;
    t->replies = a->replies;
    a->job = NULL;
    a->codes = NULL;
    a->replies = NULL;
    if (a->msgfd >= 0)
        close(a->msgfd);
    a->msgfd = -1;
    a->txn_open = false; /* the end of data ends it, whatever the reply */
    next_job(a);
}

static void send_body(struct attempt *a)
{
    unsigned t = step_timeout();
    struct sent *st = NULL;
    if (a->pipelining && !a->sent)
        st = a->sent = calloc(1, sizeof *st);
    if (session_send_body(a->s, a->msgfd, t, t * 2, body_reply, st ? body_written : NULL,
                          st) < 0)
        session_close(a->s);
}

static void data_reply(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    char line[QUEUE_REPLY_MAX];
    summary(r, line, sizeof line);
    if (a->mail_code >= 300 && r->code != 354) {
        job_then_next(a, line);
        return;
    }
    if (r->code == 354 && a->rcpts_ok > 0 && a->mail_code < 300) {
        if (a->unsaved) /* the previous transaction's record first */
            a->body_waiting = true;
        else
            send_body(a);
        return;
    }
    if (r->code == 354) { /* no recipient was accepted: never send the body */
        session_close(s);
        return;
    }
    for (size_t k = 0; k < a->job->n; k++)
        if (a->codes[k] == -1) {
            a->codes[k] = r->code;
            queue_line_copy(a->replies[k], QUEUE_REPLY_MAX, line);
        }
    job_then_next(a, line);
}

static void send_rcpt(struct attempt *a);

static void rcpt_reply(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    size_t k = (size_t)(uintptr_t)arg;
    if (a->mail_code >= 300) /* pipelined after a refused MAIL: that decides */
        return;
    summary(r, a->replies[k], QUEUE_REPLY_MAX);
    if (reply_class(r) == 2) {
        a->codes[k] = -1; /* the DATA reply decides */
        a->rcpts_ok++;
    } else {
        a->codes[k] = r->code;
    }
    if (a->pipelining)
        return;
    if (a->next_rcpt < a->job->n) {
        send_rcpt(a);
    } else if (a->rcpts_ok > 0) {
        session_command(s, step_timeout(), data_reply, NULL, "DATA");
    } else {
        job_then_next(a, "no recipient accepted");
    }
}

static void notify_text(unsigned bits, char *buf, size_t len)
{
    static const char *const names[] = {"NEVER", "SUCCESS", "FAILURE", "DELAY"};
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < 4; i++)
        if (bits & (1u << i)) {
            int n = snprintf(buf + used, len - used, "%s%s", used ? "," : "", names[i]);
            if (n > 0 && (size_t)n < len - used)
                used += (size_t)n;
        }
}

static void send_rcpt(struct attempt *a)
{
    size_t k = a->next_rcpt++;
    const struct queue_rcpt *r = &a->job->it->env.rcpts[a->job->idx[k]];
    char params[QUEUE_ORCPT_MAX + 64] = "", notify[48];
    if (a->dsn && r->notify) { /* RFC 3461 4.1, 4.2 */
        notify_text(r->notify, notify, sizeof notify);
        snprintf(params, sizeof params, " NOTIFY=%s", notify);
    }
    if (a->dsn && r->orcpt[0]) {
        size_t used = strlen(params);
        snprintf(params + used, sizeof params - used, " ORCPT=%s", r->orcpt);
    }
    if (session_command(a->s, step_timeout(), rcpt_reply, (void *)(uintptr_t)k,
                        "RCPT TO:<%s>%s", r->addr, params) < 0)
        session_close(a->s);
}

static void mail_reply(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    char line[QUEUE_REPLY_MAX];
    summary(r, line, sizeof line);
    a->mail_code = r->code;
    if (reply_class(r) != 2) {
        a->txn_open = false;
        set_all(a, r->code, line, false);
        if (!a->pipelining) {
            job_then_next(a, line);
        }
        return;
    }
    if (!a->pipelining)
        send_rcpt(a);
}

/* With PIPELINING the MAIL, RCPT and DATA replies arrive in order; a MAIL
 * refusal overrides what the RCPTs said. */
static void mail_params(struct attempt *a, const struct queue_env *env, char *buf,
                        size_t len)
{
    size_t used = 0;
    int n = 0;
    buf[0] = '\0';
    if (a->size_limit || a->pipelining) /* SIZE was offered (RFC 1870 6) */
        n = snprintf(buf, len, " SIZE=%lld", (long long)a->sendsize);
    if (n > 0)
        used = (size_t)n;
    if (env->body8 && a->eightbit)
        used += (size_t)snprintf(buf + used, len - used, " BODY=8BITMIME");
    if (env->smtputf8 && a->smtputf8)
        used += (size_t)snprintf(buf + used, len - used, " SMTPUTF8");
    if (a->dsn && env->ret == QRET_FULL)
        used += (size_t)snprintf(buf + used, len - used, " RET=FULL");
    if (a->dsn && env->ret == QRET_HDRS)
        used += (size_t)snprintf(buf + used, len - used, " RET=HDRS");
    if (a->dsn && env->envid[0])
        snprintf(buf + used, len - used, " ENVID=%s", env->envid);
}

/* Refusals we know before sending anything (RFC 1870, RFC 6531 3.5). */
static const char *precheck(struct attempt *a)
{
    const struct item *it = a->job->it;
    if (a->size_limit && (uint64_t)a->sendsize > a->size_limit)
        return "552 5.3.4 message larger than the next hop's SIZE limit";
    if (it->env.smtputf8 && !a->smtputf8)
        return "553 5.6.7 the message needs SMTPUTF8 (international addresses) and the "
               "receiving server does not support it";
    return NULL;
}

static int txn_alloc(struct attempt *a)
{
    free(a->codes);
    free(a->replies);
    a->codes = calloc(a->job->n, sizeof *a->codes);
    a->replies = calloc(a->job->n, sizeof *a->replies);
    a->next_rcpt = a->rcpts_ok = 0;
    a->mail_code = 0;
    if (!a->codes || !a->replies)
        return -1;
    if (a->msgfd >= 0)
        close(a->msgfd);
    a->sendsize = a->job->it->msgsize;
    a->msgfd = queue_open_msg(relay->qfd, a->job->it->id);
    return a->msgfd < 0 ? -1 : 0;
}

static void send_envelope(struct attempt *a);

/* ---- the 7-bit copy (RFC 6152 3), made on the pool ---- */

struct downgrade_job {
    struct attempt *a;
    int msgfd; /* the attempt's, borrowed */
    const struct queue_env *env;
    int outfd;
    char why[QUEUE_REPLY_MAX];
};

static void downgrade_work(void *arg)
{
    struct downgrade_job *dj = arg;
    dj->outfd =
        relay_downgrade_fd(relay->qfd, dj->msgfd, dj->env, dj->why, sizeof dj->why);
}

static void downgrade_free(void *arg)
{
    struct downgrade_job *dj = arg;
    if (dj->outfd >= 0)
        close(dj->outfd);
    free(dj);
}

static void downgrade_done(void *arg)
{
    struct downgrade_job *dj = arg;
    struct attempt *a = dj->a;
    a->converting = false;
    if (!a->s) { /* the connection went meanwhile */
        downgrade_free(dj);
        closed(a);
        return;
    }
    if (dj->outfd < 0) {
        log_warn(0, "relay downgrade_failed id=%s why=\"%s\"", a->job->it->id, dj->why);
        set_all(a, 451, dj->why, false);
        downgrade_free(dj);
        job_then_next(a, a->replies[0]);
        return;
    }
    struct stat st;
    close(a->msgfd);
    a->msgfd = dj->outfd;
    dj->outfd = -1;
    if (fstat(a->msgfd, &st) == 0)
        a->sendsize = st.st_size;
    downgrade_free(dj);
    log_info(0, "relay downgraded id=%s host=%s size=%lld", a->job->it->id, a->host,
             (long long)a->sendsize);
    send_envelope(a);
}

static void start_downgrade(struct attempt *a)
{
    struct downgrade_job *dj = calloc(1, sizeof *dj);
    if (!dj) {
        job_then_next(a, "451 4.3.0 out of memory");
        return;
    }
    *dj = (struct downgrade_job){a, a->msgfd, &a->job->it->env, -1, ""};
    a->converting = true;
    if (relay_submit(downgrade_work, downgrade_done, downgrade_free, dj) < 0) {
        a->converting = false;
        free(dj);
        set_all(a, 451, "451 4.3.0 the server is stopping", false);
        job_then_next(a, "451 4.3.0 the server is stopping");
    }
}

static void start_txn(struct attempt *a)
{
    a->txn_started = true;
    if (txn_alloc(a) < 0) {
        job_then_next(a, "451 4.3.0 cannot read the queued message");
        return;
    }
    const struct queue_env *env = &a->job->it->env;
    /* RFC 6152 3: 8-bit content to a server without 8BITMIME is converted,
     * never sent as is. 8-bit headers need SMTPUTF8 (precheck). */
    if (env->body8 && !env->smtputf8 && !a->eightbit) {
        start_downgrade(a);
        return;
    }
    send_envelope(a);
}

/* MAIL, RCPT... and DATA (pipelined when offered). */
static void send_envelope(struct attempt *a)
{
    const char *refusal = precheck(a);
    if (refusal) {
        set_all(a, 550, refusal, false);
        job_then_next(a, refusal);
        return;
    }
    char params[QUEUE_ENVID_MAX + 128];
    const struct queue_env *env = &a->job->it->env;
    mail_params(a, env, params, sizeof params);
    a->txn_open = true;
    session_command(a->s, step_timeout(), mail_reply, NULL, "MAIL FROM:<%s>%s", env->from,
                    params);
    if (!a->pipelining)
        return;
    while (a->next_rcpt < a->job->n)
        send_rcpt(a);
    session_command(a->s, step_timeout(), data_reply, NULL, "DATA");
}

/* ---- greeting, EHLO, STARTTLS, AUTH ---- */

static void auth_reply(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    if (reply_class(r) != 2) {
        char line[QUEUE_REPLY_MAX];
        summary(r, line, sizeof line);
        snprintf(a->why, sizeof a->why, "451 4.7.0 %s refused AUTH: %s", a->host, line);
        session_close(s);
        return;
    }
    a->authed = true;
    start_txn(a);
}

/* RFC 4954 4, RFC 4616: AUTH PLAIN with the initial response. */
static void auth_plain(struct attempt *a)
{
    const struct config *c = relay->cfg;
    char raw[520], b64[720];
    size_t ul = strlen(c->relay_smarthost_user), pl = strlen(c->relay_smarthost_password);
    raw[0] = '\0';
    memcpy(raw + 1, c->relay_smarthost_user, ul);
    raw[1 + ul] = '\0';
    memcpy(raw + 2 + ul, c->relay_smarthost_password, pl);
    if (sasl_base64_encode(raw, ul + pl + 2, b64, sizeof b64) < 0) {
        session_close(a->s);
        return;
    }
    session_command(a->s, step_timeout(), auth_reply, NULL, "AUTH PLAIN %s", b64);
}

static void tls_done(struct session *s, const struct tls_client_result *r, void *arg)
{
    struct attempt *a = s->data;
    if (a->sts && a->sts_policy.mode == MTASTS_TESTING && !r->verified)
        log_warn(0, "relay mta_sts testing domain=%s host=%s would defer: %s",
                 a->d->hop.host, a->host, r->why);
    a->tls = true;
    snprintf(a->tlsdesc, sizeof a->tlsdesc, "%s", r->desc);
    for (char *p = a->tlsdesc; *p; p++)
        if (*p == ' ')
            *p = '/';
    ehlo(a);
}

static void starttls_reply(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    if (r->code == 220 && session_client_starttls(s, tlsc, a->host, a->policy,
                                                  step_timeout(), tls_done, NULL) == 0)
        return;
    if (r->code != 220 && tls_policy_allows_plain(a->policy)) {
        a->starttls = false;
        start_txn(a);
        return;
    }
    snprintf(a->why, sizeof a->why, "451 4.7.5 %s: STARTTLS failed (code %d)", a->host,
             r->code);
    session_close(s);
}

static void parse_ehlo(struct attempt *a, const struct reply *r)
{
    char p[64];
    a->pipelining = reply_has_keyword(r, "PIPELINING", p, sizeof p);
    a->eightbit = reply_has_keyword(r, "8BITMIME", p, sizeof p);
    a->smtputf8 = reply_has_keyword(r, "SMTPUTF8", p, sizeof p);
    a->dsn = reply_has_keyword(r, "DSN", p, sizeof p);
    a->starttls = reply_has_keyword(r, "STARTTLS", p, sizeof p);
    a->size_limit = 0;
    if (reply_has_keyword(r, "SIZE", p, sizeof p))
        a->size_limit = strtoull(p, NULL, 10);
}

static void ehlo_reply(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    if (reply_class(r) != 2) {
        char line[QUEUE_REPLY_MAX];
        summary(r, line, sizeof line);
        snprintf(a->why, sizeof a->why, "451 4.4.0 %s refused EHLO: %s", a->host, line);
        session_close(s);
        return;
    }
    parse_ehlo(a, r);
    if (!a->tls && a->starttls) {
        session_command(s, step_timeout(), starttls_reply, NULL, "STARTTLS");
        return;
    }
    if (!a->tls && a->sts && a->sts_policy.mode == MTASTS_TESTING)
        log_warn(0, "relay mta_sts testing domain=%s host=%s would defer: no STARTTLS",
                 a->d->hop.host, a->host);
    if (!a->tls && !tls_policy_allows_plain(a->policy)) {
        snprintf(a->why, sizeof a->why,
                 "451 4.7.5 %s does not offer STARTTLS and the policy (%s) requires TLS",
                 a->host, tls_policy_name(a->policy));
        session_command(s, step_timeout(), quit_reply, NULL, "QUIT");
        return;
    }
    if (a->d->hop.auth && !a->authed) {
        auth_plain(a);
        return;
    }
    start_txn(a);
}

static void ehlo(struct attempt *a)
{
    session_command(a->s, step_timeout(), ehlo_reply, NULL, "EHLO %s",
                    relay->cfg->hostname);
}

static void greeting(struct session *s, const struct reply *r, void *arg)
{
    struct attempt *a = s->data;
    if (r->code != 220) { /* RFC 5321 3.1: 554 means no service here */
        char line[QUEUE_REPLY_MAX];
        summary(r, line, sizeof line);
        snprintf(a->why, sizeof a->why, "451 4.4.0 %s greeted with %s", a->host, line);
        session_command(s, step_timeout(), quit_reply, NULL, "QUIT");
        return;
    }
    ehlo(a);
}

/* ---- connecting ---- */

static void connected(struct conn *c, int err, void *arg)
{
    struct attempt *a = arg;
    a->connecting = NULL;
    if (!c) {
        snprintf(a->why, sizeof a->why, "451 4.4.1 cannot connect to %s: %s", a->host,
                 strerror(err));
        connect_host(a);
        return;
    }
    a->why[0] = '\0';
    a->tls = false;
    a->authed = false;
    a->s = session_client_start(c, &relay_ops, a);
    if (!a->s) {
        snprintf(a->why, sizeof a->why, "451 4.3.0 out of memory");
        connect_host(a);
        return;
    }
    if (session_expect_reply(a->s, step_timeout(), greeting, NULL) < 0)
        session_close(a->s);
}

static void connect_addrs(struct attempt *a)
{
    struct conn_addr all[CONNECT_MAX_ADDRS];
    size_t n = 0;
    for (size_t i = 0; i < a->n6; i++)
        all[n++] = a->v6[i];
    for (size_t i = 0; i < a->n4; i++)
        all[n++] = a->v4[i];
    if (n == 0) {
        snprintf(a->why, sizeof a->why, "451 4.4.4 no address for %s", a->host);
        connect_host(a);
        return;
    }
    struct connect_opts o = {.timeout_sec = (unsigned)relay->cfg->relay_connect_timeout,
                             .svc = SVC_SMTP};
    a->connecting = conn_connect(relay->loop, all, n, &o, connected, a);
    if (!a->connecting) {
        snprintf(a->why, sizeof a->why, "451 4.3.0 cannot start a connection");
        connect_host(a);
    }
}

static void addr_done(const struct dns_result *r, void *arg)
{
    struct attempt *a = arg;
    uint16_t port = a->d->hop.port;
    for (size_t i = 0; r->status == DNS_OK && i < r->n; i++) {
        if (r->type == DNS_AAAA && a->n6 < CONNECT_MAX_ADDRS / 2)
            conn_addr_from_ip(AF_INET6, &r->u.aaaa[i], port, &a->v6[a->n6++]);
        if (r->type == DNS_A && a->n4 < CONNECT_MAX_ADDRS / 2)
            conn_addr_from_ip(AF_INET, &r->u.a[i], port, &a->v4[a->n4++]);
    }
    if (--a->qpending == 0)
        connect_addrs(a);
}

/* No host is left (or none could be asked): the job goes back to the
 * destination, which is backed off as a whole. */
static void give_up(struct attempt *a)
{
    if (!a->why[0])
        snprintf(a->why, sizeof a->why, "451 4.4.4 no usable host");
    if (a->job) {
        struct job *j = a->job;
        a->job = NULL;
        j->next = a->d->head;
        a->d->head = j;
        if (!a->d->tail)
            a->d->tail = j;
        a->d->nqueued++;
    }
    relay_dest_conn_done(a->d, true, a->why);
    attempt_free(a);
}

/* The next host of the list, or the end: the destination failed. */
static void connect_host(struct attempt *a)
{
    if (a->hi >= a->nhosts || relay->loop->stopping) {
        give_up(a);
        return;
    }
    snprintf(a->host, sizeof a->host, "%s", a->hosts[a->hi++]);
    a->n4 = a->n6 = 0;
    if (conn_addr_parse(a->host, a->d->hop.port, &a->v4[0]) == 0) {
        a->n4 = 1;
        connect_addrs(a);
        return;
    }
    struct dns *dns = dns_for_loop(relay->loop);
    a->qpending = 2;
    if (!dns || !dns_query(dns, DNS_AAAA, a->host, addr_done, a)) {
        snprintf(a->why, sizeof a->why, "451 4.4.3 resolver unavailable");
        give_up(a);
        return;
    }
    if (!dns_query(dns, DNS_A, a->host, addr_done, a))
        a->qpending--;
}

/* Every job of the destination fails permanently (null MX, no domain). */
static void fail_destination(struct attempt *a, const char *why)
{
    for (int guard = 0; a->job && guard < 1000000; guard++) {
        if (txn_alloc(a) < 0 && !a->codes) {
            break;
        }
        set_all(a, 550, why, false);
        finish_job(a, why);
        a->job = relay_dest_next_job(a->d);
    }
    relay_dest_conn_done(a->d, false, why);
    attempt_free(a);
}

/* RFC 8461 4.1: under enforce only MX hosts the policy lists are used
 * (none left: the destination waits, 5.2); testing only logs. */
static void sts_filter_hosts(struct attempt *a)
{
    int kept = 0;
    bool enforce = a->sts_policy.mode == MTASTS_ENFORCE;
    for (int i = 0; i < a->nhosts; i++) {
        if (mtasts_mx_matches(&a->sts_policy, a->hosts[i])) {
            memmove(a->hosts[kept++], a->hosts[i], 256);
            continue;
        }
        log_warn(0, "relay mta_sts %s domain=%s host=%s not in the policy%s",
                 mtasts_mode_name(a->sts_policy.mode), a->d->hop.host, a->hosts[i],
                 enforce ? ": skipped" : " (testing: used anyway)");
        if (!enforce)
            memmove(a->hosts[kept++], a->hosts[i], 256);
    }
    a->nhosts = kept;
    if (kept == 0)
        snprintf(a->why, sizeof a->why,
                 "451 4.7.5 MTA-STS policy of %s (enforce) lists none of its MX hosts",
                 a->d->hop.host);
}

static void mx_done(const struct dns_result *r, void *arg)
{
    struct attempt *a = arg;
    if (r->status == DNS_OK && r->n == 1 && r->u.mx[0].host[0] == '\0') {
        fail_destination(a, "556 5.1.10 the domain accepts no mail (null MX, RFC 7505)");
        return;
    }
    if (r->status == DNS_NXDOMAIN) {
        fail_destination(a, "550 5.1.2 the recipient's domain does not exist");
        return;
    }
    if (r->status == DNS_TEMPFAIL || r->status == DNS_BADNAME) {
        snprintf(a->why, sizeof a->why, "451 4.4.3 DNS lookup of MX %s failed: %s",
                 a->d->hop.host, r->error ? r->error : dns_status_name(r->status));
        connect_host(a); /* no hosts: the destination is backed off */
        return;
    }
    for (size_t i = 0; r->status == DNS_OK && i < r->n && a->nhosts < ATT_MAX_HOSTS; i++)
        if (r->u.mx[i].host[0])
            snprintf(a->hosts[a->nhosts++], 256, "%s", r->u.mx[i].host);
    if (a->nhosts == 0) /* RFC 5321 5.1: no MX, the domain is its own host */
        snprintf(a->hosts[a->nhosts++], 256, "%s", a->d->hop.host);
    if (a->sts)
        sts_filter_hosts(a);
    connect_host(a);
}

static void query_mx(struct attempt *a)
{
    struct dns *dns = dns_for_loop(relay->loop);
    if (!dns || !dns_query(dns, DNS_MX, a->d->hop.host, mx_done, a)) {
        snprintf(a->why, sizeof a->why, "451 4.4.3 resolver unavailable");
        connect_host(a);
    }
}

/* RFC 8461 5: with a policy, testing or enforce; then the MX records. */
static void sts_done(const struct mtasts_policy *p, void *arg)
{
    struct attempt *a = arg;
    if (p) {
        a->sts = true;
        a->sts_policy = *p;
        if (p->mode == MTASTS_ENFORCE) /* 4.2: verified TLS, to a listed MX only */
            a->policy = TLS_VERIFIED;
    }
    query_mx(a);
}

int relay_attempt_start(struct dest *d)
{
    char err[256];
    if (!tlsc && !(tlsc = tls_client_new(relay->cfg->relay_ca_file, err, sizeof err))) {
        log_error(0, "relay tls_client_failed why=\"%s\"", err);
        return -1;
    }
    struct attempt *a = calloc(1, sizeof *a);
    if (!a)
        return -1;
    a->d = d;
    a->msgfd = -1;
    a->policy = d->hop.policy;
    a->job = relay_dest_next_job(d);
    if (!a->job) {
        free(a);
        return -1;
    }
    a->next = attempts;
    if (attempts)
        attempts->prev = a;
    attempts = a;
    if (d->hop.kind != HOP_MX) {
        snprintf(a->hosts[0], 256, "%s", d->hop.host);
        a->nhosts = 1;
        connect_host(a);
        return 0;
    }
    if (relay->cfg->relay_mta_sts && mtasts_lookup(d->hop.host, sts_done, a) == 0)
        return 0;
    query_mx(a);
    return 0;
}

/* After the loops stopped: attempts still resolving or connecting (their
 * queries and connections went with the loop) and their jobs. */
void relay_attempt_cleanup(void)
{
    mtasts_cleanup(); /* lookups point at attempts */
    while (attempts) {
        struct attempt *a = attempts;
        connect_cancel(a->connecting); /* its socket and timer, never called back */
        if (a->job) {
            free(a->job->idx);
            free(a->job);
        }
        if (a->sent && a->sent->job) {
            free(a->sent->job->idx);
            free(a->sent->job);
        }
        attempt_free(a);
    }
    tls_client_free(tlsc);
    tlsc = NULL;
}
