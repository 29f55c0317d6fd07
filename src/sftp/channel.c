/* channel: the request loop of one SFTP session (see channel.h). Input
 * holds at most one incomplete packet plus one read; complete requests are
 * handled strictly in order (draft-02 6: "the server may process requests
 * in any order" is allowed, in order is simplest and what clients expect
 * of writes to one handle). Replies accumulate and go out in one channel
 * write when no complete request is left, or when they pass OUT_FLUSH. A
 * packet announcing more than SFTP_MAX_PACKET ends the session. */
#include "sftp/channel.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "sftp/packet.h"
#include "sftp/sftp.h"

#define IN_CHUNK (64u << 10)
#define IN_CAP (SFTP_MAX_PACKET + 4 + IN_CHUNK)
#define OUT_FLUSH (256u << 10)

static int flush(struct sftp *s, ssh_channel ch)
{
    if (s->out.failed)
        return -1;
    if (s->out.len == 0)
        return 0;
    int n = ssh_channel_write(ch, s->out.buf, (uint32_t)s->out.len);
    s->out.len = 0;
    return n == SSH_ERROR ? -1 : 0;
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
static long process(struct sftp_link *l, struct sftp *s, ssh_channel ch,
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
        if (s->out.len >= OUT_FLUSH && flush(s, ch) < 0)
            return -1;
    }
}

/* More input: what is there, else (after flushing the replies) a blocking
 * read. Returns bytes, 0 at EOF, -1 on error. */
static int read_more(struct sftp *s, ssh_channel ch, uint8_t *p, uint32_t room)
{
    int n = ssh_channel_read_nonblocking(ch, p, room, 0);
    if (n != 0)
        return n < 0 ? -1 : n;
    if (flush(s, ch) < 0 || ssh_channel_is_eof(ch))
        return -1;
    n = ssh_channel_read(ch, p, room, 0);
    return n < 0 ? -1 : n;
}

static void serve_loop(struct sftp_link *l, struct sftp *s, ssh_channel ch, uint8_t *in)
{
    size_t len = 0;
    for (;;) {
        long used = process(l, s, ch, in, len);
        if (used < 0)
            return;
        memmove(in, in + used, len - (size_t)used);
        len -= (size_t)used;
        int n = read_more(s, ch, in + len, (uint32_t)(IN_CAP - len));
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
    serve_loop(l, s, ch, in);
    flush(s, ch);
    log_info(l->sid, "sftp end user=%s read=%llu written=%llu", acct->address,
             (unsigned long long)s->bytes_read, (unsigned long long)s->bytes_written);
    free(in);
    sftp_free(s);
}
