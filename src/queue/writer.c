/* writer: a new queue entry, durably (see queue.h for the order). The
 * message copy uses the store's LF normaliser, so queued and delivered
 * bytes follow the same rules. Ids are the time in microseconds, the pid
 * and a counter; the .msg never replaces an existing name (pool.c,
 * RENAME_NOREPLACE), so an id is never reused even if the clock goes back
 * across a restart.
 * The queue/ directory is opened once per data directory and kept. */
#include "queue/queue.h"

#include "core/fileio.h"
#include "store/deliver.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

#define QUEUE_CHUNK 65536
#define QUEUE_ID_TRIES 8

static atomic_uint queue_counter;

static int copy_normalised(int fd, int srcfd)
{
    char *in = malloc(QUEUE_CHUNK), *out = malloc(QUEUE_CHUNK + 1);
    struct lf_norm st = {0};
    int rc = -1;
    if (in && out)
        rc = 0;
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

struct msg_src {
    const char *prefix;
    int srcfd;       /* or */
    const char *buf; /* with len */
    size_t len;
    const char *record; /* the envelope record for the attribute, or NULL */
    size_t record_len;
    bool record_required; /* no .env may take it: fail when it does not fit */
    bool record_in_attr;  /* out: the record went into the attribute */
};

static int fill_msg(int fd, const struct msg_src *m)
{
    if (fd_write_all(fd, m->prefix, strlen(m->prefix)) < 0)
        return -1;
    if (m->srcfd >= 0)
        return copy_normalised(fd, m->srcfd);
    return fd_write_all(fd, m->buf, m->len);
}

/* The record into the file's attribute, where it is made durable by the
 * file's own fsync; a reused file's old record is removed first when the
 * new one does not fit (the .env then holds it). */
static int set_record_attr(int fd, struct msg_src *m)
{
    m->record_in_attr = false;
    if (m->record && m->record_len <= QUEUE_ATTR_MAX &&
        fsetxattr(fd, QUEUE_ATTR, m->record, m->record_len, 0) == 0) {
        m->record_in_attr = true;
        return 0;
    }
    if (m->record_required)
        return -1;
    if (fremovexattr(fd, QUEUE_ATTR) < 0 && errno != ENODATA && errno != ENOTSUP)
        return -1;
    return 0;
}

static int fill_msg_fd(int fd, void *arg)
{
    struct msg_src *m = arg;
    if (fill_msg(fd, m) < 0)
        return -1;
    return set_record_attr(fd, m);
}

/* Writes <id>.msg (never an existing one), its record in its attribute
 * when it fits, and fsyncs it. The rename into <id>.msg is made durable
 * by the caller's fsync of queue/. */
static int publish_msg(int qfd, const char *id, struct msg_src *m)
{
    char name[QUEUE_ID_MAX + 8];
    snprintf(name, sizeof name, "%s.msg", id);
    return queue_pool_publish(qfd, name, true, fill_msg_fd, m);
}

static void make_id(char *id, size_t idlen)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    snprintf(id, idlen, "%lld.%06ld.%d.%u", (long long)tv.tv_sec, (long)tv.tv_usec,
             (int)getpid(), atomic_fetch_add(&queue_counter, 1));
}

static int fill_env(struct queue_env *env, const struct queue_new *n, const char *id)
{
    memset(env, 0, sizeof *env);
    snprintf(env->id, sizeof env->id, "%s", id);
    queue_line_copy(env->from, sizeof env->from, n->from);
    env->created = (int64_t)time(NULL);
    if (n->envid)
        queue_line_copy(env->envid, sizeof env->envid, n->envid);
    env->ret = n->ret;
    env->is_bounce = n->is_bounce;
    env->smtputf8 = n->smtputf8;
    env->body8 = n->body8;
    env->rcpts = calloc(n->nrcpt, sizeof *env->rcpts);
    if (!env->rcpts || n->nrcpt == 0 || n->nrcpt > QUEUE_MAX_RCPT)
        return -1;
    env->nrcpt = n->nrcpt;
    for (size_t i = 0; i < n->nrcpt; i++) {
        struct queue_rcpt *r = &env->rcpts[i];
        queue_line_copy(r->addr, sizeof r->addr, n->rcpts[i]);
        if (n->notify)
            r->notify = n->notify[i];
        if (n->orcpt && n->orcpt[i])
            queue_line_copy(r->orcpt, sizeof r->orcpt, n->orcpt[i]);
    }
    return 0;
}

