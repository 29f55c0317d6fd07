/* cmd_xfer: the commands that use a data connection (RFC 959 4.1.3 RETR
 * STOR STOU APPE LIST NLST ABOR, RFC 3659 REST STREAM and MLSD) and STAT
 * with a path. They resolve and open what they need, run the blocking part
 * (directory scans, quota walks, REST prefix copies) on the work pool with
 * the session suspended, then hand over to transfer.c. */
#include "ftp/ftp.h"

#include "core/log.h"
#include "ftp/list.h"
#include "ftp/parse.h"
#include "ftp/transfer.h"
#include "store/quota.h"
#include "store/sandbox.h"
#include "store/sweep.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum job_kind { JOB_LIST, JOB_STAT, JOB_UPLOAD };

struct job {
    struct session *s;
    enum job_kind kind;
    int err;
    /* listings */
    int dirfd;
    enum list_style style;
    bool all, readonly;
    struct evbuffer *buf;
    char what[64];
    /* uploads */
    struct upload up;
    int rootfd, srcfd;
    uint64_t rest, replaced; /* REST offset; size of the file replaced */
    bool append;
};

/* ---- running blocking work off the loop ---- */

static void upload_work(struct job *j);
static void upload_done(struct job *j);

static void job_work(void *arg)
{
    struct job *j = arg;
    if (j->kind == JOB_UPLOAD) {
        upload_work(j);
        return;
    }
    if (list_dir(j->dirfd, j->style, j->all, j->readonly, j->buf) < 0)
        j->err = errno;
}

static void list_done(struct job *j)
{
    struct session *s = j->s;
    if (j->err) {
        session_reply(s, "450 Cannot read directory");
    } else if (j->kind == JOB_STAT) { /* RFC 959 4.1.3: 213 with the listing */
        session_printf(s, "213-Status of %s:\r\n", j->what);
        evbuffer_add_buffer(conn_output(s->conn), j->buf);
        session_reply(s, "213 End of status");
    } else {
        xfer_send_buf(ftp_of(s), j->buf, "Here comes the directory listing");
        j->buf = NULL;
    }
}

static void job_free(struct job *j)
{
    if (j->buf)
        evbuffer_free(j->buf);
    if (j->dirfd >= 0)
        close(j->dirfd);
    if (j->srcfd >= 0)
        close(j->srcfd);
    upload_discard(&j->up);
    free(j);
}

static void job_done(struct session *s, void *arg)
{
    struct job *j = arg;
    if (s && j->kind == JOB_UPLOAD)
        upload_done(j);
    else if (s)
        list_done(j);
    job_free(j);
}

/* Pipelined commands wait for the result (session_work suspends). */
static void job_run(struct job *j)
{
    if (session_work(j->s, job_work, job_done, j) < 0) {
        job_work(j); /* no pool: do it here rather than fail the command */
        job_done(j->s, j);
    }
}

static struct job *job_new(struct session *s, enum job_kind kind)
{
    struct job *j = calloc(1, sizeof *j);
    if (!j) {
        session_reply(s, "451 Local error: out of memory");
        return NULL;
    }
    j->s = s;
    j->kind = kind;
    j->dirfd = j->srcfd = j->rootfd = -1;
    j->up.dirfd = j->up.fd = -1;
    return j;
}

/* ---- listings ---- */

static const char *leaf_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/* A file named in LIST/NLST/STAT: one entry, no pool work. */
static void list_one(struct ftp *f, enum job_kind kind, enum list_style style,
                     const char *path, const struct stat *st)
{
    struct evbuffer *buf = evbuffer_new();
    if (!buf) {
        session_reply(f->s, "451 Local error: out of memory");
        return;
    }
    list_entry(buf, style, leaf_of(path), st, NULL, f->s->state != FTP_USER, time(NULL));
    if (kind == JOB_STAT) {
        session_printf(f->s, "213-Status of %s:\r\n", path);
        evbuffer_add_buffer(conn_output(f->s->conn), buf);
        evbuffer_free(buf);
        session_reply(f->s, "213 End of status");
        return;
    }
    xfer_send_buf(f, buf, "Here comes the directory listing");
}

