/* login: runs authdb_verify on the work pool for a suspended session, then
 * applies the throttle's delay to failures before answering. */
#include "auth/login.h"

#include "auth/throttle.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/session.h"
#include "core/workpool.h"

#include <event2/event.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct login_job {
    struct session *s;
    login_done_fn done;
    char user[AUTH_MAX_USERNAME + 1];
    char password[AUTH_MAX_PASSWORD + 1];
    enum auth_result result;
    struct account acct;
    struct event *delay;
};

static void job_free(struct login_job *job)
{
    OPENSSL_cleanse(job->password, sizeof job->password);
    if (job->delay)
        event_free(job->delay);
    session_unref(job->s);
    free(job);
}

static void finish(struct login_job *job, enum login_result r)
{
    struct session *s = job->s;
    if (!session_gone(s)) {
        if (r == LOGIN_OK) {
            s->authenticated = true;
            snprintf(s->user, sizeof s->user, "%s", job->acct.address);
        }
        static const char *const names[] = {"ok", "fail", "locked", "error"};
        log_info(s->id, "%s login user=%s result=%s", s->proto->name, job->user, names[r]);
        job->done(s, r, r == LOGIN_OK ? &job->acct : NULL);
        session_resume(s);
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
    job->result = authdb_verify(runtime->authdb, job->user, job->password, &job->acct);
}

static void verify_done(void *arg)
{
    struct login_job *job = arg;
    struct session *s = job->s;
    const char *ip = s->conn->peer_ip;
    if (job->result == AUTH_OK) {
        throttle_success(runtime->throttle, ip, job->user);
        finish(job, LOGIN_OK);
        return;
    }
    if (job->result == AUTH_ERROR || session_gone(s)) {
        finish(job, LOGIN_ERROR);
        return;
    }
    unsigned ms = throttle_fail(runtime->throttle, ip, job->user, time(NULL));
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    job->delay = evtimer_new(s->conn->loop->base, delay_over, job);
    if (!ms || !job->delay || evtimer_add(job->delay, &tv) < 0)
        finish(job, LOGIN_FAIL);
}

int login_start(struct session *s, const char *user, const char *password,
                login_done_fn done)
{
    if (!runtime || strlen(user) > AUTH_MAX_USERNAME || strlen(password) > AUTH_MAX_PASSWORD)
        return -1;
    struct login_job *job = calloc(1, sizeof *job);
    if (!job)
        return -1;
    job->s = s;
    job->done = done;
    snprintf(job->user, sizeof job->user, "%s", user);
    snprintf(job->password, sizeof job->password, "%s", password);
    session_ref(s);
    session_suspend(s);
    if (throttle_check(runtime->throttle, s->conn->peer_ip, user, time(NULL)) < 0) {
        finish(job, LOGIN_LOCKED);
        return 0;
    }
    if (workpool_submit(runtime->pool, s->conn->loop->base, verify_work, verify_done, job) < 0) {
        s->suspended = false;
        conn_resume(s->conn);
        OPENSSL_cleanse(job->password, sizeof job->password);
        session_unref(s);
        free(job);
        return -1;
    }
    return 0;
}
