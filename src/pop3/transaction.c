/* pop3 transaction: the TRANSACTION state (RFC 1939 5) and the UPDATE state
 * after QUIT (RFC 1939 6). RETR and TOP stream the message file through the
 * session with bounded memory. */
#include "pop3/pop3.h"

#include "core/log.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Parses a message number and checks it names a message not deleted;
 * replies -ERR and returns -1 otherwise. */
static int message_arg(struct session *s, const char *arg, uint32_t *n)
{
    struct pop3 *p = pop3_of(s);
    if (pop3_parse_msgno(arg, n) < 0) {
        session_reply(s, "-ERR syntax: a message number is needed");
        return -1;
    }
    switch (maildrop_check(p->drop, *n)) {
    case 0:
        return 0;
    case -2:
        session_reply(s, "-ERR message %u already deleted", *n);
        return -1;
    default:
        session_reply(s, "-ERR no such message, only %u in maildrop",
                      maildrop_total(p->drop));
        return -1;
    }
}

void pop3_cmd_stat(struct session *s, char *args)
{
    struct pop3 *p = pop3_of(s);
    session_reply(s, "+OK %zu %llu", maildrop_count(p->drop),
                  (unsigned long long)maildrop_octets(p->drop));
}

/* LIST and UIDL share their shape: one message, or every one not deleted. */
static void scan_listing(struct session *s, char *args, bool uidl)
{
    struct pop3 *p = pop3_of(s);
    char uid[64];
    uint32_t n;
    if (*args) {
        if (message_arg(s, args, &n) < 0)
            return;
        if (uidl) {
            maildrop_uidl(p->drop, n, uid, sizeof uid);
            session_reply(s, "+OK %u %s", n, uid);
        } else {
            session_reply(s, "+OK %u %llu", n, (unsigned long long)maildrop_size(p->drop, n));
        }
        return;
    }
    session_reply(s, "+OK %zu messages (%llu octets)", maildrop_count(p->drop),
                  (unsigned long long)maildrop_octets(p->drop));
    for (n = 1; n <= maildrop_total(p->drop); n++) {
        if (maildrop_check(p->drop, n) != 0)
            continue;
        if (uidl) {
            maildrop_uidl(p->drop, n, uid, sizeof uid);
            session_printf(s, "%u %s\r\n", n, uid);
        } else {
            session_printf(s, "%u %llu\r\n", n, (unsigned long long)maildrop_size(p->drop, n));
        }
    }
    session_printf(s, ".\r\n");
}

void pop3_cmd_list(struct session *s, char *args)
{
    scan_listing(s, args, false);
}

void pop3_cmd_uidl(struct session *s, char *args)
{
    scan_listing(s, args, true);
}

/* ---- RETR / TOP: streaming ---- */

#define READ_CHUNK (32 << 10)

static int produce_message(struct session *s, struct evbuffer *out, size_t room, void *arg)
{
    struct pop3 *p = pop3_of(s);
    char buf[READ_CHUNK];
    size_t start = evbuffer_get_length(out);
    while (!p->conv.done && evbuffer_get_length(out) - start < room) {
        /* The size is known: no read is spent on finding the end. */
        size_t want = p->msg_left < sizeof buf ? (size_t)p->msg_left : sizeof buf;
        ssize_t n = want ? read(p->msg_fd, buf, want) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            log_warn(s->id, "pop3 retr read_error errno=%d", errno);
            return -1;
        }
        p->msg_left -= (uint64_t)n;
        pop3_conv_feed(&p->conv, buf, (size_t)n, out);
        if (n == 0 || p->msg_left == 0)
            pop3_conv_finish(&p->conv, out);
    }
    if (!p->conv.done)
        return 0;
    close(p->msg_fd);
    p->msg_fd = -1;
    evbuffer_add(out, ".\r\n", 3);
    return 1;
}

static void send_message(struct session *s, uint32_t n, bool top, uint64_t lines)
{
    struct pop3 *p = pop3_of(s);
    int fd = maildrop_open_message(p->drop, n);
    if (fd < 0) {
        session_reply(s, "-ERR [SYS/TEMP] message %u cannot be read", n);
        return;
    }
    p->msg_fd = fd;
    p->msg_left = maildrop_file_size(p->drop, n);
    pop3_conv_init(&p->conv, top, lines);
    if (top)
        session_reply(s, "+OK top of message follows");
    else
        session_reply(s, "+OK %llu octets", (unsigned long long)maildrop_size(p->drop, n));
    session_stream(s, produce_message, NULL);
}

void pop3_cmd_retr(struct session *s, char *args)
{
    uint32_t n;
    if (message_arg(s, args, &n) == 0)
        send_message(s, n, false, 0);
}

void pop3_cmd_top(struct session *s, char *args)
{
    uint32_t n;
    uint64_t lines;
    if (pop3_parse_top(args, &n, &lines) < 0) {
        session_reply(s, "-ERR syntax: TOP msg lines");
        return;
    }
    char num[16];
    snprintf(num, sizeof num, "%u", n);
    if (message_arg(s, num, &n) == 0)
        send_message(s, n, true, lines);
}

void pop3_cmd_dele(struct session *s, char *args)
{
    uint32_t n;
    if (message_arg(s, args, &n) < 0)
        return;
    maildrop_mark_deleted(pop3_of(s)->drop, n);
    session_reply(s, "+OK message %u deleted", n);
}

void pop3_cmd_noop(struct session *s, char *args)
{
    session_reply(s, "+OK");
}

void pop3_cmd_rset(struct session *s, char *args)
{
    struct pop3 *p = pop3_of(s);
    maildrop_unmark_all(p->drop);
    session_reply(s, "+OK maildrop has %zu messages (%llu octets)", maildrop_count(p->drop),
                  (unsigned long long)maildrop_octets(p->drop));
}

/* ---- UPDATE (RFC 1939 6) ---- */

static void commit_work(void *arg)
{
    maildrop_commit(arg);
}

static void commit_done(struct session *s, void *arg)
{
    struct maildrop *drop = arg;
    if (!s)
        return; /* the drop is freed with the session */
    if (maildrop_committed(drop))
        session_reply(s, "+OK portico POP3 server signing off (%zu messages left)",
                      maildrop_count(drop));
    else
        session_reply(s, "-ERR [SYS/TEMP] some deleted messages were not removed");
    session_close(s);
}

/* The deletions are applied, durably, before +OK; the lock is released when
 * the session ends (pop3_close). */
void pop3_cmd_quit_update(struct session *s)
{
    session_set_state(s, POP3_UPDATE);
    if (session_work(s, commit_work, commit_done, pop3_of(s)->drop) < 0) {
        session_reply(s, "-ERR [SYS/TEMP] some deleted messages were not removed");
        session_close(s);
    }
}
