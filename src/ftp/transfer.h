/* transfer: one running transfer of a session (RFC 959 3.4 stream mode):
 * a file or a listing sent, or an upload received, with TYPE A conversion,
 * REST offsets, the quota, the durable commit of uploads (temp name, fsync,
 * rename, directory fsync on the work pool before 226) and ABOR. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

struct ftp;
struct evbuffer;

/* An upload being set up by cmd_xfer.c; the transfer takes its fds. */
struct upload {
    int dirfd;               /* directory of the final name */
    int fd;                  /* temp file (or the file itself for APPE) */
    char tmp[64];            /* temp name in dirfd, "" when writing in place */
    char leaf[NAME_MAX + 1]; /* final name in dirfd */
    bool unique;             /* STOU: never replace an existing file */
    uint64_t start_size;     /* APPE: size before, restored on failure */
    char journal[80];        /* APPE: its journal (store/sweep.h), or "" */
    uint64_t limit;          /* bytes the file may reach (quota), UINT64_MAX */
};

/* Each replies 150 (or 125) and starts; on any failure it replies itself.
 * xfer_send_file owns fd; xfer_send_buf owns buf; xfer_recv owns u's fds. */
void xfer_send_file(struct ftp *f, int fd, uint64_t offset, uint64_t end,
                    const char *name);
void xfer_send_buf(struct ftp *f, struct evbuffer *buf, const char *what);
void xfer_recv(struct ftp *f, struct upload *u);

bool xfer_running(const struct ftp *f);
/* Bytes moved on the data connection so far (STAT during a transfer). */
uint64_t xfer_bytes(const struct ftp *f);
/* RFC 959 4.1.3 ABOR: 426 for the cancelled transfer, then 226. */
void xfer_abort(struct ftp *f);
/* Session end: drops the transfer and any temp file, no reply. */
void xfer_free(struct ftp *f);
/* Undoes an upload that will not complete (temp removed, APPE truncated). */
void upload_discard(struct upload *u);
