/* ctl: `portico queue flush|hold|release|delete` while serve runs. The CLI
 * drops a request file in queue/ctl/ ("VERB ID\n", written to a tmp name
 * and renamed); the scheduler reads and removes them once a second on the
 * pool and applies them on its loop, so every rewrite of a record is still
 * done by the scheduler alone (no two writers of one .env). */
#include "relay/relay_int.h"

#include "core/log.h"
#include "core/loop.h"
#include "core/workpool.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CTL_MAX 256 /* requests read per poll */

struct ctl_req {
    char verb[16];
    char id[QUEUE_ID_MAX];
};

struct ctl_job {
    struct ctl_req reqs[CTL_MAX];
    size_t n;
};

static void read_req(int cfd, const char *name, struct ctl_job *cj)
{
    char buf[128];
    int fd = openat(cfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    unlinkat(cfd, name, 0);
    if (n <= 0)
        return;
    buf[n] = '\0';
    struct ctl_req *r = &cj->reqs[cj->n];
    if (sscanf(buf, "%15s %63s", r->verb, r->id) == 2 &&
        (queue_id_valid(r->id) || strcmp(r->id, "*") == 0))
        cj->n++;
}

static void ctl_work(void *arg)
{
    struct ctl_job *cj = arg;
    int cfd = openat(relay->qfd, "ctl", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cfd < 0)
        return;
    DIR *d = fdopendir(cfd);
    if (!d) {
        close(cfd);
        return;
    }
    struct dirent *e;
    while (cj->n < CTL_MAX && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "req.", 4) == 0)
            read_req(dirfd(d), e->d_name, cj);
    closedir(d);
}

static enum item_op op_of(const char *verb)
{
    if (strcmp(verb, "hold") == 0)
        return OP_HOLD;
    if (strcmp(verb, "release") == 0)
        return OP_RELEASE;
    if (strcmp(verb, "delete") == 0)
        return OP_DELETE;
    if (strcmp(verb, "delete-silent") == 0)
        return OP_DELETE_SILENT;
    return OP_NONE;
}

static void apply(const struct ctl_req *r)
{
    for (struct item *it = relay->items; it; it = it->next) {
        if (strcmp(r->id, "*") != 0 && strcmp(r->id, it->id) != 0)
            continue;
        log_info(0, "relay ctl verb=%s id=%s", r->verb, it->id);
        if (strcmp(r->verb, "flush") == 0) {
            it->force = true;
            if (!it->busy)
                it->due = 0;
            continue;
        }
        it->op = op_of(r->verb);
        if (!it->busy)
            relay_item_apply_op(it);
    }
}

static void ctl_done(void *arg)
{
    struct ctl_job *cj = arg;
    for (size_t i = 0; i < cj->n; i++)
        apply(&cj->reqs[i]);
    relay->ctl_running = false;
    free(cj);
}

void relay_ctl_poll(void)
{
    if (relay->ctl_running)
        return;
    struct ctl_job *cj = calloc(1, sizeof *cj);
    if (!cj)
        return;
    relay->ctl_running = true;
    if (relay_submit(ctl_work, ctl_done, free, cj) < 0) {
        free(cj);
        relay->ctl_running = false;
    }
}

void relay_item_apply_op(struct item *it)
{
    if (it->op == OP_NONE || it->busy)
        return;
    it->busy = true;
    relay->nloaded++;
    relay_item_run_op(it);
}
