/* server: the loop side of SFTP. An accepted connection stays a paused
 * `struct conn` on its loop (the per-address connection limit, the loop's
 * session count and the graceful stop see it like any other), and a thread
 * with a small stack runs the SSH session on a dup of the socket: libssh's
 * server API blocks, and no loop thread may (docs/DECISIONS.md "SFTP").
 * A watchdog timer on the loop enforces the login and idle timeouts by
 * shutting the socket down, which also frees a thread stuck writing to a
 * client that never reads. */
#include "sftp/service.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/conn.h"
#include "core/limits.h"
#include "core/log.h"
#include "sftp/hostkey.h"
#include "sftp/link.h"

#define WATCHDOG_SEC 1
#define SHUTDOWN_WAIT_MS 3000 /* sftp_shutdown waits this long at most */

static pthread_mutex_t links_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t links_gone = PTHREAD_COND_INITIALIZER;
static struct sftp_link *links;
static int nlinks;
static int nthreads; /* session threads still running */

static long long now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

void sftp_link_touch(struct sftp_link *l)
{
    atomic_store(&l->activity, now_sec());
}

/* [sftp] max_sessions and max_sessions_per_ip; adds l when they allow. */
static bool links_add(struct sftp_link *l, const struct config *cfg)
{
    pthread_mutex_lock(&links_lock);
    int same = 0;
    for (struct sftp_link *x = links; x != NULL; x = x->next)
        if (strcmp(x->peer_ip, l->peer_ip) == 0)
            same++;
    bool ok = nlinks < cfg->sftp_max_sessions && same < cfg->sftp_max_sessions_per_ip;
    if (ok) {
        l->next = links;
        if (links != NULL)
            links->prev = l;
        links = l;
        nlinks++;
    }
    pthread_mutex_unlock(&links_lock);
    return ok;
}

static void link_unref(struct sftp_link *l)
{
    pthread_mutex_lock(&l->lock);
    int left = --l->refs;
    pthread_mutex_unlock(&l->lock);
    if (left > 0)
        return;
    pthread_mutex_lock(&links_lock);
    if (l->prev != NULL)
        l->prev->next = l->next;
    else if (links == l)
        links = l->next;
    if (l->next != NULL)
        l->next->prev = l->prev;
    nlinks--;
    pthread_mutex_unlock(&links_lock);
    pthread_mutex_destroy(&l->lock);
    free(l);
}

/* Shuts the socket down under the lock (never after libssh closed it). */
static void link_shutdown(struct sftp_link *l, int how)
{
    pthread_mutex_lock(&l->lock);
    if (l->fd >= 0)
        shutdown(l->fd, how);
    pthread_mutex_unlock(&l->lock);
}

/* ---- loop side ---- */

static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sftp_link *l = arg;
    const struct config *cfg = runtime->cfg;
    bool authed = atomic_load(&l->authed);
    long long limit = authed ? cfg->sftp_idle_timeout : cfg->sftp_login_timeout;
    if (now_sec() - atomic_load(&l->activity) <= limit)
        return;
    log_info(l->sid, "sftp timeout state=%s seconds=%lld", authed ? "idle" : "login",
             limit);
    link_shutdown(l, SHUT_RDWR);
    event_del(l->watchdog);
}

static void on_shutdown(struct conn *c)
{
    struct sftp_link *l = c->ctx;
    atomic_store(&l->stopping, true);
    /* The request in progress finishes; the next read sees EOF. */
    link_shutdown(l, SHUT_RD);
}

static void on_free(struct conn *c)
{
    struct sftp_link *l = c->ctx;
    pthread_mutex_lock(&l->lock);
    l->c = NULL;
    conn_set_user(c, l->user); /* for the session's access-log line */
    c->commands = atomic_load(&l->requests);
    if (l->fd >= 0) /* the loop is going first (stop deadline): wake the thread */
        shutdown(l->fd, SHUT_RDWR);
    pthread_mutex_unlock(&l->lock);
    if (l->watchdog != NULL)
        event_free(l->watchdog);
    l->watchdog = NULL;
    link_unref(l);
}

static const struct conn_ops sftp_conn_ops = {
    .on_shutdown = on_shutdown,
    .on_free = on_free,
};

/* Runs on the loop when the thread is done. */
static void thread_done_cb(evutil_socket_t fd, short what, void *arg)
{
    struct sftp_link *l = arg;
    pthread_mutex_lock(&l->lock);
    struct conn *c = l->c;
    pthread_mutex_unlock(&l->lock);
    if (c != NULL)
        conn_abort(c);
    link_unref(l);
}

