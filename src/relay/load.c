/* load: the work-pool side of the scheduler. Reading a due entry (and
 * moving an unreadable one aside), expiring it, delivering its local
 * recipients (bounces to local senders, RFC 3464) into the store,
 * grouping the rest by destination; then saving the outcome durably with
 * the DSNs it owes (failed, delayed, delivered on NOTIFY=SUCCESS). */
#include "relay/dkim.h"
#include "relay/dsn.h"
#include "relay/relay_int.h"

#include "auth/recipient.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/workpool.h"
#include "store/deliver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct load_job {
    struct item *it;
    int rc; /* 0 ok, -1 gone, -2 moved aside */
    bool changed;
    struct job *jobs;
    int njobs;
    int64_t due;
};

static const char *domain_of(const char *addr)
{
    const char *at = strrchr(addr, '@');
    if (at)
        return at + 1;
    return "";
}

static bool rcpt_due(const struct queue_rcpt *r, int64_t now, bool force)
{
    if (r->state == QR_PENDING)
        return true;
    return r->state == QR_DEFERRED && (force || r->next <= now);
}

static int64_t next_due(const struct queue_env *env, int64_t now)
{
    int64_t due = INT64_MAX;
    for (size_t i = 0; i < env->nrcpt; i++) {
        const struct queue_rcpt *r = &env->rcpts[i];
        if (r->state == QR_PENDING)
            return now;
        if (r->state == QR_DEFERRED && r->next < due)
            due = r->next;
    }
    return due;
}

/* RFC 5321 4.5.4.1: give up after the queue lifetime. */
static bool expire(struct item *it, int64_t now)
{
    const struct config *c = relay->cfg;
    bool changed = false;
    if (now - it->env.created < c->relay_queue_lifetime)
        return false;
    for (size_t i = 0; i < it->env.nrcpt; i++) {
        struct queue_rcpt *r = &it->env.rcpts[i];
        if (r->state != QR_PENDING && r->state != QR_DEFERRED)
            continue;
        char why[QUEUE_REPLY_MAX];
        /* RFC 3463 4.4.7: delivery time expired */
        snprintf(why, sizeof why,
                 "4.4.7 expired after %d s in the queue; last reply: %.400s",
                 c->relay_queue_lifetime, r->reply[0] ? r->reply : "none");
        snprintf(r->reply, sizeof r->reply, "%s", why);
        r->state = QR_FAILED;
        it->report[i] = true;
        changed = true;
    }
    return changed;
}

/* A recipient in a local domain (a bounce to a local sender): into the
 * store now. */
static void deliver_local(struct item *it, size_t i, const struct rcpt_target *t)
{
    struct queue_rcpt *r = &it->env.rcpts[i];
    char prefix[QUEUE_ADDR_MAX + 32];
    struct store_delivery *d = NULL;
    const struct config *c = relay->cfg;
    struct store_quota q = {c->mail_quota_bytes, (uint64_t)c->mail_quota_messages};
    snprintf(prefix, sizeof prefix, "Return-Path: <%s>\n", it->env.from);
    enum store_result sr = store_delivery_stage(runtime->datadir_fd, &t->acct, "INBOX",
                                                prefix, it->msgfd, &q, &d);
    if (sr == STORE_OK && store_delivery_commit(d) == 0) {
        relay_rcpt_result(it, i, 250, "250 2.0.0 delivered locally", "", 0);
        log_info(0, "relay local id=%s rcpt=%s result=delivered", it->id, r->addr);
    } else {
        relay_rcpt_result(it, i, 451, "451 4.3.0 local delivery failed", "", 0);
    }
    store_delivery_free(d);
}

