/* cmd_fs: commands that act on names without a data connection: RFC 959
 * 4.1.1 CWD CDUP, 4.1.3 PWD MKD RMD DELE RNFR RNTO and SITE CHMOD, RFC
 * 3659 SIZE MDTM MLST, and MFMT. Every path goes through the sandbox. */
#include "ftp/ftp.h"

#include "ftp/list.h"
#include "ftp/parse.h"
#include "store/sandbox.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* RFC 959 Appendix II: a quote inside a quoted path name is doubled. */
static void reply_257(struct ftp *f, const char *path, const char *text)
{
    struct evbuffer *out = conn_output(f->s->conn);
    evbuffer_add(out, "257 \"", 5);
    for (const char *p = path; *p; p++) {
        evbuffer_add(out, p, 1);
        if (*p == '"')
            evbuffer_add(out, p, 1);
    }
    evbuffer_add_printf(out, "\" %s\r\n", text);
}

static void change_dir(struct ftp *f, const char *args, int code)
{
    char path[STORE_MAX_PATH + 1];
    if (ftp_path(f, args, path) < 0)
        return;
    int fd = sandbox_open(f->rootfd, path, O_RDONLY | O_DIRECTORY, 0);
    if (fd < 0) {
        ftp_reply_errno(f, errno, args);
        return;
    }
    close(fd);
    char *cwd = strdup(path);
    if (!cwd) {
        session_reply(f->s, "451 Local error: out of memory");
        return;
    }
    free(f->cwd);
    f->cwd = cwd;
    session_reply(f->s, "%d Directory changed to %s", code, cwd);
}

void ftp_cmd_cwd(struct session *s, char *args)
{
    change_dir(ftp_of(s), args, 250);
}

void ftp_cmd_cdup(struct session *s, char *args)
{
    change_dir(ftp_of(s), "..", 200); /* RFC 959 4.2: CDUP answers 200 */
}

void ftp_cmd_pwd(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    reply_257(f, f->cwd, "is the current directory");
}

/* ---- MKD, RMD, DELE, RNTO: on the work pool, durable before the reply ---- */

enum fs_op { FS_MKD, FS_RMD, FS_DELE, FS_RENAME };

struct fs_job {
    int rootfd; /* the session's, alive while the job holds the session */
    enum fs_op op;
    int err;
    char path[STORE_MAX_PATH + 1];
    char from[STORE_MAX_PATH + 1]; /* FS_RENAME */
    char arg[STORE_MAX_PATH + 1];  /* as the client wrote it, for replies */
};

static int fs_apply(struct fs_job *j)
{
    switch (j->op) {
    case FS_MKD:
        return sandbox_mkdir(j->rootfd, j->path, 0755);
    case FS_RMD:
        return sandbox_rmdir(j->rootfd, j->path);
    case FS_DELE:
        return sandbox_unlink(j->rootfd, j->path);
    case FS_RENAME:
        if (sandbox_rename(j->rootfd, j->from, j->path) < 0)
            return -1;
        return sandbox_sync_parent(j->rootfd, j->from);
    }
    return -1;
}

static void fs_work(void *arg)
{
    struct fs_job *j = arg;
    if (fs_apply(j) < 0 || sandbox_sync_parent(j->rootfd, j->path) < 0)
        j->err = errno;
}

static void fs_done(struct session *s, void *arg)
{
    struct fs_job *j = arg;
    if (s && j->err)
        ftp_reply_errno(ftp_of(s), j->err, j->arg);
    else if (s && j->op == FS_MKD)
        reply_257(ftp_of(s), j->path, "created");
    else if (s && j->op == FS_RENAME)
        session_reply(s, "250 Renamed");
    else if (s)
        session_reply(s, "250 %s removed", j->arg);
    free(j);
}

/* Resolves args (replying on failure) and runs op on the pool. */
static void fs_start(struct ftp *f, const char *args, enum fs_op op, const char *from)
{
    struct fs_job *j = calloc(1, sizeof *j);
    if (!j) {
        session_reply(f->s, "451 Local error: out of memory");
        return;
    }
    *j = (struct fs_job){.rootfd = f->rootfd, .op = op};
    snprintf(j->arg, sizeof j->arg, "%s", args);
    if (from)
        snprintf(j->from, sizeof j->from, "%s", from);
    if (ftp_path(f, args, j->path) < 0) {
        free(j);
        return;
    }
    if ((op == FS_RMD || op == FS_DELE) && strcmp(j->path, "/") == 0) {
        session_reply(f->s, "550 Cannot remove the root");
        free(j);
        return;
    }
    if (session_work(f->s, fs_work, fs_done, j) < 0) {
        session_reply(f->s, "451 Local error: try again");
        free(j);
    }
}

void ftp_cmd_mkd(struct session *s, char *args)
{
    fs_start(ftp_of(s), args, FS_MKD, NULL);
}