static void start_list(struct ftp *f, const char *args, enum list_style style,
                       enum job_kind kind)
{
    bool all = false;
    const char *arg = style == LIST_MLSD ? args : ftp_list_path(args, &all);
    char path[STORE_MAX_PATH + 1];
    struct stat st;
    if (ftp_path(f, arg[0] ? arg : ".", path) < 0)
        return;
    if (sandbox_stat(f->rootfd, path, &st) < 0) {
        ftp_reply_errno(f, errno, arg[0] ? arg : path);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (style == LIST_MLSD) /* RFC 3659 7.2.1 */
            session_reply(f->s, "501 %s: not a directory", arg);
        else
            list_one(f, kind, style, path, &st);
        return;
    }
    struct job *j = job_new(f->s, kind);
    if (!j)
        return;
    j->style = style;
    j->all = all;
    j->readonly = f->s->state != FTP_USER;
    snprintf(j->what, sizeof j->what, "%s", path);
    j->buf = evbuffer_new();
    j->dirfd = sandbox_open(f->rootfd, path, O_RDONLY | O_DIRECTORY, 0);
    if (!j->buf || j->dirfd < 0) {
        ftp_reply_errno(f, j->dirfd < 0 ? errno : ENOMEM, path);
        job_free(j);
        return;
    }
    job_run(j);
}

void ftp_cmd_list(struct session *s, char *args)
{
    start_list(ftp_of(s), args, LIST_LS, JOB_LIST);
}

void ftp_cmd_nlst(struct session *s, char *args)
{
    start_list(ftp_of(s), args, LIST_NLST, JOB_LIST);
}

void ftp_cmd_mlsd(struct session *s, char *args)
{
    start_list(ftp_of(s), args, LIST_MLSD, JOB_LIST);
}

void ftp_stat_path(struct ftp *f, const char *args)
{
    start_list(f, args, LIST_LS, JOB_STAT);
}

/* ---- RETR, REST, ABOR ---- */

void ftp_cmd_rest(struct session *s, char *args)
{
    uint64_t n;
    if (ftp_parse_u64(args, 10, &n) < 0 || n > (uint64_t)INT64_MAX) {
        session_reply(s, "501 Syntax: REST <byte offset>");
        return;
    }
    ftp_of(s)->rest = n; /* RFC 3659 5.3: 350, then RETR/STOR/APPE */
    session_reply(s, "350 Restarting at %llu. Send STOR or RETR", (unsigned long long)n);
}

void ftp_cmd_retr(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    char path[STORE_MAX_PATH + 1];
    struct stat st;
    if (ftp_path(f, args, path) < 0)
        return;
    int fd = sandbox_open(f->rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        ftp_reply_errno(f, fd < 0 ? errno : EISDIR, args);
        f->rest = 0;
        return;
    }
    if (f->rest > (uint64_t)st.st_size) {
        close(fd);
        f->rest = 0;
        session_reply(s, "554 Invalid REST parameter: past the end of the file");
        return;
    }
    xfer_send_file(f, fd, f->rest, (uint64_t)st.st_size, leaf_of(path));
}

void ftp_cmd_abor(struct session *s, char *args)
{
    xfer_abort(ftp_of(s));
}

/* ---- uploads ---- */

enum upload_mode { UP_STOR, UP_APPE, UP_STOU };

