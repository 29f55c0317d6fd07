/* sftp: one SFTP session's state (after SSH authentication) and the request
 * handlers, one family per file: file.c (OPEN/CLOSE/READ/WRITE/FSTAT/
 * FSETSTAT, fsync), dir.c (OPENDIR/READDIR), fs.c (path requests), ext.c
 * (INIT and the OpenSSH extensions), handles.c. Handlers append their reply
 * to s->out; they do blocking file I/O, which is fine: a session runs on
 * its own thread, never on a loop (docs/DECISIONS.md "SFTP"). */
#pragma once
#include <dirent.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "core/limits.h"
#include "sftp/packet.h"
#include "sftp/reply.h"

enum sftp_handle_kind { SFTP_H_FILE, SFTP_H_DIR };

struct sftp_handle {
    enum sftp_handle_kind kind;
    uint32_t gen;
    int fd;   /* the file (or the temp file), or the dir's fd */
    DIR *dir; /* SFTP_H_DIR */
    bool can_read, can_write;
    bool append;             /* SSH_FXF_APPEND: every write goes to the end */
    bool excl;               /* commit must not replace a file that appeared */
    bool written;            /* a WRITE or truncation happened: fsync at CLOSE */
    bool over_quota;         /* a WRITE was refused: CLOSE removes the upload */
    int dirfd;               /* write handles: the directory of leaf */
    char tmp[64];            /* temp name in dirfd, "" when writing in place */
    char leaf[NAME_MAX + 1]; /* final name in dirfd */
    uint64_t start_size;     /* in place: size at OPEN, restored if over quota */
    uint64_t limit;          /* bytes the file may reach (quota), UINT64_MAX */
    uint64_t unsynced;       /* bytes written since writeback was last started */
};

struct sftp {
    uint64_t sid; /* session id in logs */
    int rootfd;   /* the account's file area */
    char user[AUTH_MAX_USERNAME + 1];
    char owner[65]; /* local part, shown in longnames */
    uint64_t quota; /* [ftp] quota: bytes of the file area, 0 = none */
    bool inited;    /* SSH_FXP_INIT seen */
    uint32_t gen, tmp_seq;
    int nhandles;
    struct sftp_handle *handles[SFTP_MAX_HANDLES];
    struct sftp_out out;
    uint64_t bytes_read, bytes_written;
};

/* rootfd is taken over (closed by sftp_free). NULL on failure. */
struct sftp *sftp_new(uint64_t sid, int rootfd, const char *user, const char *local,
                      uint64_t quota);
/* Closes every handle (uploads not CLOSEd are discarded) and frees. */
void sftp_free(struct sftp *s);

/* Handles one decoded request; the reply is appended to s->out. */
void sftp_dispatch(struct sftp *s, const struct sftp_req *r);
/* A request that could not be decoded (SSH_FX_BAD_MESSAGE / OP_UNSUPPORTED). */
void sftp_reply_undecodable(struct sftp *s, const struct sftp_req *r, enum sftp_decode d);

/* ---- shared by the handler files ---- */
void sftp_status(struct sftp *s, uint32_t id, uint32_t code, const char *msg);
void sftp_status_errno(struct sftp *s, uint32_t id, int err);
/* A client path as a virtual absolute path ("/a/b") in out (STORE_MAX_PATH
 * + 1 bytes); -1 with errno when it is not acceptable. */
int sftp_path(const struct sftp_str *p, char *out);
/* NAME with one entry whose attributes are empty (REALPATH, READLINK). */
void sftp_reply_name1(struct sftp *s, uint32_t id, const char *name);
void sftp_reply_attrs(struct sftp *s, uint32_t id, const struct stat *st);
/* Applies SETSTAT attributes to an open fd (size, permissions within 0777,
 * times; a uid/gid other than the file's is refused). 0 or -1 with errno. */
int sftp_apply_attrs(int fd, const struct sftp_attrs *a);
/* Bytes still free in the file area (UINT64_MAX without a quota). */
uint64_t sftp_quota_room(struct sftp *s);

struct sftp_handle *sftp_handle_new(struct sftp *s, enum sftp_handle_kind kind);
struct sftp_handle *sftp_handle_get(struct sftp *s, const struct sftp_str *h);
void sftp_handle_reply(struct sftp *s, uint32_t id, const struct sftp_handle *h);
/* Frees the slot (fds already closed by the caller). */
void sftp_handle_release(struct sftp *s, struct sftp_handle *h);
/* Undoes an upload that will not be CLOSEd well: temp removed, or an
 * in-place file cut back to its size at OPEN; closes the fds. */
void sftp_handle_discard(struct sftp_handle *h);

void sftp_req_open(struct sftp *s, const struct sftp_req *r);
void sftp_req_close(struct sftp *s, const struct sftp_req *r);
void sftp_req_read(struct sftp *s, const struct sftp_req *r);
void sftp_req_write(struct sftp *s, const struct sftp_req *r);
void sftp_req_fstat(struct sftp *s, const struct sftp_req *r);
void sftp_req_fsetstat(struct sftp *s, const struct sftp_req *r);
void sftp_req_fsync(struct sftp *s, const struct sftp_req *r);
void sftp_req_fstatvfs(struct sftp *s, const struct sftp_req *r);
void sftp_req_opendir(struct sftp *s, const struct sftp_req *r);
void sftp_req_readdir(struct sftp *s, const struct sftp_req *r);
void sftp_req_stat(struct sftp *s, const struct sftp_req *r);
void sftp_req_lstat(struct sftp *s, const struct sftp_req *r);
void sftp_req_setstat(struct sftp *s, const struct sftp_req *r);
void sftp_req_remove(struct sftp *s, const struct sftp_req *r);
void sftp_req_mkdir(struct sftp *s, const struct sftp_req *r);
void sftp_req_rmdir(struct sftp *s, const struct sftp_req *r);
void sftp_req_realpath(struct sftp *s, const struct sftp_req *r);
void sftp_req_rename(struct sftp *s, const struct sftp_req *r);
void sftp_req_readlink(struct sftp *s, const struct sftp_req *r);
void sftp_req_symlink(struct sftp *s, const struct sftp_req *r);
void sftp_req_hardlink(struct sftp *s, const struct sftp_req *r);
void sftp_req_statvfs(struct sftp *s, const struct sftp_req *r);
void sftp_req_init(struct sftp *s, const struct sftp_req *r);
void sftp_req_extended(struct sftp *s, const struct sftp_req *r);
