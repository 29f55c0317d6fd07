/* fuzz_session: the shared runtime and the socketpair pump of the session
 * harnesses (see fuzz_session.h). */
#include "fuzz_session.h"

#include "auth/accounts.h"
#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/workpool.h"

#include <crypt.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PUMP_MAX_ROUNDS 20000 /* loop passes per input */
#define IDLE_ROUNDS 10        /* passes with nothing moving: the client hangs up */

static struct config cfg;
static struct runtime rt;
static struct loop loop;

/* The account's hash: SHA-crypt at its lowest cost. The default (yescrypt)
 * took about 85 % of every execution, most of it in page faults. */
static const char *fuzz_password_hash(void)
{
    static struct crypt_data cd;
    const char *h = crypt_r("fuzz-password", "$6$rounds=1000$fuzzsalt$", &cd);
    if (!h || h[0] != '$')
        abort();
    return h;
}

static void setup_once(void)
{
    char err[512], dir[] = "/tmp/portico-fuzz-XXXXXX";
    signal(SIGPIPE, SIG_IGN);
    evthread_use_pthreads();
    if (!mkdtemp(dir) || config_load(&cfg, NULL, err, sizeof err) < 0)
        abort();
    snprintf(cfg.data_dir, sizeof cfg.data_dir, "%s", dir);
    /* What serve's prepare_data_dir makes: the SMTP spool lives in queue/. */
    static const char *const subdirs[] = {"users", "queue", "www"};
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        char p[sizeof dir + 16];
        snprintf(p, sizeof p, "%s/%s", dir, subdirs[i]);
        if (mkdir(p, 0700) < 0)
            abort();
    }
    snprintf(cfg.domains, sizeof cfg.domains, "example.org");
    cfg.ftp_passive_min = 39900; /* away from the test suite's ports */
    cfg.ftp_passive_max = 39909;
    cfg.allow_plaintext_auth = true;
    cfg.log_level = LOG_ERROR;
    log_set_level(LOG_ERROR);
    rt.cfg = &cfg;
    rt.nloops = 1;
    rt.loops = &loop;
    rt.max_connections = 1000;
    rt.authdb = authdb_open(dir, err, sizeof err);
    rt.datadir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rt.pool = workpool_new(2);
    if (!rt.authdb || rt.datadir_fd < 0 || !rt.pool ||
        authdb_domain_add(rt.authdb, "example.org", err, sizeof err) < 0 ||
        authdb_user_add_hash(rt.authdb, "fuzz@example.org", fuzz_password_hash(), err,
                             sizeof err) < 0 ||
        authdb_set_dummy_hash(rt.authdb, fuzz_password_hash()) < 0)
        abort();
    loop.rt = &rt;
    loop.base = event_base_new();
    if (!loop.base)
        abort();
    runtime = &rt;
}

/* Writes what the socket takes of the input; reads and drops replies. */
static size_t pump(int fd, const uint8_t *data, size_t size, size_t off, bool *moved)
{
    char buf[65536];
    if (off < size) {
        ssize_t w = send(fd, data + off, size - off, MSG_DONTWAIT);
        if (w > 0) {
            off += (size_t)w;
            *moved = true;
        }
    }
    while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
        *moved = true;
    return off;
}

void fuzz_session_run(enum service svc, const struct service_impl *impl,
                      const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        setup_once();
        ready = true;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    struct sockaddr_un peer = {.sun_family = AF_UNIX};
    struct conn *c = conn_new(&loop, sv[0], (struct sockaddr *)&peer, svc, false);
    if (c)
        impl->start(c);
    size_t off = 0;
    int idle = 0;
    struct timeval tick = {0, 500};
    for (int round = 0; round < PUMP_MAX_ROUNDS && loop.nconns > 0; round++) {
        bool moved = false;
        off = pump(sv[1], data, size, off, &moved);
        if (off == size && sv[1] >= 0 && idle > IDLE_ROUNDS) {
            close(sv[1]); /* the client hangs up: the session must end */
            sv[1] = -1;
        }
        event_base_loopexit(loop.base, &tick);
        event_base_loop(loop.base, EVLOOP_ONCE);
        idle = moved ? 0 : idle + 1;
    }
    if (sv[1] >= 0)
        close(sv[1]);
    for (struct conn *k = loop.conns; k; k = k->next)
        conn_abort(k);
    /* Async results (logins, deliveries) arrive on the loop: wait them out. */
    for (int round = 0; round < PUMP_MAX_ROUNDS && loop.nconns > 0; round++) {
        event_base_loopexit(loop.base, &tick);
        event_base_loop(loop.base, EVLOOP_ONCE);
    }
}