/* ---- thread side ---- */

static void *session_thread(void *arg)
{
    struct sftp_link *l = arg;
    sftp_ssh_run(l);
    static const struct timeval now = {0, 0};
    pthread_mutex_lock(&l->lock);
    bool posted = l->c != NULL &&
                  event_base_once(l->base, -1, EV_TIMEOUT, thread_done_cb, l, &now) == 0;
    pthread_mutex_unlock(&l->lock);
    if (!posted)
        link_unref(l);
    pthread_mutex_lock(&links_lock);
    nthreads--;
    pthread_cond_broadcast(&links_gone);
    pthread_mutex_unlock(&links_lock);
    return NULL;
}

static int thread_start(struct sftp_link *l)
{
    pthread_attr_t attr;
    pthread_t t;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, SFTP_THREAD_STACK);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&links_lock);
    nthreads++;
    pthread_mutex_unlock(&links_lock);
    int rc = pthread_create(&t, &attr, session_thread, l);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_lock(&links_lock);
        nthreads--;
        pthread_mutex_unlock(&links_lock);
    }
    return rc == 0 ? 0 : -1;
}

static struct sftp_link *link_new(struct conn *c)
{
    struct sftp_link *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    pthread_mutex_init(&l->lock, NULL);
    l->refs = 1;
    l->c = c;
    l->base = c->loop->base;
    l->sid = c->id;
    l->fd = -1;
    snprintf(l->peer_ip, sizeof l->peer_ip, "%s", c->peer_ip);
    sftp_link_touch(l);
    return l;
}

/* The loop's half: pause the conn, dup its socket for libssh, arm the
 * watchdog, start the thread. Any failure closes the connection. */
static int start_link(struct conn *c, struct sftp_link *l)
{
    struct timeval tv = {WATCHDOG_SEC, 0};
    l->watchdog = event_new(l->base, -1, EV_PERSIST, watchdog_cb, l);
    l->fd = dup(bufferevent_getfd(c->bev));
    if (l->watchdog == NULL || l->fd < 0 || event_add(l->watchdog, &tv) < 0)
        return -1;
    l->refs++; /* the thread's */
    if (thread_start(l) < 0) {
        l->refs--;
        return -1;
    }
    return 0;
}

static void sftp_start(struct conn *c)
{
    if (c->over_limit) {
        log_info(c->id, "sftp refused peer=%s reason=too_many_connections", c->peer_ip);
        conn_abort(c);
        return;
    }
    struct sftp_link *l = link_new(c);
    if (l == NULL) {
        conn_abort(c);
        return;
    }
    conn_pause(c);
    conn_set_idle_timeout(c, 0);
    c->ops = &sftp_conn_ops;
    c->ctx = l;
    if (!links_add(l, runtime->cfg)) {
        log_info(c->id, "sftp refused peer=%s reason=too_many_sessions", c->peer_ip);
        l->prev = l->next = NULL;
        pthread_mutex_lock(&links_lock);
        nlinks++; /* link_unref (via on_free) takes it back off */
        pthread_mutex_unlock(&links_lock);
        conn_abort(c);
        return;
    }
    log_info(c->id, "sftp connect peer=%s port=%d", c->peer_ip, c->peer_port);
    if (start_link(c, l) < 0) {
        log_error(c->id, "sftp thread_failed error=\"%s\"", strerror(errno));
        if (l->fd >= 0)
            close(l->fd);
        l->fd = -1;
        conn_abort(c);
    }
}

const struct service_impl sftp_service = {"sftp", sftp_start};

int sftp_prepare(const struct config *cfg, char *err, size_t errlen)
{
    if (cfg->svc[SVC_SFTP].listen.n == 0)
        return 0;
    if (sftp_hostkeys_init(cfg->data_dir, err, errlen) < 0)
        return -1;
    sftp_hostkeys_print();
    return 0;
}

void sftp_shutdown(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += SHUTDOWN_WAIT_MS / 1000;
    pthread_mutex_lock(&links_lock);
    while (nthreads > 0)
        if (pthread_cond_timedwait(&links_gone, &links_lock, &deadline) == ETIMEDOUT)
            break;
    int left = nthreads;
    pthread_mutex_unlock(&links_lock);
    if (left > 0)
        log_warn(0, "sftp shutdown threads_left=%d", left);
    else
        sftp_hostkeys_free();
}