/* STOU (RFC 959 4.1.3): the name asked for, or it with a number added. */
static int unique_leaf(int dirfd, char *leaf, size_t len)
{
    struct stat st;
    char base[NAME_MAX + 1];
    snprintf(base, sizeof base, "%s", leaf);
    for (int i = 1; i < 1000; i++) {
        if (fstatat(dirfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
            return 0;
        if ((size_t)snprintf(leaf, len, "%.240s.%d", base, i) >= len)
            return -1;
    }
    errno = EEXIST;
    return -1;
}

static int open_target(struct ftp *f, struct job *j, enum upload_mode mode)
{
    struct upload *u = &j->up;
    struct stat st;
    bool exists = fstatat(u->dirfd, u->leaf, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return -1;
    }
    if (mode == UP_STOU && unique_leaf(u->dirfd, u->leaf, sizeof u->leaf) < 0)
        return -1;
    j->replaced =
        exists && mode == UP_STOR && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    if (mode == UP_APPE) { /* in place: O_NOFOLLOW keeps a symlink from leading out */
        u->fd = openat(u->dirfd, u->leaf,
                       O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (u->fd < 0 || fstat(u->fd, &st) < 0)
            return -1;
        u->start_size = (uint64_t)st.st_size;
        char tag[48];
        snprintf(tag, sizeof tag, "%llu-%u", (unsigned long long)f->s->id, ++f->tmp_seq);
        return store_appe_journal_begin(u->dirfd, u->leaf, u->start_size, tag, u->journal,
                                        sizeof u->journal);
    }
    if (j->rest > 0) { /* REST + STOR: the new file starts with the old prefix */
        j->srcfd = openat(u->dirfd, u->leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (j->srcfd < 0 || fstat(j->srcfd, &st) < 0)
            return -1;
        if ((uint64_t)st.st_size < j->rest) {
            errno = ERANGE;
            return -1;
        }
    }
    if (store_upload_name(u->tmp, sizeof u->tmp, "ftp-%llu-%u",
                          (unsigned long long)f->s->id, ++f->tmp_seq) < 0) {
        u->tmp[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    u->fd = openat(u->dirfd, u->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (u->fd < 0)
        u->tmp[0] = '\0';
    return u->fd < 0 ? -1 : 0;
}

static void upload_work(struct job *j)
{
    uint64_t quota = runtime ? runtime->cfg->files_quota_bytes : 0;
    if (quota && j->rootfd >= 0) {
        uint64_t usage = quota_usage(j->rootfd);
        uint64_t used = usage > j->replaced ? usage - j->replaced : 0;
        uint64_t room = used < quota ? quota - used : 0;
        j->up.limit = j->append ? room : (room > j->rest ? room - j->rest : 0);
    }
    loff_t in = 0, out = 0;
    while (j->srcfd >= 0 && (uint64_t)in < j->rest) {
        ssize_t n = copy_file_range(j->srcfd, &in, j->up.fd, &out,
                                    (size_t)(j->rest - (uint64_t)in), 0);
        if (n <= 0) {
            j->err = n < 0 ? errno : EIO;
            return;
        }
    }
    if (j->rest && lseek(j->up.fd, (off_t)j->rest, SEEK_SET) < 0)
        j->err = errno;
}

static void upload_done(struct job *j)
{
    struct ftp *f = ftp_of(j->s);
    if (j->err) {
        ftp_reply_errno(f, j->err, j->up.leaf);
        return;
    }
    struct upload u = j->up;
    j->up.fd = j->up.dirfd = -1; /* the transfer owns them now */
    j->up.tmp[0] = '\0';
    xfer_recv(f, &u);
}

static void start_upload(struct ftp *f, const char *args, enum upload_mode mode)
{
    char path[STORE_MAX_PATH + 1];
    uint64_t rest = mode == UP_STOR ? f->rest : 0;
    f->rest = 0;
    if (ftp_path(f, args[0] ? args : (mode == UP_STOU ? "file" : ""), path) < 0)
        return;
    struct job *j = job_new(f->s, JOB_UPLOAD);
    if (!j)
        return;
    j->rest = rest;
    j->append = mode == UP_APPE;
    j->up.unique = mode == UP_STOU;
    j->up.limit = UINT64_MAX;
    j->up.dirfd = sandbox_open_parent(f->rootfd, path, j->up.leaf, sizeof j->up.leaf);
    if (j->up.dirfd < 0 || open_target(f, j, mode) < 0) {
        if (errno == ERANGE)
            session_reply(f->s, "554 Invalid REST parameter: past the end of the file");
        else
            ftp_reply_errno(f, errno, args[0] ? args : path);
        job_free(j);
        return;
    }
    bool quota = runtime && runtime->cfg->files_quota_bytes;
    if (!quota && !rest) {
        upload_done(j); /* nothing blocking to do first */
        job_free(j);
        return;
    }
    j->rootfd = f->rootfd;
    job_run(j);
}

void ftp_cmd_stor(struct session *s, char *args)
{
    start_upload(ftp_of(s), args, UP_STOR);
}

void ftp_cmd_stou(struct session *s, char *args)
{
    start_upload(ftp_of(s), args, UP_STOU);
}

void ftp_cmd_appe(struct session *s, char *args)
{
    start_upload(ftp_of(s), args, UP_APPE);
}
