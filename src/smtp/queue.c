/* queue: writes one outbound entry durably (see queue.h for the format).
 * The message copy uses the store's LF normaliser, so queued and delivered
 * bytes follow the same rules. */
#include "smtp/queue.h"

#include "core/fileio.h"

#include "store/deliver.h"
#include "store/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define QUEUE_CHUNK 65536

static atomic_uint queue_counter;

static int copy_normalised(int fd, int srcfd)
{
    char *in = malloc(QUEUE_CHUNK), *out = malloc(QUEUE_CHUNK + 1);
    struct lf_norm st = {0};
    int rc = in && out ? 0 : -1;
    ssize_t r = 0;
    off_t off = 0;
    while (rc == 0 && (r = pread(srcfd, in, QUEUE_CHUNK, off)) > 0) {
        off += r;
        rc = fd_write_all(fd, out, lf_normalise(&st, in, (size_t)r, out));
    }
    if (rc == 0 && r < 0)
        rc = -1;
    if (rc == 0)
        rc = fd_write_all(fd, out, lf_normalise_end(&st, out));
    free(in);
    free(out);
    return rc;
}

static int write_envelope(int fd, const char *sender, const char *const *rcpts, size_t n)
{
    if (dprintf(fd, "from <%s>\n", sender) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (dprintf(fd, "to <%s>\n", rcpts[i]) < 0)
            return -1;
    return dprintf(fd, "end\n") < 0 ? -1 : 0;
}

/* Creates queue/tmp.<name>, lets fill() write it, fsyncs, renames to name. */
static int publish(int qfd, const char *name, int (*fill)(int fd, void *arg), void *arg)
{
    char tmp[128];
    snprintf(tmp, sizeof tmp, "tmp.%s", name);
    int fd = openat(qfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = fill(fd, arg);
    if (rc == 0)
        rc = fsync(fd);
    close(fd);
    if (rc == 0)
        rc = renameat(qfd, tmp, qfd, name);
    if (rc < 0)
        unlinkat(qfd, tmp, 0);
    return rc;
}

struct fill_msg {
    const char *prefix;
    int srcfd;
};

static int fill_msg(int fd, void *arg)
{
    struct fill_msg *m = arg;
    if (fd_write_all(fd, m->prefix, strlen(m->prefix)) < 0)
        return -1;
    return copy_normalised(fd, m->srcfd);
}

struct fill_env {
    const char *sender;
    const char *const *rcpts;
    size_t n;
};

static int fill_env(int fd, void *arg)
{
    struct fill_env *e = arg;
    return write_envelope(fd, e->sender, e->rcpts, e->n);
}

int queue_write(int datadirfd, const char *prefix, int srcfd, const char *sender,
                const char *const *rcpts, size_t nrcpt, char *id, size_t idlen)
{
    struct timeval tv;
    char msg[96], env[96];
    gettimeofday(&tv, NULL);
    snprintf(id, idlen, "%lld.%06ld.%d.%u", (long long)tv.tv_sec, (long)tv.tv_usec,
             (int)getpid(), atomic_fetch_add(&queue_counter, 1));
    snprintf(msg, sizeof msg, "%s.msg", id);
    snprintf(env, sizeof env, "%s.env", id);
    int qfd = openat(datadirfd, "queue", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (qfd < 0)
        return -1;
    struct fill_msg fm = {prefix, srcfd};
    struct fill_env fe = {sender, rcpts, nrcpt};
    int rc = publish(qfd, msg, fill_msg, &fm);
    if (rc == 0)
        rc = publish(qfd, env, fill_env, &fe);
    if (rc == 0)
        rc = fsync(qfd);
    if (rc < 0) {
        unlinkat(qfd, env, 0);
        unlinkat(qfd, msg, 0);
    }
    close(qfd);
    return rc;
}
