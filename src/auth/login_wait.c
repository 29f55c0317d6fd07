/* login_wait: authdb_verify queued on the work pool and waited for with a
 * condition variable; the throttle's delay is a nanosleep on the caller's
 * own thread (see login_wait.h). */
#include "auth/login_wait.h"

#include "auth/throttle.h"
#include "core/idna.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/netlist.h"
#include "core/workpool.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

struct wait_job {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool done;
    const char *user, *password;
    struct account *acct;
    enum auth_result result;
};

static void verify_work(void *arg)
{
    struct wait_job *j = arg;
    enum auth_result r = authdb_verify(runtime->authdb, j->user, j->password, j->acct);
    pthread_mutex_lock(&j->lock);
    j->result = r;
    j->done = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->lock);
}

/* Runs authdb_verify on the pool and waits; AUTH_ERROR if it cannot run. */
static enum auth_result verify_on_pool(const char *user, const char *password,
                                       struct account *out)
{
    struct wait_job j = {.user = user, .password = password, .acct = out};
    pthread_mutex_init(&j.lock, NULL);
    pthread_cond_init(&j.cond, NULL);
    enum auth_result r = AUTH_ERROR;
    if (workpool_submit(runtime->pool, NULL, verify_work, NULL, &j) == 0) {
        pthread_mutex_lock(&j.lock);
        while (!j.done)
            pthread_cond_wait(&j.cond, &j.lock);
        r = j.result;
        pthread_mutex_unlock(&j.lock);
    }
    pthread_cond_destroy(&j.cond);
    pthread_mutex_destroy(&j.lock);
    return r;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

enum login_result login_throttle_wait(const char *ip, const char *user)
{
    char canon[AUTH_MAX_USERNAME + 1];
    if (!runtime)
        return LOGIN_ERROR;
    authdb_canonical(runtime->authdb, user, canon, sizeof canon);
    bool trusted = netlist_contains(&runtime->cfg->trusted_networks, ip);
    if (throttle_reserve(runtime->throttle, ip, canon, trusted, time(NULL)) < 0)
        return LOGIN_LOCKED;
    return LOGIN_OK;
}

void login_record(uint64_t sid, const char *ip, const char *user, const char *method,
                  enum login_result r, bool delay)
{
    static const char *const names[] = {"ok", "fail", "locked", "error"};
    /* SFTP is the only protocol whose sessions have threads of their own. */
    if (r == LOGIN_FAIL)
        metrics_add(SVC_SFTP, MET_AUTH_FAILURES, 1);
    if (r == LOGIN_LOCKED)
        metrics_add(SVC_SFTP, MET_AUTH_LOCKOUTS, 1);
    char canon[AUTH_MAX_USERNAME + 1];
    authdb_canonical(runtime->authdb, user, canon, sizeof canon);
    if (r == LOGIN_OK)
        throttle_success(runtime->throttle, ip, canon);
    if (r == LOGIN_ERROR)
        throttle_release(runtime->throttle, ip, canon);
    unsigned ms = 0;
    if (r == LOGIN_FAIL)
        ms = throttle_fail(runtime->throttle, ip, canon, time(NULL));
    if (delay)
        sleep_ms(ms);
    log_info(sid, "auth login user=%s peer=%s method=%s result=%s", user, ip, method,
             names[r]);
}

enum login_result login_password_wait(uint64_t sid, const char *ip, const char *user,
                                      const char *password, struct account *out)
{
    if (strlen(user) > AUTH_MAX_USERNAME || strlen(password) > AUTH_MAX_PASSWORD) {
        login_record(sid, ip, "-", "password", LOGIN_FAIL, true);
        return LOGIN_FAIL;
    }
    char ascii[AUTH_MAX_USERNAME + 1];
    if (idna_address_to_ascii(user, ascii, sizeof ascii) == 0)
        user = ascii; /* bob@bücher.example is bob@xn--bcher-kva.example */
    enum login_result r = login_throttle_wait(ip, user);
    if (r == LOGIN_OK) {
        enum auth_result a = verify_on_pool(user, password, out);
        if (a == AUTH_OK)
            r = LOGIN_OK;
        else if (a == AUTH_FAIL)
            r = LOGIN_FAIL;
        else
            r = LOGIN_ERROR;
    }
    login_record(sid, ip, user, "password", r, true);
    return r;
}
