/* login: on the work pool, the name is made canonical, an attempt is
 * reserved in the throttle (atomically: parallel attempts from every loop
 * thread count before any password is checked) and authdb_verify runs;
 * back on the loop the reservation becomes a failure (with its delay) or a
 * success. */
#include "auth/login.h"

#include "auth/throttle.h"
#include "core/conn.h"
#include "core/idna.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/netlist.h"
#include "core/session.h"
#include "core/workpool.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct login_job {
    struct conn *c;
    login_check_fn cb;
    void *arg;
    char user[AUTH_MAX_USERNAME + 1];
    char canon[AUTH_MAX_USERNAME + 1]; /* authdb_canonical(user) */
    char password[AUTH_MAX_PASSWORD + 1];
    bool trusted; /* [auth] trusted_networks: delayed, never refused */
    bool locked;  /* the throttle refused before any check */
    enum auth_result result;
    struct account acct;
    struct event *delay;
};

static void job_free(struct login_job *job)
{
    OPENSSL_cleanse(job->password, sizeof job->password);
    if (job->delay)
        event_free(job->delay);
    conn_unref(job->c);
    free(job);
}

static void finish(struct login_job *job, enum login_result r)
{
    static const char *const names[] = {"ok", "fail", "locked", "error"};
    if (r == LOGIN_FAIL)
        metrics_add(job->c->svc, MET_AUTH_FAILURES, 1);
    if (r == LOGIN_LOCKED)
        metrics_add(job->c->svc, MET_AUTH_LOCKOUTS, 1);
    if (r == LOGIN_OK)
        conn_set_user(job->c, job->acct.address);
    if (!job->c->closing) {
        log_info(job->c->id, "auth login user=%s peer=%s result=%s", job->user,
                 job->c->peer_ip, names[r]);
        job->cb(job->c, job->arg, r, r == LOGIN_OK ? &job->acct : NULL);
    }
    job_free(job);
}

static void delay_over(evutil_socket_t fd, short what, void *arg)
{
    finish(arg, LOGIN_FAIL);
}

static void verify_work(void *arg)
{
    struct login_job *job = arg;
    authdb_canonical(runtime->authdb, job->user, job->canon, sizeof job->canon);
    if (throttle_reserve(runtime->throttle, job->c->peer_ip, job->canon, job->trusted,
                         time(NULL)) < 0) {
        job->locked = true;
        return;
    }
    job->result = authdb_verify(runtime->authdb, job->user, job->password, &job->acct);
}

static void verify_done(void *arg)
{
    struct login_job *job = arg;
    const char *ip = job->c->peer_ip;
    if (job->locked) {
        finish(job, LOGIN_LOCKED);
        return;
    }
    if (job->result == AUTH_OK) {
        throttle_success(runtime->throttle, ip, job->canon);
        finish(job, LOGIN_OK);
        return;
    }
    if (job->result == AUTH_ERROR) {
        throttle_release(runtime->throttle, ip, job->canon);
        finish(job, LOGIN_ERROR);
        return;
    }
    /* A failure counts even if the client hung up before hearing it. */
    unsigned ms = throttle_fail(runtime->throttle, ip, job->canon, time(NULL));
    if (job->c->closing) {
        finish(job, LOGIN_FAIL);
        return;
    }
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    job->delay = ms ? evtimer_new(job->c->loop->base, delay_over, job) : NULL;
    if (!job->delay || evtimer_add(job->delay, &tv) < 0)
        finish(job, LOGIN_FAIL);
}

int login_check(struct conn *c, const char *user, const char *password, login_check_fn cb,
                void *arg)
{
    if (!runtime || strlen(user) > AUTH_MAX_USERNAME ||
        strlen(password) > AUTH_MAX_PASSWORD)
        return -1;
    struct login_job *job = calloc(1, sizeof *job);
    if (!job)
        return -1;
    *job = (struct login_job){.c = c, .cb = cb, .arg = arg};
    /* bob@bücher.example logs in as bob@xn--bcher-kva.example. */
    if (idna_address_to_ascii(user, job->user, sizeof job->user) < 0)
        snprintf(job->user, sizeof job->user, "%s", user);
    snprintf(job->password, sizeof job->password, "%s", password);
    job->trusted = netlist_contains(&runtime->cfg->trusted_networks, c->peer_ip);
    conn_ref(c);
    if (workpool_submit(runtime->pool, c->loop->base, verify_work, verify_done, job) <
        0) {
        job_free(job);
        return -1;
    }
    return 0;
}

/* ---- the line-protocol form ---- */

static void session_checked(struct conn *c, void *arg, enum login_result r,
                            const struct account *acct)
{
    struct session *s = c->ctx;
    login_done_fn done = (login_done_fn)arg;
    if (r == LOGIN_OK) {
        s->authenticated = true;
        snprintf(s->user, sizeof s->user, "%s", acct->address);
    }
    done(s, r, acct);
    session_resume(s);
}

int login_start(struct session *s, const char *user, const char *password,
                login_done_fn done)
{
    session_suspend(s);
    if (login_check(s->conn, user, password, session_checked, (void *)done) < 0) {
        s->suspended--;
        if (s->suspended == 0)
            conn_resume(s->conn);
        return -1;
    }
    return 0;
}
