/* store: the files of the queue. Reading and rewriting envelope records
 * durably (write-new, fsync, rename, grouped fsync of queue/), removing
 * entries (not fsynced, see queue.h), moving
 * unreadable ones to queue/corrupt/, listing ids. Blocking: pool or CLI. */
#include "queue/queue.h"

#include "core/fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

bool queue_id_valid(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n >= QUEUE_ID_MAX || id[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z') || c == '.' || c == '-' || c == '_'))
            return false;
    }
    return true;
}

int queue_open_dir(int datadirfd)
{
    mkdirat(datadirfd, "queue", 0700);
    int qfd = openat(datadirfd, "queue", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (qfd < 0)
        return -1;
    mkdirat(qfd, "ctl", 0700);
    mkdirat(qfd, "corrupt", 0700);
    return qfd;
}

static char *read_all(int fd, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return NULL;
    if (st.st_size > (off_t)QUEUE_RECORD_MAX) {
        errno = EFBIG;
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *buf = malloc(n + 1);
    if (!buf)
        return NULL;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}

/* The record in the .msg's attribute: a malloc'd NUL-terminated copy, or
 * NULL (errno ENODATA: the file has none; ENOENT: no .msg). */
static char *read_attr_record(int qfd, const char *id, size_t *len)
{
    char name[QUEUE_ID_MAX + 8];
    snprintf(name, sizeof name, "%s.msg", id);
    int fd = openat(qfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *buf = malloc(QUEUE_ATTR_MAX + 1);
    ssize_t n = buf ? fgetxattr(fd, QUEUE_ATTR, buf, QUEUE_ATTR_MAX) : -1;
    int saved = errno;
    close(fd);
    if (n < 0) {
        free(buf);
        errno = saved == ENOTSUP ? ENODATA : saved;
        return NULL;
    }
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* The record's text: the .env file when there is one (a record rewritten
 * after the first write, or one too large for the attribute), else the
 * .msg's attribute. NULL with errno (ENOENT: no entry) or, for a record
 * over QUEUE_RECORD_MAX, EFBIG. */
static char *read_record(int qfd, const char *id, size_t *len)
{
    char name[QUEUE_ID_MAX + 8];
    snprintf(name, sizeof name, "%s.env", id);
    int fd = openat(qfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        char *buf = read_all(fd, len);
        int saved = errno;
        close(fd);
        errno = saved;
        return buf;
    }
    if (errno != ENOENT)
        return NULL;
    char *buf = read_attr_record(qfd, id, len);
    if (!buf && errno == ENODATA)
        errno = ENOENT; /* a .msg without a record: a write that never finished */
    return buf;
}

int queue_env_load(int qfd, const char *id, struct queue_env *env, const char **why)
{
    memset(env, 0, sizeof *env);
    if (!queue_id_valid(id)) {
        errno = EINVAL;
        return -1;
    }
    size_t len = 0;
    char *buf = read_record(qfd, id, &len);
    if (!buf && errno == EFBIG) {
        *why = "record too large";
        return -2;
    }
    if (!buf)
        return -1;
    int rc = queue_env_parse(buf, len, env, why);
    free(buf);
    if (rc < 0)
        return -2;
    snprintf(env->id, sizeof env->id, "%s", id);
    return 0;
}

struct text_span {
    const char *p;
    size_t n;
};

static int write_span(int fd, void *arg)
{
    const struct text_span *t = arg;
    return fd_write_all(fd, t->p, t->n);
}

int queue_env_store(int qfd, const struct queue_env *env)
{
    char name[QUEUE_ID_MAX + 8];
    size_t len;
    if (!queue_id_valid(env->id))
        return -1;
    char *text = queue_env_format(env, &len);
    if (!text)
        return -1;
    snprintf(name, sizeof name, "%s.env", env->id);
    struct text_span span = {text, len};
    int rc = queue_pool_publish(qfd, name, false, write_span, &span);
    free(text);
    if (rc == 0)
        rc = queue_sync_dir(qfd);
    return rc;
}

int queue_remove(int qfd, const char *id)
{
    char name[QUEUE_ID_MAX + 8];
    if (!queue_id_valid(id))
        return -1;
    snprintf(name, sizeof name, "%s.env", id);
    queue_pool_remove(qfd, name); /* often none: the record was in the .msg */
    snprintf(name, sizeof name, "%s.msg", id);
    return queue_pool_remove(qfd, name);
}

int queue_move_aside(int qfd, const char *id)
{
    char name[QUEUE_ID_MAX + 8];
    if (!queue_id_valid(id))
        return -1;
    int cfd = openat(qfd, "corrupt", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (cfd < 0)
        return -1;
    snprintf(name, sizeof name, "%s.env", id);
    int rc = renameat(qfd, name, cfd, name);
    snprintf(name, sizeof name, "%s.msg", id);
    if (renameat(qfd, name, cfd, name) == 0)
        rc = 0; /* either file moved: the entry is out of the queue */
    if (rc == 0)
        rc = fsync(cfd);
    if (rc == 0)
        rc = fsync(qfd);
    close(cfd);
    return rc;
}

int queue_open_msg(int qfd, const char *id)
{
    char name[QUEUE_ID_MAX + 8];
    if (!queue_id_valid(id))
        return -1;
    snprintf(name, sizeof name, "%s.msg", id);
    return openat(qfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* "<id>.msg" (not a tmp. or free. name, pool.c): copies the id into out.
 * Every entry has its .msg; the old two-file entries too. */
static bool entry_name(const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    if (n < 5 || strcmp(name + n - 4, ".msg") != 0 || strncmp(name, "tmp.", 4) == 0 ||
        strncmp(name, "free.", 5) == 0)
        return false;
    if (n - 4 >= size)
        return false;
    memcpy(out, name, n - 4);
    out[n - 4] = '\0';
    return queue_id_valid(out);
}

int queue_list_ids(int qfd, size_t max, void (*fn)(const char *id, void *arg), void *arg)
{
    int dfd = dup(qfd);
    if (dfd < 0)
        return -1;
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return -1;
    }
    rewinddir(d);
    int count = 0;
    struct dirent *e;
    char id[QUEUE_ID_MAX];
    while ((size_t)count < max && (e = readdir(d)) != NULL) {
        if (!entry_name(e->d_name, id, sizeof id))
            continue;
        fn(id, arg);
        count++;
    }
    closedir(d);
    return count;
}
