/* cli queue: `portico queue list|show|flush|hold|release|delete`. Reading
 * is done on the files (each record is replaced atomically, so a reader
 * sees the old or the new one); changes are requests dropped in
 * queue/ctl/ for the running server's scheduler (relay/ctl.c), which alone
 * rewrites records. */
#include "cli/cli.h"

#include "queue/queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int open_queue(const struct config *cfg, const char *cmd)
{
    int dfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int qfd = -1;
    if (dfd >= 0) {
        qfd = queue_open_dir(dfd);
        close(dfd);
    }
    if (qfd < 0)
        cli_fail(cmd, "cannot open %s/queue: %s", cfg->data_dir, strerror(errno));
    return qfd;
}

static void when(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t == 0) {
        snprintf(buf, len, "now");
        return;
    }
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", localtime_r(&tt, &tm));
}

static void print_entry(const struct queue_env *env, bool detail)
{
    char t[32];
    when(env->created, t, sizeof t);
    printf("%s  from=<%s>  queued=%s%s%s\n", env->id, env->from, t,
           env->held ? "  HELD" : "", env->is_bounce ? "  (bounce)" : "");
    for (size_t i = 0; i < env->nrcpt; i++) {
        const struct queue_rcpt *r = &env->rcpts[i];
        when(r->next, t, sizeof t);
        printf("  %-9s <%s>", queue_state_name(r->state), r->addr);
        if (r->state == QR_DEFERRED)
            printf("  next=%s  tries=%d", t, r->tries);
        if (r->reply[0])
            printf("  last=\"%s\"", r->reply);
        printf("\n");
        if (detail && r->mx[0])
            printf("            host=%s\n", r->mx);
    }
    if (detail && env->envid[0])
        printf("  envid=%s\n", env->envid);
}

struct lister {
    int qfd;
    int n;
};

static void list_one(const char *id, void *arg)
{
    struct lister *l = arg;
    struct queue_env env;
    const char *why = "";
    int rc = queue_env_load(l->qfd, id, &env, &why);
    if (rc == -2)
        printf("%s  UNREADABLE (%s)\n", id, why);
    if (rc < 0)
        return;
    print_entry(&env, false);
    queue_env_clear(&env);
    l->n++;
}

static int queue_list(int qfd)
{
    struct lister l = {qfd, 0};
    if (queue_list_ids(qfd, 1000000, list_one, &l) < 0)
        return cli_fail("queue list", "cannot read the queue");
    printf("%d entr%s\n", l.n, l.n == 1 ? "y" : "ies");
    return cli_flush("queue list");
}

static int queue_show(int qfd, const char *id)
{
    struct queue_env env;
    const char *why = "";
    int rc = queue_env_load(qfd, id, &env, &why);
    if (rc == -2)
        return cli_fail("queue show", "%s: unreadable record (%s)", id, why);
    if (rc < 0)
        return cli_fail("queue show", "%s: no such entry", id);
    print_entry(&env, true);
    queue_env_clear(&env);
    int fd = queue_open_msg(qfd, id);
    char buf[8192];
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n > 0) { /* the header block */
        buf[n] = '\0';
        char *end = strstr(buf, "\n\n");
        if (end)
            end[1] = '\0';
        printf("--\n%s", buf);
    }
    return cli_flush("queue show");
}

/* A request file for the scheduler: tmp name, then renamed (atomic). */
static int request(int qfd, const char *verb, const char *id)
{
    char tmp[128], name[128], line[128];
    struct timeval tv;
    gettimeofday(&tv, NULL);
    snprintf(name, sizeof name, "ctl/req.%lld.%06ld.%d", (long long)tv.tv_sec,
             (long)tv.tv_usec, (int)getpid());
    snprintf(tmp, sizeof tmp, "ctl/tmp.%lld.%06ld.%d", (long long)tv.tv_sec,
             (long)tv.tv_usec, (int)getpid());
    int n = snprintf(line, sizeof line, "%s %s\n", verb, id);
    int fd = openat(qfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = write(fd, line, (size_t)n) == n ? 0 : -1;
    close(fd);
    if (rc == 0)
        rc = renameat(qfd, tmp, qfd, name);
    if (rc < 0)
        unlinkat(qfd, tmp, 0);
    return rc;
}

static int queue_request(int qfd, const char *verb, const char *id, const char *cmd)
{
    struct queue_env env;
    const char *why;
    if (strcmp(id, "*") != 0) {
        if (queue_env_load(qfd, id, &env, &why) == -1)
            return cli_fail(cmd, "%s: no such entry", id);
        queue_env_clear(&env);
    }
    if (request(qfd, verb, id) < 0)
        return cli_fail(cmd, "cannot write the request: %s", strerror(errno));
    printf("%s %s: requested (the running server applies it within a second)\n", verb,
           id);
    return cli_flush(cmd);
}

static int run(int qfd, int argc, char **argv)
{
    const char *v = argv[0];
    if (strcmp(v, "list") == 0 && argc == 1)
        return queue_list(qfd);
    if (strcmp(v, "show") == 0 && argc == 2)
        return queue_show(qfd, argv[1]);
    if (strcmp(v, "flush") == 0 && argc <= 2)
        return queue_request(qfd, "flush", argc == 2 ? argv[1] : "*", "queue flush");
    if ((strcmp(v, "hold") == 0 || strcmp(v, "release") == 0) && argc == 2)
        return queue_request(qfd, v, argv[1], "queue hold");
    if (strcmp(v, "delete") == 0 && argc == 2)
        return queue_request(qfd, "delete", argv[1], "queue delete");
    if (strcmp(v, "delete") == 0 && argc == 3 && strcmp(argv[2], "--silent") == 0)
        return queue_request(qfd, "delete-silent", argv[1], "queue delete");
    return cli_usage_error("queue");
}

int cli_queue(const struct config *cfg, int argc, char **argv)
{
    if (argc < 1)
        return cli_usage_error("queue");
    if (argc >= 2 && strcmp(argv[1], "*") != 0 && !queue_id_valid(argv[1]) &&
        argv[1][0] != '-')
        return cli_fail("queue", "%s: not a queue id", argv[1]);
    int qfd = open_queue(cfg, "queue");
    if (qfd < 0)
        return 1;
    int rc = run(qfd, argc, argv);
    close(qfd);
    return rc;
}