/* One file when the record fits the .msg's attribute (the usual case),
 * else the .msg and then the .env; then the grouped fsync of queue/. */
static int write_entry(int qfd, struct msg_src *m, const struct queue_new *n, char *id,
                       size_t idlen)
{
    struct queue_env env;
    int rc = -1;
    for (int i = 0; i < QUEUE_ID_TRIES && rc < 0; i++) {
        make_id(id, idlen);
        if (fill_env(&env, n, id) < 0) {
            queue_env_clear(&env);
            return -1;
        }
        char *text = queue_env_format(&env, &m->record_len);
        m->record = text;
        rc = text ? publish_msg(qfd, id, m) : -1;
        free(text);
        m->record = NULL;
        if (rc < 0)
            queue_env_clear(&env);
        if (rc < 0 && errno != EEXIST)
            return -1;
    }
    if (rc < 0)
        return -1;
    if (m->record_in_attr)
        rc = queue_sync_dir(qfd);
    else
        rc = queue_env_store(qfd, &env); /* fsyncs queue/ (grouped) after the rename */
    queue_env_clear(&env);
    if (rc < 0)
        queue_remove(qfd, id);
    return rc;
}

/* The queue/ of the data directory datadirfd: opened (and created) once,
 * then kept while datadirfd names the same directory; -1 on failure. The
 * fd stays the writer's: callers never close it. */
static pthread_mutex_t dir_mu = PTHREAD_MUTEX_INITIALIZER;
static int dir_qfd = -1;
static dev_t dir_dev;
static ino_t dir_ino;

static int writer_dir(int datadirfd)
{
    struct stat st;
    if (fstat(datadirfd, &st) < 0)
        return -1;
    pthread_mutex_lock(&dir_mu);
    if (dir_qfd >= 0 && (st.st_dev != dir_dev || st.st_ino != dir_ino)) {
        close(dir_qfd); /* another data directory (tests, the CLI) */
        dir_qfd = -1;
    }
    if (dir_qfd < 0 && (dir_qfd = queue_open_dir(datadirfd)) >= 0) {
        dir_dev = st.st_dev;
        dir_ino = st.st_ino;
    }
    int qfd = dir_qfd;
    pthread_mutex_unlock(&dir_mu);
    return qfd;
}

int queue_write(int datadirfd, const char *prefix, int srcfd, const struct queue_new *n,
                char *id, size_t idlen)
{
    int qfd = writer_dir(datadirfd);
    if (qfd < 0)
        return -1;
    struct msg_src m = {.prefix = prefix, .srcfd = srcfd};
    return write_entry(qfd, &m, n, id, idlen);
}

int queue_write_buf(int datadirfd, const char *msg, size_t len, const struct queue_new *n,
                    char *id, size_t idlen)
{
    int qfd = writer_dir(datadirfd);
    if (qfd < 0)
        return -1;
    struct msg_src m = {.prefix = "", .srcfd = -1, .buf = msg, .len = len};
    return write_entry(qfd, &m, n, id, idlen);
}

/* The record in <id>.msg's attribute, if any, goes with the new file:
 * until the caller rewrites it as a .env it is the entry's only record. */
int queue_prepend_msg(int qfd, const char *id, const char *prefix)
{
    char name[QUEUE_ID_MAX + 8];
    if (!queue_id_valid(id))
        return -1;
    int src = queue_open_msg(qfd, id);
    if (src < 0)
        return -1;
    char *record = malloc(QUEUE_ATTR_MAX);
    ssize_t rlen = record ? fgetxattr(src, QUEUE_ATTR, record, QUEUE_ATTR_MAX) : -1;
    if (rlen < 0 && errno != ENODATA && errno != ENOTSUP) {
        free(record);
        close(src);
        return -1;
    }
    snprintf(name, sizeof name, "%s.msg", id);
    struct msg_src m = {.prefix = prefix, .srcfd = src};
    if (rlen >= 0) {
        m.record = record;
        m.record_len = (size_t)rlen;
        m.record_required = true;
    }
    int rc = queue_pool_publish(qfd, name, false, fill_msg_fd, &m);
    free(record);
    close(src);
    if (rc == 0)
        rc = queue_sync_dir(qfd);
    return rc;
}
