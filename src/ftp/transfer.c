/* transfer: moving the bytes of one RETR/LIST/STOR (see transfer.h).
 * Plain binary RETR hands the file to the kernel (sendfile through a libevent
 * file segment, queued in pieces so one loop pass sends at most one piece);
 * TLS and TYPE A read bounded chunks as the output drains.
 * Uploads are written as they arrive, and acknowledged with 226 only after
 * fsync + rename + directory fsync ran on the work pool (DESIGN.md
 * "Nothing acknowledged is ever lost"). */
#include "ftp/transfer.h"
#include "store/sweep.h"

#include "core/fileio.h"
#include "core/log.h"
#include "ftp/data.h"
#include "ftp/ftp.h"
#include "ftp/parse.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XFER_CHUNK (256u << 10)   /* file bytes read per fill (TLS, TYPE A) */
#define XFER_LOWAT (512u << 10)   /* refill when the output falls this low */
#define XFER_WRITEBACK (8u << 20) /* start writeback of uploads every 8 MiB */
/* libevent hands a whole file-segment chain to one sendfile() call, and on
 * loopback one call can move hundreds of MiB while the other sessions of
 * this loop thread wait; queued in pieces, each call moves at most one. */
#define XFER_SENDFILE_PIECE (4u << 20)
/* libevent 2.1 reads a socket at most 4 KiB at a time (EVBUFFER_MAX_READ),
 * one loop pass each: 262,144 passes for a 1 GiB upload. A plain binary
 * upload that is not small reads the socket itself instead. */
#define XFER_DIRECT_AFTER (64u << 10) /* bytes received before switching */
#define XFER_DIRECT_READ (256u << 10) /* bytes per read() */
#define XFER_DIRECT_PASS (4u << 20)   /* bytes per loop pass at most */

enum xfer_kind { XFER_FILE, XFER_BUF, XFER_RECV };

struct ftp_xfer {
    enum xfer_kind kind;
    bool ascii, queued_all, committing, cr;
    int fd;                            /* XFER_FILE source (read by pread) */
    struct evbuffer_file_segment *seg; /* XFER_FILE source (by sendfile) */
    uint64_t pos, end;                 /* XFER_FILE range still to queue */
    uint64_t queued;                   /* bytes put on the data connection */
    uint64_t written;                  /* XFER_RECV: bytes in the file from us */
    uint64_t flushed;     /* XFER_RECV: written when writeback last started */
    struct evbuffer *buf; /* XFER_BUF */
    struct upload up;     /* XFER_RECV */
    uint8_t *rbuf;        /* XFER_RECV: direct reads (XFER_DIRECT_READ) */
    int commit_err;
};

static struct ftp_xfer *xfer_new(struct ftp *f, enum xfer_kind kind)
{
    struct ftp_xfer *x = calloc(1, sizeof *x);
    if (x) {
        x->kind = kind;
        x->fd = -1;
        x->up.dirfd = x->up.fd = -1;
        x->ascii = f->ascii;
    }
    return x;
}

static void upload_close(struct upload *u)
{
    if (u->fd >= 0)
        close(u->fd);
    if (u->dirfd >= 0)
        close(u->dirfd);
    u->fd = u->dirfd = -1;
}

void upload_discard(struct upload *u)
{
    if (u->tmp[0] && u->dirfd >= 0)
        unlinkat(u->dirfd, u->tmp, 0); /* a broken upload leaves no half-file */
    else if (u->fd >= 0 && u->start_size != UINT64_MAX &&
             ftruncate(u->fd, (off_t)u->start_size) < 0) /* APPE: back to before */
        log_warn(0, "ftp appe_truncate_failed error=%d", errno);
    if (u->dirfd >= 0)
        store_appe_journal_end(u->dirfd, u->journal);
    u->tmp[0] = '\0';
    upload_close(u);
}

