/* serve: `portico serve`: prepares the data directory, the account store and
 * TLS, binds every listener, drops privileges, then runs the loop threads
 * until SIGTERM/SIGINT (SIGHUP reloads the certificate). Everything that can
 * fail is done before the first thread starts: nothing is half-started. */
#include "auth/accounts.h"
#include "auth/throttle.h"
#include "cli/cli.h"
#include "cli/preflight.h"
#include "core/fdlimit.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/notify.h"
#include "core/tls.h"
#include "core/workpool.h"
#include "services.h"
#include "store/sweep.h"

#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int prepare_data_dir(struct config *cfg, char *err, size_t errlen)
{
    if (mkdir(cfg->data_dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create data_dir %s: %s", cfg->data_dir,
                 strerror(errno));
        return -1;
    }
    char abs[PATH_MAX];
    if (!realpath(cfg->data_dir, abs)) {
        snprintf(err, errlen, "cannot resolve data_dir %s: %s", cfg->data_dir,
                 strerror(errno));
        return -1;
    }
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", abs);
    static const char *const subdirs[] = {"users", "queue", "www"};
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        char p[PATH_MAX + 16];
        snprintf(p, sizeof p, "%s/%s", abs, subdirs[i]);
        if (mkdir(p, i == 2 ? 0755 : 0700) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", p, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* Config domains are local domains, added to the account store. */
static int open_accounts(struct runtime *rt, const struct config *cfg, char *err,
                         size_t errlen)
{
    rt->authdb = authdb_open(cfg->data_dir, err, errlen);
    if (!rt->authdb)
        return -1;
    return cli_add_config_domains(rt->authdb, cfg, err, errlen);
}

/* The very first start: postmaster@<first domain> with a random password,
 * printed once. Done after binding so a failed start loses no password. */
static int create_first_account(struct runtime *rt, const struct config *cfg, char *err,
                                size_t errlen)
{
    char first[256] = "";
    sscanf(cfg->domains, " %255[^ ,\t]", first);
    char password[64];
    int made = authdb_ensure_postmaster(rt->authdb, first, password, sizeof password, err,
                                        errlen);
    if (made > 0)
        printf("first account: postmaster@%s  password: %s  (shown once; change it with "
               "`portico user passwd postmaster@%s`)\n",
               first, password, first);
    return made < 0 ? -1 : 0;
}

/* nftw() passes no user pointer: the target owner waits here. */
static uid_t serve_uid;
static gid_t serve_gid;

static int chown_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return lchown(path, serve_uid, serve_gid) < 0 ? -1 : 0;
}

/* Root with `user = NAME`: the data tree becomes NAME's, then we become NAME
 * for good (setgroups, setgid, setuid; regaining root must fail). */
static int drop_privileges(const struct config *cfg, char *err, size_t errlen)
{
    if (geteuid() != 0 || !cfg->user[0])
        return 0;
    struct passwd *pw = getpwnam(cfg->user);
    if (!pw) {
        snprintf(err, errlen, "[portico] user: no such user %s", cfg->user);
        return -1;
    }
    serve_uid = pw->pw_uid;
    serve_gid = pw->pw_gid;
    if (nftw(cfg->data_dir, chown_entry, 32, FTW_PHYS) < 0 || setgroups(0, NULL) < 0 ||
        setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0 || setuid(0) == 0) {
        snprintf(err, errlen, "cannot become user %s: %s", cfg->user, strerror(errno));
        return -1;
    }
    return 0;
}

static void print_listeners(const struct runtime *rt, const struct config *cfg)
{
    for (int svc = 0; svc < SVC_COUNT; svc++) {
        if (!rt->services[svc])
            continue;
        const struct service_config *sc = &cfg->svc[svc];
        const struct listen_list *lists[2] = {&sc->listen, &sc->listen_tls};
        for (int t = 0; t < 2; t++) {
            if (lists[t]->n == 0)
                continue;
            printf("%-11s %-4s", config_service_name(svc), t ? "tls" : "");
            for (int i = 0; i < lists[t]->n; i++)
                printf(" %s", lists[t]->addr[i].text);
            printf("\n");
        }
    }
}

struct signals {
    struct event_base *base;
    struct event *evs[3];
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    struct signals *sg = arg;
    if (sig == SIGHUP) {
        char err[512];
        notify_reloading();
        if (tls_reload(err, sizeof err) < 0)
            log_error(0, "core tls reload_failed error=\"%s\"", err);
        else
            log_info(0, "core tls reloaded fingerprint=%s", tls_fingerprint());
        notify_ready("reloaded");
        return;
    }
    notify_stopping();
    log_info(0, "core stop signal=%d", (int)sig);
    event_base_loopexit(sg->base, NULL);
}

/* The main thread's loop owns SIGTERM, SIGINT and SIGHUP; installed before
 * any loop thread starts. */
static int signals_open(struct signals *sg)
{
    static const int sigs[3] = {SIGTERM, SIGINT, SIGHUP};
    sg->base = event_base_new();
    for (int i = 0; sg->base && i < 3; i++) {
        sg->evs[i] = evsignal_new(sg->base, sigs[i], on_signal, sg);
        if (!sg->evs[i] || event_add(sg->evs[i], NULL) < 0)
            return -1;
    }
    return sg->base ? 0 : -1;
}

static void signals_close(struct signals *sg)
{
    for (int i = 0; i < 3; i++)
        if (sg->evs[i])
            event_free(sg->evs[i]);
    if (sg->base)
        event_base_free(sg->base);
}

/* Pool jobs mostly wait on the disk (every delivery is two fsyncs), not on
 * a core, so the pool has more threads than there are loops: enough that
 * concurrent deliveries each find a thread, and their commits, waiting
 * together, share one directory fsync (store/commit.h). Measured in
 * docs/PERFORMANCE.md "SMTP receiving". */
#define WORK_THREADS_MIN 16

static int default_work_threads(const struct runtime *rt)
{
    return rt->nloops * 2 > WORK_THREADS_MIN ? rt->nloops * 2 : WORK_THREADS_MIN;
}

/* A previous run's unfinished uploads, removed in the background. */
static void sweep_work(void *arg)
{
    struct runtime *rt = arg;
    store_sweep_uploads(rt->datadir_fd);
}

static int run(struct runtime *rt, struct config *cfg, struct signals *sg, char *err,
               size_t errlen)
{
    if (prepare_data_dir(cfg, err, errlen) < 0)
        return -1;
    printf("portico %s: data in %s\n", PORTICO_VERSION, cfg->data_dir);
    if (open_accounts(rt, cfg, err, errlen) < 0 || tls_init(cfg, err, errlen) < 0)
        return -1;
    printf("tls certificate%s SHA-256 %s\n", tls_generated() ? " (self-signed, new)" : "",
           tls_fingerprint());
    if (services_prepare(cfg, err, errlen) < 0)
        return -1;
    rt->datadir_fd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct throttle_policy policy = {
        .free_failures = (unsigned)cfg->throttle_free_failures,
        .max_delay_ms = (unsigned)cfg->throttle_max_delay * 1000,
        .lock_failures = (unsigned)cfg->throttle_lock_failures,
        .lock_sec = cfg->throttle_lock_time,
        .window_sec = cfg->throttle_window,
    };
    rt->throttle = throttle_new(&policy);
    if (rt->datadir_fd < 0 || !rt->throttle) {
        snprintf(err, errlen, "cannot open data_dir %s: %s", cfg->data_dir,
                 strerror(errno));
        return -1;
    }
    long nofile = fdlimit_raise();
    rt->max_connections = cfg->max_connections;
    if (rt->max_connections == 0)
        rt->max_connections = fdlimit_default_connections(nofile);
    printf("connections: at most %d (descriptors: %ld)\n", rt->max_connections, nofile);
    services_register(rt);
    if (runtime_open_listeners(rt, err, errlen) < 0 ||
        drop_privileges(cfg, err, errlen) < 0 ||
        create_first_account(rt, cfg, err, errlen) < 0)
        return -1;
    rt->pool =
        workpool_new(cfg->work_threads ? cfg->work_threads : default_work_threads(rt));
    if (!rt->pool || signals_open(sg) < 0 || runtime_start(rt) < 0) {
        snprintf(err, errlen, "cannot start threads");
        return -1;
    }
    workpool_submit(rt->pool, NULL, sweep_work, NULL, rt);
    if (services_started(rt) < 0)
        log_error(0, "relay start_failed: queued mail is not delivered");
    print_listeners(rt, cfg);
    printf("ready: %d loop threads; Ctrl-C stops\n", rt->nloops);
    fflush(stdout);
    notify_ready("serving");
    event_base_dispatch(sg->base);
    runtime_stop(rt);
    runtime_join(rt);
    services_shutdown();
    return 0;
}

int cli_serve(const struct config *cfg_in, int argc, char **argv)
{
    if (argc > 0)
        return cli_usage_error("serve");
    static char errs[8192];
    struct config_errors e = {errs, sizeof errs, 0, 0};
    errs[0] = '\0';
    if (preflight(cfg_in, &e) > 0) {
        config_print_errors(errs);
        return 1;
    }
    static struct config cfg;
    cfg = *cfg_in;
    log_set_level((enum log_level)cfg.log_level);
    log_configure(cfg.log_target, cfg.log_format == LOG_FORMAT_JSON);
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();
    loop_seed_session_ids();
    struct runtime rt = {.cfg = &cfg, .datadir_fd = -1};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    rt.nloops = cfg.threads ? cfg.threads : (int)(cpus > 0 ? cpus : 1);
    runtime = &rt;
    char err[1024] = "";
    struct signals sg = {0};
    int rc = run(&rt, &cfg, &sg, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "portico: %s\n", err);
    workpool_stop(rt.pool);
    services_free();
    runtime_free_loops(&rt);
    workpool_free(rt.pool); /* after the bases: no completion can fire now */
    signals_close(&sg);
    throttle_free(rt.throttle);
    authdb_close(rt.authdb);
    tls_shutdown();
    if (rt.datadir_fd >= 0)
        close(rt.datadir_fd);
    runtime = NULL;
    libevent_global_shutdown();
    return rc < 0 ? 1 : 0;
}