void ftp_cmd_rmd(struct session *s, char *args)
{
    fs_start(ftp_of(s), args, FS_RMD, NULL);
}

void ftp_cmd_dele(struct session *s, char *args)
{
    fs_start(ftp_of(s), args, FS_DELE, NULL);
}

void ftp_cmd_rnfr(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    char path[STORE_MAX_PATH + 1];
    struct stat st;
    if (ftp_path(f, args, path) < 0)
        return;
    if (sandbox_stat(f->rootfd, path, &st) < 0) {
        ftp_reply_errno(f, errno, args);
        return;
    }
    free(f->rnfr);
    f->rnfr = strdup(path);
    if (!f->rnfr)
        session_reply(s, "451 Local error: out of memory");
    else
        session_reply(s, "350 Ready for RNTO");
}

void ftp_cmd_rnto(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    if (!f->rnfr) {
        session_reply(s, "503 RNFR first");
        return;
    }
    char *from = f->rnfr;
    f->rnfr = NULL; /* RFC 959 4.1.3: RNTO must follow RNFR directly */
    fs_start(f, args, FS_RENAME, from);
    free(from);
}

/* stat() of a client path, replying on failure. */
static int stat_arg(struct ftp *f, const char *args, char *path, struct stat *st)
{
    if (ftp_path(f, args, path) < 0)
        return -1;
    if (sandbox_stat(f->rootfd, path, st) < 0) {
        ftp_reply_errno(f, errno, args);
        return -1;
    }
    return 0;
}

void ftp_cmd_size(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    char path[STORE_MAX_PATH + 1];
    struct stat st;
    if (stat_arg(f, args, path, &st) < 0)
        return;
    if (!S_ISREG(st.st_mode)) /* RFC 3659 4.2 */
        session_reply(s, "550 %s: not a regular file", args);
    else
        session_reply(s, "213 %llu", (unsigned long long)st.st_size);
}

void ftp_cmd_mdtm(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    char path[STORE_MAX_PATH + 1], when[16];
    struct stat st;
    if (stat_arg(f, args, path, &st) < 0)
        return;
    ftp_format_time(st.st_mtime, when, sizeof when); /* RFC 3659 3.1, UTC */
    session_reply(s, "213 %s", when);
}

/* Opens a path for a metadata change (MFMT, SITE CHMOD). */
static int open_meta(struct ftp *f, const char *args, char *path)
{
    if (ftp_path(f, args, path) < 0)
        return -1;
    int fd = sandbox_open(f->rootfd, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0);
    if (fd < 0)
        ftp_reply_errno(f, errno, args);
    return fd;
}

void ftp_cmd_mfmt(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    time_t t;
    const char *name = ftp_parse_time(args, &t);
    if (!name || !*name) {
        session_reply(s, "501 Syntax: MFMT YYYYMMDDHHMMSS path");
        return;
    }
    char path[STORE_MAX_PATH + 1], when[16];
    int fd = open_meta(f, name, path);
    if (fd < 0)
        return;
    struct timespec ts[2] = {{0, UTIME_OMIT}, {t, 0}};
    int r = futimens(fd, ts);
    close(fd);
    if (r < 0) {
        ftp_reply_errno(f, errno, name);
        return;
    }
    ftp_format_time(t, when, sizeof when);
    session_reply(s, "213 Modify=%s; %s", when, name);
}

void ftp_site_chmod(struct ftp *f, char *args)
{
    char *sp = strchr(args, ' ');
    uint64_t mode;
    if (!sp)
        goto syntax;
    *sp = '\0';
    if (ftp_parse_u64(args, 8, &mode) < 0 || mode > 07777)
        goto syntax;
    char path[STORE_MAX_PATH + 1];
    int fd = open_meta(f, sp + 1, path);
    if (fd < 0)
        return;
    int r = fchmod(fd, (mode_t)(mode & 0777)); /* no set-id bits from clients */
    close(fd);
    if (r < 0)
        ftp_reply_errno(f, errno, sp + 1);
    else
        session_reply(f->s, "200 SITE CHMOD command ok");
    return;
syntax:
    session_reply(f->s, "501 Syntax: SITE CHMOD <octal mode> <path>");
}

void ftp_cmd_mlst(struct session *s, char *args)
{
    struct ftp *f = ftp_of(s);
    char path[STORE_MAX_PATH + 1];
    struct stat st;
    if (stat_arg(f, args[0] ? args : ".", path, &st) < 0)
        return;
    /* RFC 3659 7.2: facts, one space, the pathname. */
    struct evbuffer *out = conn_output(s->conn);
    evbuffer_add_printf(out, "250-Listing %s\r\n ", path);
    list_entry(out, LIST_MLSD, path, &st, NULL, s->state != FTP_USER, time(NULL));
    session_reply(s, "250 End");
}