static void xfer_destroy(struct ftp_xfer *x)
{
    if (!x)
        return;
    if (x->fd >= 0)
        close(x->fd);
    if (x->seg)
        evbuffer_file_segment_free(x->seg); /* closes the file with its last piece */
    if (x->buf)
        evbuffer_free(x->buf);
    free(x->rbuf);
    if (x->kind == XFER_RECV)
        upload_discard(&x->up); /* no-op after a commit */
    free(x);
}

/* The transfer is over (its reply sent): back to commands. */
static void end(struct ftp *f)
{
    /* The data connection's bytes belong to the session's access line. */
    if (f->xfer && f->xfer->kind == XFER_RECV)
        conn_add_bytes(f->s->conn, f->xfer->written, 0);
    else if (f->xfer)
        conn_add_bytes(f->s->conn, 0, f->xfer->queued);
    xfer_destroy(f->xfer);
    f->xfer = NULL;
    data_close(f);
    f->rest = 0;
    ftp_xfer_state(f, false);
}

bool xfer_running(const struct ftp *f)
{
    return f->xfer != NULL;
}

uint64_t xfer_bytes(const struct ftp *f)
{
    const struct ftp_xfer *x = f->xfer;
    if (!x)
        return 0;
    if (x->kind == XFER_RECV)
        return x->written;
    return x->queued - data_pending(f);
}

static void failed(struct ftp *f, bool opened)
{
    /* RFC 959 4.2: 425 could not open, 426 closed mid-transfer. */
    if (opened)
        session_reply(f->s, "426 Connection closed; transfer aborted");
    else
        session_reply(f->s, "425 Can't open data connection");
    end(f);
}

/* ---- sending (RETR, LIST, NLST, MLSD) ---- */

static int queue_chunk(struct ftp *f, struct ftp_xfer *x, struct evbuffer *out)
{
    uint64_t left = x->end - x->pos;
    size_t want = left < XFER_CHUNK ? (size_t)left : XFER_CHUNK;
    struct evbuffer_iovec v;
    size_t room = x->ascii ? 3 * want : want; /* read area + encoded copy */
    if (want == 0 || evbuffer_reserve_space(out, (ev_ssize_t)room, &v, 1) < 1)
        return want == 0 ? 0 : -1;
    uint8_t *raw = (uint8_t *)v.iov_base + (x->ascii ? 2 * want : 0);
    ssize_t n = pread(x->fd, raw, want, (off_t)x->pos);
    if (n <= 0) {
        v.iov_len = 0;
        evbuffer_commit_space(out, &v, 1);
        return n < 0 ? -1 : 0; /* 0: the file shrank, send what there was */
    }
    x->pos += (uint64_t)n;
    v.iov_len = x->ascii ? ftp_ascii_encode(raw, (size_t)n, v.iov_base) : (size_t)n;
    x->queued += v.iov_len;
    evbuffer_commit_space(out, &v, 1);
    return 1;
}

/* Sendfile: keeps about two pieces queued. */
static int fill_sendfile(struct ftp *f, struct ftp_xfer *x)
{
    struct evbuffer *out = data_output(f);
    while (x->pos < x->end && evbuffer_get_length(out) < 2 * XFER_SENDFILE_PIECE) {
        uint64_t left = x->end - x->pos;
        uint64_t n = left < XFER_SENDFILE_PIECE ? left : XFER_SENDFILE_PIECE;
        if (evbuffer_add_file_segment(out, x->seg, (ev_off_t)x->pos, (ev_off_t)n) < 0)
            return -1;
        x->pos += n;
        x->queued += n;
    }
    x->queued_all = x->pos == x->end;
    data_set_lowat(f, x->queued_all ? 0 : XFER_SENDFILE_PIECE);
    return 0;
}

/* Keeps about two chunks queued; -1 on a read error. */
static int fill(struct ftp *f, struct ftp_xfer *x)
{
    if (x->seg)
        return fill_sendfile(f, x);
    struct evbuffer *out = data_output(f);
    while (!x->queued_all && evbuffer_get_length(out) < 2 * XFER_LOWAT) {
        if (x->kind == XFER_BUF) {
            x->queued += evbuffer_get_length(x->buf);
            evbuffer_add_buffer(out, x->buf);
            x->queued_all = true;
            break;
        }
        int r = queue_chunk(f, x, out);
        if (r < 0)
            return -1;
        if (r == 0)
            x->queued_all = true;
    }
    data_set_lowat(f, x->queued_all ? 0 : XFER_LOWAT);
    return 0;
}