/* Local recipients are delivered here; 1 when rcpt i goes out by SMTP. */
static int route_rcpt(struct item *it, size_t i)
{
    struct rcpt_target t;
    const char *addr = it->env.rcpts[i].addr;
    switch (recipient_resolve(runtime->authdb, addr, relay->cfg->smtp_catch_all, &t)) {
    case RCPT_LOCAL:
        deliver_local(it, i, &t);
        return 0;
    case RCPT_UNKNOWN:
    case RCPT_LOOP:
        relay_rcpt_result(it, i, 550, "550 5.1.1 local user unknown", "", 0);
        return 0;
    case RCPT_ERROR:
        relay_rcpt_result(it, i, 451, "451 4.3.0 account lookup failed", "", 0);
        return 0;
    case RCPT_REMOTE:
        break;
    }
    return 1;
}

static struct job *job_for(struct load_job *lj, const char *domain)
{
    for (struct job *j = lj->jobs; j; j = j->next)
        if (strcasecmp(j->domain, domain) == 0)
            return j;
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->idx = calloc(lj->it->env.nrcpt, sizeof *j->idx);
    if (!j->idx) {
        free(j);
        return NULL;
    }
    j->it = lj->it;
    snprintf(j->domain, sizeof j->domain, "%s", domain);
    for (char *p = j->domain; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    j->next = lj->jobs;
    lj->jobs = j;
    lj->njobs++;
    return j;
}

static void group(struct load_job *lj, int64_t now)
{
    struct item *it = lj->it;
    for (size_t i = 0; i < it->env.nrcpt; i++) {
        if (!rcpt_due(&it->env.rcpts[i], now, it->force))
            continue;
        if (!route_rcpt(it, i)) {
            lj->changed = true;
            continue;
        }
        struct job *j = job_for(lj, domain_of(it->env.rcpts[i].addr));
        if (j)
            j->idx[j->n++] = i;
    }
}

static int open_entry(struct item *it)
{
    const char *why = "?";
    int rc = queue_env_load(relay->qfd, it->id, &it->env, &why);
    if (rc == -2 || (rc == 0 && (it->msgfd = queue_open_msg(relay->qfd, it->id)) < 0)) {
        if (rc == 0)
            why = "message file missing";
        log_warn(0, "relay corrupt id=%s why=\"%s\" moved=queue/corrupt/", it->id, why);
        queue_move_aside(relay->qfd, it->id);
        queue_env_clear(&it->env);
        return -2;
    }
    if (rc < 0)
        return -1;
    struct stat st;
    it->msgsize = 0;
    if (fstat(it->msgfd, &st) == 0)
        it->msgsize = st.st_size;
    it->report = calloc(it->env.nrcpt, sizeof *it->report);
    return it->report ? 0 : -1;
}

/* Before the first attempt: DKIM signatures for the sender's domain
 * (RFC 6376), prepended to the queued file once. A file that already
 * starts with one (a crash between the replace and the record) is left. */
static void sign_once(struct item *it, bool *changed)
{
    if (it->env.dkim_done || it->env.is_bounce || it->msgsize > (off_t)(64u << 20))
        return;
    it->env.dkim_done = true;
    *changed = true;
    char *buf = malloc((size_t)it->msgsize + 1), sig[DKIM_MAX_SIG];
    ssize_t n = buf ? pread(it->msgfd, buf, (size_t)it->msgsize, 0) : -1;
    char why[256] = "";
    int rc = 0;
    if (n >= 0 && strncasecmp(buf, "DKIM-Signature:", 15) != 0)
        rc = dkim_sign_message(runtime->datadir_fd, domain_of(it->env.from),
                               relay->cfg->relay_dkim_ed25519, buf, (size_t)n, sig,
                               sizeof sig, why, sizeof why);
    free(buf);
    if (rc < 0)
        log_warn(0, "relay dkim_failed id=%s why=\"%s\"", it->id, why);
    if (rc <= 0)
        return;
    if (queue_prepend_msg(relay->qfd, it->id, sig) < 0) {
        log_error(0, "relay dkim_store_failed id=%s errno=%d", it->id, errno);
        return;
    }
    close(it->msgfd);
    it->msgfd = queue_open_msg(relay->qfd, it->id);
    struct stat st;
    if (it->msgfd >= 0 && fstat(it->msgfd, &st) == 0)
        it->msgsize = st.st_size;
    log_info(0, "relay dkim_signed id=%s domain=%s", it->id, domain_of(it->env.from));
}

static void load_work(void *arg)
{
    struct load_job *lj = arg;
    struct item *it = lj->it;
    int64_t now = relay_now();
    lj->rc = open_entry(it);
    if (lj->rc < 0)
        return;
    if (it->env.held)
        return;
    lj->changed = expire(it, now);
    sign_once(it, &lj->changed);
    group(lj, now);
    lj->due = next_due(&it->env, now);
}

/* The record is saved (or the save failed and the attempt will be
 * redone): connections waiting for it go on. */
static void wake_waiters(struct item *it)
{
    struct waiter *w = it->waiters, *next;
    it->waiters = NULL;
    for (; w; w = next) {
        next = w->next;
        if (w->fn)
            w->fn(w->arg);
        free(w);
    }
}

static void item_release(struct item *it)
{
    wake_waiters(it);
    if (it->msgfd >= 0)
        close(it->msgfd);
    it->msgfd = -1;
    queue_env_clear(&it->env);
    free(it->report);
    it->report = NULL;
    it->busy = false;
    it->force = false;
    relay->nloaded--;
}

static void item_unlink(struct item *it)
{
    if (it->prev)
        it->prev->next = it->next;
    else
        relay->items = it->next;
    if (it->next)
        it->next->prev = it->prev;
    relay->nitems--;
    free(it);
}

static void load_done(void *arg)
{
    struct load_job *lj = arg;
    struct item *it = lj->it;
    if (lj->rc < 0) {
        item_release(it);
        item_unlink(it);
    } else if (it->env.held) {
        it->held = true;
        item_release(it);
        relay_item_apply_op(it);
    } else if (lj->njobs == 0 && !lj->changed) {
        it->due = lj->due;
        item_release(it);
        relay_item_apply_op(it);
    } else if (lj->njobs == 0) {
        relay_save(it);
    } else {
        it->jobs_left = lj->njobs;
        struct job *next;
        for (struct job *j = lj->jobs; j; j = next) {
            next = j->next;
            j->next = NULL;
            relay_dest_submit(j);
        }
    }
    free(lj);
}

/* A load whose completion never ran (the server stopped after its work):
 * the jobs it grouped were never handed to a destination. */
static void load_job_free(void *arg)
{
    struct load_job *lj = arg;
    struct job *next;
    for (struct job *j = lj->jobs; j; j = next) {
        next = j->next;
        free(j->idx);
        free(j);
    }
    free(lj);
}

void relay_load(struct item *it)
{
    struct load_job *lj = calloc(1, sizeof *lj);
    if (lj)
        lj->it = it;
    if (!lj || relay_submit(load_work, load_done, load_job_free, lj) < 0) {
        free(lj);
        it->busy = false;
        relay->nloaded--;
        it->due = relay_now() + 5;
    }
}

/* ---- saving ---- */

struct save_job {
    struct item *it;
    bool removed;
    int64_t due;
};

static bool wants(const struct queue_rcpt *r, unsigned bit)
{
    if (r->notify & QN_NEVER)
        return false;
    if (r->notify == 0) /* RFC 3461 4.1: default FAILURE (and DELAY) */
        return bit == QN_FAILURE || bit == QN_DELAY;
    return (r->notify & bit) != 0;
}

static char *read_original(struct item *it, size_t *len)
{
    size_t max = DSN_MAX_RETURN + 1;
    if (it->env.ret != QRET_FULL)
        max = 65536;
    char *buf = malloc(max);
    ssize_t n = buf ? pread(it->msgfd, buf, max, 0) : -1;
    if (n < 0) {
        free(buf);
        return NULL;
    }
    *len = (size_t)n;
    return buf;
}

static void send_dsn(struct item *it, const size_t *which, size_t n, enum dsn_action a)
{
    size_t olen = 0, len = 0;
    char *orig = read_original(it, &olen);
    char *msg =
        orig ? dsn_compose(&it->env, which, n, a, orig, olen, relay->cfg->hostname, &len)
             : NULL;
    const char *to[1] = {it->env.from};
    struct queue_new q = {.from = "", .rcpts = to, .nrcpt = 1, .is_bounce = true};
    /* An 8-bit original travels as 8bit (RFC 6152), downgraded if need be. */
    for (size_t i = 0; msg && i < len && !q.body8; i++)
        q.body8 = (unsigned char)msg[i] >= 0x80;
    char id[QUEUE_ID_MAX];
    if (msg && queue_write_buf(runtime->datadir_fd, msg, len, &q, id, sizeof id) == 0) {
        log_info(0, "relay dsn id=%s action=%s to=<%s> dsn_id=%s", it->id,
                 dsn_action_name(a), it->env.from, id);
        queue_announce(id);
    } else {
        log_error(0, "relay dsn_failed id=%s", it->id);
    }
    free(msg);
    free(orig);
}

/* One DSN per action for the recipients that owe one (RFC 3461 4.1). */
static void send_reports(struct item *it, int64_t now)
{
    struct queue_env *env = &it->env;
    size_t *which = calloc(env->nrcpt, sizeof *which);
    if (!which)
        return;
    static const struct {
        enum queue_state st;
        unsigned bit;
        enum dsn_action a;
    } kinds[] = {{QR_FAILED, QN_FAILURE, DSN_FAILED},
                 {QR_DELIVERED, QN_SUCCESS, DSN_DELIVERED}};
    bool quiet = env->from[0] == '\0' || env->is_bounce; /* no bounce loops */
    for (size_t k = 0; k < 2 && !quiet; k++) {
        size_t n = 0;
        for (size_t i = 0; i < env->nrcpt; i++)
            if (it->report[i] && env->rcpts[i].state == kinds[k].st &&
                wants(&env->rcpts[i], kinds[k].bit))
                which[n++] = i;
        if (n)
            send_dsn(it, which, n, kinds[k].a);
    }
    int delay = relay->cfg->relay_delay_notice;
    if (!quiet && delay > 0 && !env->delay_noticed && now - env->created >= delay) {
        size_t n = 0;
        for (size_t i = 0; i < env->nrcpt; i++)
            if (env->rcpts[i].state == QR_DEFERRED && wants(&env->rcpts[i], QN_DELAY))
                which[n++] = i;
        if (n) {
            send_dsn(it, which, n, DSN_DELAYED);
            env->delay_noticed = true;
        }
    }
    free(which);
}

static void save_work(void *arg)
{
    struct save_job *sj = arg;
    struct item *it = sj->it;
    int64_t now = relay_now();
    send_reports(it, now);
    if (queue_env_done(&it->env)) {
        sj->removed = queue_remove(relay->qfd, it->id) == 0;
        if (!sj->removed)
            log_error(0, "relay remove_failed id=%s errno=%d", it->id, errno);
        sj->removed = true; /* never retried: everyone got a final answer */
        return;
    }
    if (queue_env_store(relay->qfd, &it->env) < 0)
        log_error(0, "relay store_failed id=%s errno=%d", it->id, errno);
    sj->due = next_due(&it->env, now);
}

static void save_done(void *arg)
{
    struct save_job *sj = arg;
    struct item *it = sj->it;
    bool removed = sj->removed;
    it->due = sj->due;
    free(sj);
    item_release(it);
    if (removed)
        item_unlink(it);
    else
        relay_item_apply_op(it);
}

void relay_save(struct item *it)
{
    struct save_job *sj = calloc(1, sizeof *sj);
    if (sj)
        sj->it = it;
    if (!sj || relay_submit(save_work, save_done, free, sj) < 0) {
        /* The record on disk is the old one: the attempt is simply redone. */
        free(sj);
        it->due = relay_now() + 5;
        item_release(it);
    }
}

/* ---- the scan at start ---- */

struct scan_job {
    char (*ids)[QUEUE_ID_MAX];
    size_t n, cap;
    time_t pool_before; /* the first scan: turn queue file reuse on */
};

static void scan_one(const char *id, void *arg)
{
    struct scan_job *sj = arg;
    if (sj->n == sj->cap) {
        size_t ncap = sj->cap ? sj->cap * 2 : 256;
        void *p = realloc(sj->ids, ncap * sizeof *sj->ids);
        if (!p)
            return;
        sj->ids = p;
        sj->cap = ncap;
    }
    snprintf(sj->ids[sj->n++], QUEUE_ID_MAX, "%s", id);
}

static void scan_work(void *arg)
{
    struct scan_job *sj = arg;
    if (sj->pool_before && queue_pool_start(relay->qfd, sj->pool_before) < 0)
        log_error(0, "relay pool_failed errno=%d", errno);
    queue_list_ids(relay->qfd, 10000000, scan_one, arg);
}

static void scan_done(void *arg)
{
    struct scan_job *sj = arg;
    for (size_t i = 0; i < sj->n; i++)
        relay_item_add(sj->ids[i], 0);
    if (sj->n)
        log_info(0, "relay scan entries=%zu", sj->n);
    relay->scanning = false;
    free(sj->ids);
    free(sj);
}

static void scan_free(void *arg)
{
    struct scan_job *sj = arg;
    free(sj->ids);
    free(sj);
}

void relay_scan(void)
{
    struct scan_job *sj = calloc(1, sizeof *sj);
    if (!sj)
        return;
    relay->scanning = true;
    if (!relay->pool_on)
        sj->pool_before = time(NULL);
    relay->pool_on = true;
    if (relay_submit(scan_work, scan_done, scan_free, sj) < 0) {
        free(sj);
        relay->scanning = false;
    }
}

/* ---- `portico queue` requests on an idle item ---- */

struct op_job {
    struct item *it;
    bool removed;
};

static void op_delete(struct item *it, bool silent)
{
    for (size_t i = 0; i < it->env.nrcpt; i++) {
        struct queue_rcpt *r = &it->env.rcpts[i];
        if (r->state != QR_PENDING && r->state != QR_DEFERRED)
            continue;
        r->state = QR_FAILED;
        snprintf(r->reply, sizeof r->reply,
                 "deleted from the queue by the administrator");
        r->mx[0] = '\0';
        it->report[i] = !silent;
    }
    if (!silent)
        send_reports(it, relay_now());
    queue_remove(relay->qfd, it->id);
}

static void op_work(void *arg)
{
    struct op_job *oj = arg;
    struct item *it = oj->it;
    if (open_entry(it) < 0) {
        oj->removed = true;
        return;
    }
    switch (it->op) {
    case OP_DELETE:
    case OP_DELETE_SILENT:
        op_delete(it, it->op == OP_DELETE_SILENT);
        oj->removed = true;
        break;
    case OP_HOLD:
    case OP_RELEASE:
        it->env.held = it->op == OP_HOLD;
        if (queue_env_store(relay->qfd, &it->env) < 0)
            log_error(0, "relay store_failed id=%s errno=%d", it->id, errno);
        break;
    case OP_NONE:
        break;
    }
}

static void op_done(void *arg)
{
    struct op_job *oj = arg;
    struct item *it = oj->it;
    if (!oj->removed) {
        it->held = it->env.held;
        if (!it->held)
            it->due = 0;
    }
    it->op = OP_NONE;
    item_release(it);
    if (oj->removed)
        item_unlink(it);
    free(oj);
}

void relay_item_run_op(struct item *it)
{
    struct op_job *oj = calloc(1, sizeof *oj);
    if (oj)
        oj->it = it;
    if (!oj || relay_submit(op_work, op_done, free, oj) < 0) {
        free(oj);
        it->op = OP_NONE;
        item_release(it);
    }
}
