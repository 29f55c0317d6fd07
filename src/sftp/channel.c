/* channel: the request loop of one SFTP session (see channel.h). Input
 * holds at most one incomplete packet plus one read; complete requests are
 * handled strictly in order (draft-02 6: "the server may process requests
 * in any order" is allowed, in order is simplest and what clients expect
 * of writes to one handle). Replies accumulate and go out in one channel
 * write when no request is left, neither complete in the buffer nor on
 * its way in the socket, or when they pass OUT_FLUSH bytes or
 * OUT_FLUSH_REPLIES packets. A packet announcing more than SFTP_MAX_PACKET
 * ends the session.
 *
 * Reads ask libssh for up to IN_CHUNK bytes: libssh 0.10 grows the
 * channel's receive window to the size of a read (below it keeps it
 * between 0.6 and 1.2 MiB), so this is what lets a client keep 2 MiB of
 * WRITEs in flight, as OpenSSH's sftp does (64 x 32 KiB). */
#include "sftp/channel.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "sftp/packet.h"
#include "sftp/sftp.h"

#define IN_CHUNK (4u << 20)
#define IN_CAP (SFTP_MAX_PACKET + 4 + IN_CHUNK)
#define OUT_FLUSH (256u << 10)
#define OUT_FLUSH_REPLIES 16 /* a quarter of OpenSSH sftp's 64 requests */

struct reader {
    ssh_channel ch;
    int fd;           /* the session's socket, to see bytes not yet read */
    unsigned replies; /* packets in the output since the last flush */
};

static int flush(struct sftp *s, struct reader *rd)
{
    if (s->out.failed)
        return -1;
    rd->replies = 0;
    if (s->out.len == 0)
        return 0;
    int n = ssh_channel_write(rd->ch, s->out.buf, (uint32_t)s->out.len);
    s->out.len = 0;
    if (n == SSH_ERROR)
        return -1;
    return 0;
}

static bool flush_due(const struct sftp *s, const struct reader *rd)
{
    return s->out.len >= OUT_FLUSH || rd->replies >= OUT_FLUSH_REPLIES;
}

/* Handles one complete packet; -1 ends the session. */
static int handle_packet(struct sftp_link *l, struct sftp *s, const uint8_t *body,
                         size_t len)
{
    struct sftp_req r;
    enum sftp_decode d = sftp_decode(body, len, &r);
    sftp_link_touch(l);
    if (!s->inited && (d != SFTP_DECODE_OK || r.type != SSH_FXP_INIT)) {
        log_info(s->sid, "sftp protocol_error reason=no_init type=%u", r.type);
        return -1; /* draft-02 4: the first packet is SSH_FXP_INIT */
    }
    uint64_t start = metrics_now_us();
    if (d != SFTP_DECODE_OK)
        sftp_reply_undecodable(s, &r, d);
    else
        sftp_dispatch(s, &r);
    atomic_fetch_add(&l->requests, 1);
    metrics_add(SVC_SFTP, MET_COMMANDS, 1);
    metrics_latency(SVC_SFTP, metrics_now_us() - start);
    return 0;
}

/* Handles every complete packet in in[0..len); returns the bytes used,
 * or -1 to end the session. */
static long process(struct sftp_link *l, struct sftp *s, struct reader *rd,
                    const uint8_t *in, size_t len)
{
    size_t used = 0, total = 0;
    for (;;) {
        enum sftp_frame f = sftp_frame(in + used, len - used, SFTP_MAX_PACKET, &total);
        if (f == SFTP_FRAME_NEED)
            return (long)used;
        if (f != SFTP_FRAME_OK) {
            log_info(s->sid, "sftp protocol_error reason=%s",
                     f == SFTP_FRAME_TOO_BIG ? "packet_too_large" : "empty_packet");
            return -1;
        }
        if (handle_packet(l, s, in + used + 4, total - 4) < 0)
            return -1;
        used += total;
        rd->replies++;
        if (flush_due(s, rd) && flush(s, rd) < 0)
            return -1;
    }
}

/* True while the kernel holds bytes libssh has not read yet. */
static bool socket_pending(int fd)
{
    int n = 0;
    return ioctl(fd, FIONREAD, &n) == 0 && n > 0;
}

/* What libssh has decoded, else what the socket already holds (libssh
 * reads it 4 KiB per call, so a 32 KiB WRITE takes several): never waits
 * for the client. Returns bytes, 0 for none, -1 on error. */
static int read_ready(struct reader *rd, uint8_t *p, uint32_t room)
{
    for (;;) {
        int n = ssh_channel_read_nonblocking(rd->ch, p, room, 0);
        if (n < 0)
            return -1;
        if (n > 0 || !socket_pending(rd->fd))
            return n;
    }
}

/* More input: what is there or on its way, else (after flushing the
 * replies) a blocking read. Returns bytes, 0 at EOF, -1 on error. */
static int read_more(struct sftp *s, struct reader *rd, uint8_t *p, uint32_t room)
{
    int n = read_ready(rd, p, room);
    if (n != 0)
        return n;
    if (flush(s, rd) < 0 || ssh_channel_is_eof(rd->ch))
        return -1;
    n = ssh_channel_read(rd->ch, p, room, 0);
    if (n < 0)
        return -1;
    return n;
}

static void serve_loop(struct sftp_link *l, struct sftp *s, struct reader *rd,
                       uint8_t *in)
{
    size_t len = 0;
    for (;;) {
        long used = process(l, s, rd, in, len);
        if (used < 0)
            return;
        memmove(in, in + used, len - (size_t)used);
        len -= (size_t)used;
        int n = read_more(s, rd, in + len, (uint32_t)(IN_CAP - len));
        if (n <= 0)
            return;
        len += (size_t)n;
    }
}

void sftp_channel_serve(struct sftp_link *l, ssh_channel ch, int rootfd,
                        const struct account *acct)
{
    uint64_t quota = runtime ? runtime->cfg->files_quota_bytes : 0;
    struct sftp *s = sftp_new(l->sid, rootfd, acct->address, acct->local, quota);
    uint8_t *in = s != NULL ? malloc(IN_CAP) : NULL;
    if (in == NULL) {
        log_error(l->sid, "sftp out_of_memory");
        if (s == NULL)
            close(rootfd);
        sftp_free(s);
        return;
    }
    struct reader rd = {ch, ssh_get_fd(ssh_channel_get_session(ch)), 0};
    serve_loop(l, s, &rd, in);
    flush(s, &rd);
    log_info(l->sid, "sftp end user=%s read=%llu written=%llu", acct->address,
             (unsigned long long)s->bytes_read, (unsigned long long)s->bytes_written);
    free(in);
    sftp_free(s);
}