static void send_done(struct ftp *f)
{
    log_info(f->s->id, "ftp transfer sent bytes=%llu",
             (unsigned long long)f->xfer->queued);
    data_shutdown(f);
    session_reply(f->s, "226 Transfer complete");
    end(f);
}

static void send_drained(struct ftp *f)
{
    struct ftp_xfer *x = f->xfer;
    if (x->queued_all) {
        if (evbuffer_get_length(data_output(f)) == 0)
            send_done(f);
        return;
    }
    if (fill(f, x) < 0) {
        data_close(f);
        session_reply(f->s, "451 Local error: read failed");
        end(f);
    }
}

/* Plain binary files go out by sendfile: the kernel reads the page cache.
 * The segment spans the file from 0, so a piece's offset is the file's. */
static int queue_sendfile(struct ftp *f, struct ftp_xfer *x)
{
    x->seg =
        evbuffer_file_segment_new(x->fd, 0, (ev_off_t)x->end, EVBUF_FS_CLOSE_ON_FREE);
    if (!x->seg)
        return -1;
    x->fd = -1; /* the segment closes it */
    return fill_sendfile(f, x);
}

static void send_ready(struct ftp *f)
{
    struct ftp_xfer *x = f->xfer;
    int r;
    if (x->kind == XFER_FILE && !x->ascii && !data_is_tls(f) && x->end > x->pos)
        r = queue_sendfile(f, x);
    else
        r = fill(f, x);
    if (r < 0) {
        data_close(f);
        session_reply(f->s, "451 Local error: read failed");
        end(f);
        return;
    }
    if (x->queued_all && evbuffer_get_length(data_output(f)) == 0)
        send_done(f); /* empty file or listing: no write event will come */
}

static void send_readable(struct ftp *f, struct evbuffer *in)
{
    evbuffer_drain(in, evbuffer_get_length(in)); /* nothing is expected */
}

static void send_eof(struct ftp *f)
{
    data_close(f);
    failed(f, true);
}

static const struct data_ops send_ops = {
    .ready = send_ready,
    .readable = send_readable,
    .drained = send_drained,
    .eof = send_eof,
    .failed = failed,
};

/* ---- receiving (STOR, STOU, APPE) ---- */

static void recv_fail(struct ftp *f, int err)
{
    data_close(f);
    upload_discard(&f->xfer->up);
    if (err == EDQUOT || err == ENOSPC)
        session_reply(f->s, "452 Insufficient storage space%s",
                      err == EDQUOT ? ": quota exceeded" : "");
    else
        session_reply(f->s, "451 Local error: write failed");
    end(f);
}

/* TYPE A: CRLF -> LF, chunk by chunk. Returns bytes consumed or -1. */
static ssize_t recv_ascii(struct ftp_xfer *x, struct evbuffer *in, size_t len)
{
    size_t c = len < XFER_CHUNK ? len : XFER_CHUNK;
    uint8_t out[16384 + 1];
    if (c > sizeof out - 1)
        c = sizeof out - 1;
    uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)c);
    size_t m = ftp_ascii_decode(p, c, out, &x->cr);
    if (x->written + m > x->up.limit) {
        errno = EDQUOT;
        return -1;
    }
    if (fd_write_all(x->up.fd, out, m) < 0)
        return -1;
    evbuffer_drain(in, c);
    x->written += m;
    return (ssize_t)c;
}

static ssize_t recv_binary(struct ftp_xfer *x, struct evbuffer *in, size_t len)
{
    if (x->written + len > x->up.limit) {
        errno = EDQUOT;
        return -1;
    }
    int n = evbuffer_write_atmost(in, x->up.fd, (ev_ssize_t)len);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n <= 0)
        return -1;
    x->written += (uint64_t)n;
    return n;
}

