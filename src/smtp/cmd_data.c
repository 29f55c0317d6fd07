/* cmd_data: the message body. DATA (RFC 5321 4.1.1.4) through the dot
 * state machine (smtp/dot.h) and BDAT (RFC 3030) as counted chunks, both
 * streamed into an unnamed spool file (O_TMPFILE in queue/: nothing is left
 * behind by a crash; reused, smtp/spool.h), never whole in memory. The size
 * limit (RFC 1870, 552 5.3.4) is enforced while reading; the rest is still
 * consumed. */
#include "core/fileio.h"
#include "core/log.h"
#include "smtp/smtp.h"
#include "smtp/spool.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DATA_CHUNK 16384

static int spool_open(struct session *s)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    if (t->spoolfd >= 0)
        return 0;
    t->spoolfd = runtime ? smtp_spool_get(runtime->datadir_fd) : -1;
    if (t->spoolfd < 0) {
        log_error(s->id, "smtp spool_open_failed errno=%d", errno);
        return -1;
    }
    return 0;
}

/* Whether the file system under fd is out of room (a counted BDAT write
 * reports no errno back to us). */
static bool storage_full(int fd)
{
    struct statvfs sv;
    return fd >= 0 && fstatvfs(fd, &sv) == 0 && sv.f_bavail * sv.f_frsize < SMTP_MIN_FREE;
}

static void spool_failed(struct smtp_txn *t, int err)
{
    t->spool_failed = true;
    if (err == ENOSPC || err == EDQUOT || storage_full(t->spoolfd))
        t->no_space = true;
}

static void spool_append(struct smtp_txn *t, const char *p, size_t n)
{
    t->bytes += n;
    if (t->bytes > smtp_max_size())
        t->too_big = true;
    if (!t->too_big && !t->spool_failed && fd_write_all(t->spoolfd, p, n) < 0)
        spool_failed(t, errno);
}

/* RFC 5321 4.5.3.2.5/6 bound each read (3 min) and the wait after the
 * final dot (10 min), not the whole DATA: a client sending a byte every few
 * seconds would hold the session forever. The whole body gets the 10
 * minutes plus the largest message at a minimum rate ([smtp] data_timeout
 * overrides). */
static unsigned data_deadline(void)
{
    if (runtime && runtime->cfg->smtp_data_timeout > 0)
        return (unsigned)runtime->cfg->smtp_data_timeout;
    return SMTP_DATA_DEADLINE_SEC + (unsigned)(smtp_max_size() / SMTP_DATA_MIN_RATE);
}

/* The body is complete: refuse it or hand it to delivery. */
static void body_end(struct session *s)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    session_set_deadline(s, 0);
    if (t->too_big) {
        log_info(s->id, "smtp refused why=size bytes=%llu", (unsigned long long)t->bytes);
        session_reply(s, "552 5.3.4 Message size exceeds fixed limit");
        smtp_txn_reset(s);
    } else if (t->spool_failed && t->no_space) {
        /* RFC 3463 3.4: 4.3.1 Mail system full; RFC 5321 4.2.3: 452. */
        session_reply(s, "452 4.3.1 Insufficient system storage");
        smtp_txn_reset(s);
    } else if (t->spool_failed) {
        session_reply(s, "451 4.3.0 Cannot spool the message");
        smtp_txn_reset(s);
    } else {
        smtp_deliver_start(s);
    }
}

static bool data_raw(struct session *s, struct evbuffer *in)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    char out[DATA_CHUNK + 1];
    while (t->dot.st != DOT_END && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t n = v.iov_len < DATA_CHUNK ? v.iov_len : DATA_CHUNK, olen = 0;
        size_t used = dot_feed(&t->dot, v.iov_base, n, out, &olen);
        spool_append(t, out, olen);
        evbuffer_drain(in, used);
    }
    if (t->dot.st != DOT_END)
        return false;
    body_end(s);
    return true;
}

void smtp_cmd_data(struct session *s, char *args)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    if (args[0]) {
        session_reply(s, "501 5.5.4 Syntax: DATA");
        return;
    }
    if (spool_open(s) < 0) {
        session_reply(s, "451 4.3.0 Cannot spool the message");
        return;
    }
    t->dot.st = DOT_BOL;
    session_set_deadline(s, data_deadline());
    session_reply(s, "354 End data with <CR><LF>.<CR><LF>");
    session_read_raw(s, data_raw);
}

/* ---- BDAT ---- */

static void bdat_refused(struct session *s, int status)
{
    struct smtp *m = smtp_of(s);
    session_reply(s, "%s", m->pending_error);
    m->pending_error = NULL;
}

static void bdat_done(struct session *s, int status)
{
    struct smtp_txn *t = &smtp_of(s)->txn;
    if (status < 0)
        spool_failed(t, 0);
    if (t->bdat_last || t->too_big || t->spool_failed)
        body_end(s);
    else
        session_reply(s, "250 2.0.0 Chunk received, %llu octets so far",
                      (unsigned long long)t->bytes);
}

/* Why this chunk cannot join a transaction, or NULL. */
static const char *bdat_refusal(struct session *s)
{
    if (smtp_of(s)->role == SMTP_ROLE_SUBMISSION && !s->authenticated)
        return "530 5.7.0 Authentication required";
    if (s->state != SMTP_RCPT && s->state != SMTP_BDAT)
        return "503 5.5.1 Bad sequence of commands";
    return NULL;
}

void smtp_cmd_bdat(struct session *s, char *args)
{
    struct smtp *m = smtp_of(s);
    struct smtp_txn *t = &m->txn;
    unsigned long long size;
    bool last;
    if (smtp_parse_bdat(args, &size, &last) < 0) {
        session_reply(s, "501 5.5.4 Syntax: BDAT size [LAST]");
        return;
    }
    /* RFC 3030 2: a refused chunk's octets are still read and dropped. */
    m->pending_error = bdat_refusal(s);
    if (!m->pending_error && spool_open(s) < 0)
        m->pending_error = "451 4.3.0 Cannot spool the message";
    if (m->pending_error) {
        session_read_counted(s, size, -1, NULL, bdat_refused);
        return;
    }
    if (s->state != SMTP_BDAT)
        session_set_deadline(s, data_deadline());
    session_set_state(s, SMTP_BDAT);
    t->bdat_last = last;
    t->bytes += size;
    if (t->bytes > smtp_max_size() || t->bytes < size)
        t->too_big = true;
    int fd = t->too_big || t->spool_failed ? -1 : t->spoolfd;
    session_read_counted(s, size, fd, NULL, bdat_done);
}