/* Reads the plain socket straight into the file, after what the
 * bufferevent already read (so the order holds). Errors and EOF are left
 * for the bufferevent to find on its next read. -1 on a write error. */
static int recv_direct(struct ftp *f, struct ftp_xfer *x)
{
    int fd = data_plain_fd(f);
    if (fd < 0 || x->ascii || x->queued < XFER_DIRECT_AFTER)
        return 0;
    if (!x->rbuf && !(x->rbuf = malloc(XFER_DIRECT_READ)))
        return 0; /* the bufferevent goes on, 4 KiB at a time */
    for (size_t moved = 0; moved < XFER_DIRECT_PASS;) {
        ssize_t n = read(fd, x->rbuf, XFER_DIRECT_READ);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        if (x->written + (uint64_t)n > x->up.limit) {
            errno = EDQUOT;
            return -1;
        }
        if (fd_write_all(x->up.fd, x->rbuf, (size_t)n) < 0)
            return -1;
        x->written += (uint64_t)n;
        x->queued += (uint64_t)n;
        moved += (size_t)n;
        if ((size_t)n < XFER_DIRECT_READ)
            break; /* drained for now */
    }
    return 0;
}

static void recv_readable(struct ftp *f, struct evbuffer *in)
{
    struct ftp_xfer *x = f->xfer;
    size_t len;
    while ((len = evbuffer_get_length(in)) > 0) {
        ssize_t n = x->ascii ? recv_ascii(x, in, len) : recv_binary(x, in, len);
        if (n < 0) {
            recv_fail(f, errno);
            return;
        }
        x->queued += (uint64_t)n;
    }
    if (recv_direct(f, x) < 0) {
        recv_fail(f, errno);
        return;
    }
    /* Start writeback as the upload goes (it does not wait), so the fsync
     * before 226 has little left to do. */
    if (x->written - x->flushed >= XFER_WRITEBACK) {
        sync_file_range(x->up.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
        x->flushed = x->written;
    }
}

static void commit_work(void *arg)
{
    struct ftp *f = ftp_of(arg);
    struct upload *u = &f->xfer->up;
    int err = 0;
    if (fsync(u->fd) < 0)
        err = errno;
    if (!err && u->tmp[0]) {
        unsigned flags = u->unique ? RENAME_NOREPLACE : 0;
        if (renameat2(u->dirfd, u->tmp, u->dirfd, u->leaf, flags) < 0)
            err = errno;
        else
            u->tmp[0] = '\0';
    }
    if (!err && fsync(u->dirfd) < 0)
        err = errno;
    if (!err) {
        u->start_size = UINT64_MAX; /* committed: nothing to undo */
        store_appe_journal_end(u->dirfd, u->journal);
    }
    f->xfer->commit_err = err;
}

static void commit_done(struct session *s, void *arg)
{
    if (s) {
        struct ftp *f = ftp_of(s);
        struct ftp_xfer *x = f->xfer;
        if (x->commit_err) {
            errno = x->commit_err;
            log_warn(s->id, "ftp upload commit_failed error=%d", x->commit_err);
            upload_discard(&x->up);
            session_reply(s, "451 Local error: could not store the file");
        } else if (x->up.unique) {
            session_reply(s, "226 Transfer complete (unique file name:%s)", x->up.leaf);
        } else {
            session_reply(s, "226 Transfer complete");
        }
        log_info(s->id, "ftp transfer received bytes=%llu",
                 (unsigned long long)x->written);
        end(f);
    }
}

static void recv_eof(struct ftp *f)
{
    struct ftp_xfer *x = f->xfer;
    uint8_t last[1];
    if (x->ascii && ftp_ascii_decode(NULL, 0, last, &x->cr) == 1 &&
        fd_write_all(x->up.fd, last, 1) < 0) {
        recv_fail(f, errno);
        return;
    }
    data_shutdown(f); /* answers the client's close_notify */
    /* Pipelined commands wait for the 226 (and ABOR has nothing left). */
    x->committing = true;
    if (session_work(f->s, commit_work, commit_done, f->s) < 0) {
        commit_work(f->s); /* no pool: durable all the same, on this thread */
        commit_done(f->s, f->s);
    }
}

static void recv_ready(struct ftp *f) {}

static void recv_drained(struct ftp *f) {}

static const struct data_ops recv_ops = {
    .ready = recv_ready,
    .readable = recv_readable,
    .drained = recv_drained,
    .eof = recv_eof,
    .failed = failed,
};

/* ---- starting and stopping ---- */

static void begin(struct ftp *f, struct ftp_xfer *x, const struct data_ops *ops,
                  const char *what)
{
    if (ftp_clear_data_refused(f)) {
        /* RFC 4217 9: 521, the data connection cannot use this PROT. */
        session_reply(f->s, "521 Data connections must be encrypted: send PROT P");
        xfer_destroy(x);
        f->rest = 0;
        return;
    }
    if (!data_prepared(f)) {
        session_reply(f->s, "425 Use PORT, PASV, EPRT or EPSV first");
        xfer_destroy(x);
        f->rest = 0;
        return;
    }
    f->xfer = x;
    if (data_connected(f))
        session_reply(f->s, "125 %s",
                      strncmp(what, "FILE: ", 6) == 0
                          ? what /* RFC 1123 4.1.2.9 */
                          : "Data connection already open; transfer starting");
    else
        session_reply(f->s, "150 %s", what);
    ftp_xfer_state(f, true);
    if (data_start(f, ops, f->prot_p) < 0)
        failed(f, false);
}

void xfer_send_file(struct ftp *f, int fd, uint64_t offset, uint64_t endpos,
                    const char *name)
{
    struct ftp_xfer *x = xfer_new(f, XFER_FILE);
    if (!x) {
        close(fd);
        session_reply(f->s, "451 Local error: out of memory");
        return;
    }
    x->fd = fd;
    x->pos = offset;
    x->end = endpos;
    char what[512];
    snprintf(what, sizeof what, "Opening %s mode data connection for %s (%llu bytes)",
             f->ascii ? "ASCII" : "BINARY", name, (unsigned long long)(endpos - offset));
    begin(f, x, &send_ops, what);
}

void xfer_send_buf(struct ftp *f, struct evbuffer *buf, const char *what)
{
    struct ftp_xfer *x = xfer_new(f, XFER_BUF);
    if (!x) {
        evbuffer_free(buf);
        session_reply(f->s, "451 Local error: out of memory");
        return;
    }
    x->buf = buf;
    x->ascii = false; /* listings are already in NVT form (CRLF) */
    begin(f, x, &send_ops, what);
}

void xfer_recv(struct ftp *f, struct upload *u)
{
    struct ftp_xfer *x = xfer_new(f, XFER_RECV);
    if (!x) {
        upload_discard(u);
        session_reply(f->s, "451 Local error: out of memory");
        return;
    }
    x->up = *u;
    char what[600];
    if (u->unique) /* RFC 1123 4.1.2.9 */
        snprintf(what, sizeof what, "FILE: %s", u->leaf);
    else
        snprintf(what, sizeof what, "Opening %s mode data connection for %s",
                 f->ascii ? "ASCII" : "BINARY", u->leaf);
    begin(f, x, &recv_ops, what);
}

void xfer_abort(struct ftp *f)
{
    if (!f->xfer) {
        data_close(f);
        session_reply(f->s, "225 No transfer to abort");
        return;
    }
    data_close(f);
    log_info(f->s->id, "ftp transfer aborted bytes=%llu",
             (unsigned long long)xfer_bytes(f));
    session_reply(f->s, "426 Transfer aborted; data connection closed");
    session_reply(f->s, "226 ABOR successful");
    end(f);
}

void xfer_free(struct ftp *f)
{
    xfer_destroy(f->xfer);
    f->xfer = NULL;
}
