/* Unit tests of core/session.c and core/conn.c over a socketpair: greeting,
 * dispatch and policy flags, pipelining in order around async work, overlong
 * lines, counted bodies to a file, raw input, back-pressure, per-state idle
 * timeouts; and for a tagged protocol with literals (IMAP-like): command
 * assembly byte at a time, synchronising and non-synchronising literals,
 * spooled literals, refusals before any literal byte is read, two-word
 * verbs. */
/* cmocka.h needs these first */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/loop.h"
#include "core/session.h"

enum { ST_START, ST_AUTHED };
static const char *const state_names[] = {"start", "authed"};

static struct loop loop;
static int client = -1;
static struct session *sess;
static int closed_count;
static char body_path[64];

static void t_error(struct session *s, enum session_error e, const char *verb)
{
    session_reply(s, "-ERR %d", (int)e);
}

static void t_open(struct session *s)
{
    session_reply(s, "+HELLO");
}

static void t_close(struct session *s)
{
    closed_count++;
}

static void cmd_echo(struct session *s, char *args)
{
    session_reply(s, "+ECHO %s", args);
}

static void cmd_login(struct session *s, char *args)
{
    s->authenticated = true;
    session_set_state(s, ST_AUTHED);
    session_reply(s, "+OK");
}

static void cmd_secret(struct session *s, char *args)
{
    session_reply(s, "+SECRET");
}

static void slow_done(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;
    if (!session_gone(s)) {
        session_reply(s, "+SLOW");
        session_resume(s);
    }
    session_unref(s);
}

static void cmd_slow(struct session *s, char *args)
{
    static const struct timeval tv = {0, 50000};
    session_suspend(s);
    session_ref(s);
    event_base_once(s->conn->loop->base, -1, EV_TIMEOUT, slow_done, s, &tv);
}

static void body_done(struct session *s, int status)
{
    close(s->counted.fd);
    session_reply(s, "+BODY %d", status);
}

static void cmd_body(struct session *s, char *args)
{
    int fd = open(body_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    session_reply(s, "+GO");
    session_read_counted(s, strtoull(args, NULL, 10), fd, NULL, body_done);
}

/* Raw input until a line "END"; counts the bytes before it. */
static size_t raw_bytes;
static bool raw_fn(struct session *s, struct evbuffer *in)
{
    struct evbuffer_ptr p = evbuffer_search(in, "END\r\n", 5, NULL);
    if (p.pos < 0) {
        size_t keep = 4, len = evbuffer_get_length(in);
        if (len > keep) {
            raw_bytes += len - keep;
            evbuffer_drain(in, len - keep);
        }
        return false;
    }
    raw_bytes += (size_t)p.pos;
    evbuffer_drain(in, (size_t)p.pos + 5);
    session_reply(s, "+RAW %zu", raw_bytes);
    return true;
}

static void cmd_raw(struct session *s, char *args)
{
    raw_bytes = 0;
    session_reply(s, "+GO");
    session_read_raw(s, raw_fn);
}

static void cmd_big(struct session *s, char *args)
{
    static char chunk[65536];
    memset(chunk, 'b', sizeof chunk);
    for (int i = 0; i < 40; i++) /* 2.5 MiB, above the high-water mark */
        session_write(s, chunk, sizeof chunk);
    session_reply(s, "+BIGEND");
}

/* STREAM n: n lines "L<i>" produced in steps, with bounded output. */
struct stream_state {
    int next, total;
    size_t max_buffered;
};
static struct stream_state stream_state;

static int produce_lines(struct session *s, struct evbuffer *out, size_t room, void *arg)
{
    struct stream_state *st = arg;
    size_t start = evbuffer_get_length(out);
    if (start > st->max_buffered)
        st->max_buffered = start;
    while (st->next < st->total && evbuffer_get_length(out) - start < room)
        evbuffer_add_printf(out, "L%d\r\n", st->next++);
    if (st->next < st->total)
        return 0;
    session_reply(s, "+END");
    return 1;
}

static void cmd_stream(struct session *s, char *args)
{
    stream_state = (struct stream_state){0, (int)strtol(args, NULL, 10), 0};
    session_stream(s, produce_lines, &stream_state);
}

static void cmd_quit(struct session *s, char *args)
{
    session_reply(s, "+BYE");
    session_close(s);
}

static const struct command commands[] = {
    {"ECHO", STATES_ALL, 0, cmd_echo},
    {"LOGIN", STATE_BIT(ST_START), CMD_NO_AUTH, cmd_login},
    {"SECRET", STATES_ALL, CMD_NEEDS_AUTH, cmd_secret},
    {"SLOW", STATES_ALL, 0, cmd_slow},
    {"BODY", STATES_ALL, 0, cmd_body},
    {"RAW", STATES_ALL, 0, cmd_raw},
    {"BIG", STATES_ALL, 0, cmd_big},
    {"STREAM", STATES_ALL, 0, cmd_stream},
    {"QUIT", STATES_ALL, 0, cmd_quit},
    {NULL, 0, 0, NULL},
};

/* ST_START has the default, ST_AUTHED a short one. */
static const unsigned test_timeouts[] = {30, 1};

static const struct proto test_proto = {
    .name = "test",
    .max_line = 64,
    .idle_timeout_sec = 30,
    .state_timeouts = test_timeouts,
    .commands = commands,
    .state_names = state_names,
    .on_open = t_open,
    .on_close = t_close,
    .on_error = t_error,
};

/* ---- the tagged protocol with literals ---- */

#define LIT_MAX 300000

/* "{n}", "{n+}", "{n-}" or "~{n}" at the end of a line. */
static bool lit_at_end(const char *line, size_t len, struct literal_ann *ann)
{
    if (len < 3 || line[len - 1] != '}')
        return false;
    const char *open = memrchr(line, '{', len);
    if (!open)
        return false;
    char *end;
    unsigned long long n = strtoull(open + 1, &end, 10);
    if (end == open + 1)
        return false;
    *ann = (struct literal_ann){
        .len = n, .sync = true, .binary = open > line && open[-1] == '~'};
    if (*end == '+' || *end == '-') {
        ann->sync = false;
        end++;
    }
    return end == line + len - 1;
}

static void lit_continue(struct session *s)
{
    session_reply(s, "+ go");
}

static void lit_error(struct session *s, enum session_error e, const char *verb)
{
    session_reply(s, "%s BAD %d", s->tag[0] ? s->tag : "*", (int)e);
}

/* Replies with the text and, per literal, where it is and a checksum. */
static void cmd_lit(struct session *s, char *args)
{
    size_t n;
    const struct session_literal *l = session_literals(s, &n);
    session_printf(s, "%s OK [%s]", s->tag, args);
    for (size_t i = 0; i < n; i++) {
        unsigned long sum = 0;
        if (l[i].data) {
            for (uint64_t k = 0; k < l[i].len; k++)
                sum = sum * 31 + (unsigned char)l[i].data[k];
        } else {
            char buf[4096];
            ssize_t r;
            while ((r = read(l[i].fd, buf, sizeof buf)) > 0)
                for (ssize_t k = 0; k < r; k++)
                    sum = sum * 31 + (unsigned char)buf[k];
        }
        session_printf(s, " %s%llu=%lu", l[i].data ? "m" : "f",
                       (unsigned long long)l[i].len, sum);
    }
    session_printf(s, "\r\n");
}

static void cmd_uid_fetch(struct session *s, char *args)
{
    session_reply(s, "%s OK uid-fetch [%s]", s->tag, args);
}

static void cmd_uid(struct session *s, char *args)
{
    session_reply(s, "%s OK uid [%s]", s->tag, args);
}

static const struct command lit_commands[] = {
    {"LIT", STATES_ALL, 0, cmd_lit},
    {"UID", STATES_ALL, 0, cmd_uid},
    {"UID FETCH", STATES_ALL, 0, cmd_uid_fetch},
    {NULL, 0, 0, NULL},
};

static const struct proto lit_proto = {
    .name = "lit",
    .max_line = 256,
    .tagged = true,
    .idle_timeout_sec = 30,
    .commands = lit_commands,
    .state_names = state_names,
    .literal_at_end = lit_at_end,
    .max_literal = LIT_MAX,
    .on_continue = lit_continue,
    .on_open = t_open,
    .on_close = t_close,
    .on_error = lit_error,
};

static const struct proto *current_proto = &test_proto;

static int setup(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    loop = (struct loop){0};
    loop.base = event_base_new();
    assert_int_equal(conn_loop_init(&loop), 0); /* replies leave as in serve */
    client = sv[0];
    struct sockaddr_un peer = {.sun_family = AF_UNIX};
    struct conn *c = conn_new(&loop, sv[1], (struct sockaddr *)&peer, SVC_SMTP, false);
    assert_non_null(c);
    sess = session_start(c, current_proto);
    assert_non_null(sess);
    closed_count = 0;
    snprintf(body_path, sizeof body_path, "/tmp/portico-test-body-%d", (int)getpid());
    return 0;
}

static int setup_lit(void **state)
{
    current_proto = &lit_proto;
    int rc = setup(state);
    current_proto = &test_proto;
    return rc;
}

static int teardown(void **state)
{
    if (client >= 0)
        close(client);
    client = -1;
    for (int i = 0; i < 50 && loop.nconns > 0; i++)
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
    assert_int_equal(loop.nconns, 0);
    conn_loop_free(&loop);
    event_base_free(loop.base);
    unlink(body_path);
    return 0;
}

static void send_all(const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(client, data, len);
        if (n < 0 && errno == EAGAIN) {
            event_base_loop(loop.base, EVLOOP_NONBLOCK);
            continue;
        }
        assert_true(n > 0);
        data += n;
        len -= (size_t)n;
    }
}

static void send_str(const char *s)
{
    send_all(s, strlen(s));
}

/* Runs the loop and reads until `want` has arrived; returns all received. */
static char received[1 << 16];
static size_t received_len;
static const char *expect(const char *want, int ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        event_base_loop(loop.base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
        ssize_t n =
            read(client, received + received_len, sizeof received - 1 - received_len);
        if (n > 0)
            received_len += (size_t)n;
        received[received_len] = '\0';
        if (strstr(received, want))
            return received;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el > ms)
            fail_msg("wanted \"%s\", got \"%s\"", want, received);
        if (n <= 0)
            usleep(1000);
    }
}

static void reset_received(void)
{
    received_len = 0;
    received[0] = '\0';
}

static void greeting_and_policy(void **state)
{
    reset_received();
    expect("+HELLO\r\n", 2000);
    send_str("SECRET\r\nfrob x\r\n\r\nlogin\r\nLOGIN\r\nSECRET\r\necho a b\r\n");
    const char *r = expect("+ECHO a b\r\n", 2000);
    assert_string_equal(r, "+HELLO\r\n"
                           "-ERR 5\r\n" /* SERR_NEEDS_AUTH */
                           "-ERR 2\r\n" /* SERR_UNKNOWN */
                           "-ERR 1\r\n" /* SERR_SYNTAX: empty */
                           "+OK\r\n"
                           "-ERR 3\r\n" /* LOGIN in ST_AUTHED: SERR_BAD_STATE */
                           "+SECRET\r\n"
                           "+ECHO a b\r\n");
    assert_int_equal(sess->state, ST_AUTHED);
}

static void pipelining_waits_for_async(void **state)
{
    reset_received();
    send_str("SLOW\r\nECHO after\r\nSLOW\r\nECHO last\r\n");
    const char *r = expect("+ECHO last\r\n", 3000);
    assert_string_equal(r, "+HELLO\r\n+SLOW\r\n+ECHO after\r\n+SLOW\r\n+ECHO last\r\n");
}

static void overlong_line(void **state)
{
    char line[300];
    memset(line, 'A', sizeof line);
    reset_received();
    send_all(line, sizeof line);
    send_str("\r\nECHO ok\r\n");
    const char *r = expect("+ECHO ok\r\n", 2000);
    assert_string_equal(r, "+HELLO\r\n-ERR 0\r\n+ECHO ok\r\n");
}

static void nul_in_line(void **state)
{
    reset_received();
    send_all("ECHO a\0b\r\nECHO c\r\n", 18);
    const char *r = expect("+ECHO c\r\n", 2000);
    assert_string_equal(r, "+HELLO\r\n-ERR 1\r\n+ECHO c\r\n");
}

static void counted_body_to_file(void **state)
{
    char body[100000];
    for (size_t i = 0; i < sizeof body; i++)
        body[i] = (char)(i * 7);
    reset_received();
    send_str("BODY 100000\r\n");
    expect("+GO\r\n", 2000);
    send_all(body, sizeof body);
    send_str("ECHO after\r\n");
    expect("+ECHO after\r\n", 3000);
    assert_non_null(strstr(received, "+BODY 0\r\n+ECHO after"));
    FILE *f = fopen(body_path, "rb");
    assert_non_null(f);
    static char back[100001];
    assert_int_equal(fread(back, 1, sizeof back, f), sizeof body);
    fclose(f);
    assert_memory_equal(back, body, sizeof body);
}

static void raw_mode(void **state)
{
    reset_received();
    send_str("RAW\r\nxxxxxxxxxx\r\nyyyyEND\r\nECHO z\r\n");
    const char *r = expect("+ECHO z\r\n", 2000);
    assert_string_equal(r, "+HELLO\r\n+GO\r\n+RAW 16\r\n+ECHO z\r\n");
}

static void backpressure_stops_dispatch(void **state)
{
    reset_received();
    expect("+HELLO\r\n", 2000);
    send_str("BIG\r\nECHO held\r\n");
    /* The client reads nothing for a while: ECHO must not be dispatched. */
    for (int i = 0; i < 200; i++)
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
    assert_int_equal(sess->commands, 1);
    assert_true(sess->conn->blocked);
    /* Now read it all: the held command runs. */
    size_t total = 0;
    static char sink[1 << 16];
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
        ssize_t n = read(client, sink, sizeof sink);
        if (n > 0) {
            total += (size_t)n;
            if (n >= 12 && memcmp(sink + n - 12, "+ECHO held\r\n", 12) == 0)
                break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        assert_true(t.tv_sec - t0.tv_sec < 10);
    }
    assert_int_equal(sess->commands, 2);
    assert_true(total > 40 * 65536);
}

static void stream_is_bounded_and_ordered(void **state)
{
    reset_received();
    expect("+HELLO\r\n", 2000);
    send_str("STREAM 1000000\r\nECHO after\r\n");
    size_t total = 0, lines = 0;
    static char sink[1 << 16];
    char tail[64] = ""; /* the last bytes received, across reads */
    size_t tail_len = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
        ssize_t n = read(client, sink, sizeof sink);
        if (n > 0) {
            total += (size_t)n;
            for (ssize_t i = 0; i < n; i++)
                lines += sink[i] == '\n';
            for (ssize_t i = 0; i < n; i++) {
                if (tail_len == sizeof tail - 1) {
                    memmove(tail, tail + 1, --tail_len);
                }
                tail[tail_len++] = sink[i];
            }
            tail[tail_len] = '\0';
            if (tail_len >= 13 && strcmp(tail + tail_len - 13, "+ECHO after\r\n") == 0)
                break;
        }
        clock_gettime(CLOCK_MONOTONIC, &t);
        assert_true(t.tv_sec - t0.tv_sec < 20);
    }
    /* Greeting was read by expect(); 1,000,000 lines, +END, +ECHO after. */
    assert_int_equal(lines, 1000000 + 2);
    assert_true(stream_state.max_buffered <= (1 << 20) + (64 << 10));
    assert_true(total > 8000000);
}

static void quit_closes_and_frees(void **state)
{
    reset_received();
    send_str("QUIT\r\nECHO never\r\n");
    const char *r = expect("+BYE\r\n", 2000);
    for (int i = 0; i < 50 && loop.nconns > 0; i++)
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
    assert_int_equal(loop.nconns, 0);
    assert_int_equal(closed_count, 1);
    assert_null(strstr(r, "never"));
}

static void client_drop_during_async(void **state)
{
    send_str("SLOW\r\n");
    event_base_loop(loop.base, EVLOOP_NONBLOCK);
    close(client);
    client = -1;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (loop.nconns > 0) {
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
        clock_gettime(CLOCK_MONOTONIC, &t);
        assert_true(t.tv_sec - t0.tv_sec < 5);
        usleep(1000);
    }
    assert_int_equal(closed_count, 1);
}

/* The state's timeout applies: none fires in ST_START within a second,
 * ST_AUTHED's one-second timeout ends the session. */
static void idle_timeout_per_state(void **state)
{
    reset_received();
    expect("+HELLO\r\n", 2000);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
        usleep(5000);
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 1300);
    assert_int_equal(loop.nconns, 1);
    send_str("LOGIN\r\n");
    expect("-ERR 9\r\n", 4000); /* SERR_TIMEOUT */
    for (int i = 0; i < 100 && loop.nconns > 0; i++) {
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_int_equal(loop.nconns, 0);
}

/* Sends n bytes one at a time, running the loop between bytes. */
static void send_bytewise(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        send_all(p + i, 1);
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
    }
}
#define SEND_BYTEWISE(lit) send_bytewise(lit, sizeof lit - 1)

/* A synchronising literal gets "+ go" only after its announcement; the
 * command is handled once, with its text and the literal's octets. */
static void literal_sync_bytewise(void **state)
{
    reset_received();
    expect("+HELLO\r\n", 2000);
    SEND_BYTEWISE("a1 LIT x {5}\r\n");
    expect("+ go\r\n", 2000);
    assert_null(strstr(received, "a1 OK"));
    SEND_BYTEWISE("h\r\n\0y y {0}\r\n");
    expect("+ go\r\n+ go\r\n", 2000);
    SEND_BYTEWISE(")\r\n");
    /* "h\r\n\0y": 104,13,10,0,121 */
    unsigned long sum = 0;
    const unsigned char bytes[] = {'h', '\r', '\n', 0, 'y'};
    for (size_t i = 0; i < sizeof bytes; i++)
        sum = sum * 31 + bytes[i];
    char want[128];
    snprintf(want, sizeof want, "a1 OK [x {5} y {0})] m5=%lu m0=0\r\n", sum);
    const char *r = expect(want, 2000);
    assert_string_equal(r + strlen("+HELLO\r\n+ go\r\n+ go\r\n"), want);
}

/* LITERAL+ / LITERAL-: no continuation; pipelined with the next command. */
static void literal_nonsync_pipelined(void **state)
{
    reset_received();
    send_str("a1 LIT {3+}\r\nabc {2-}\r\nde\r\na2 LIT ~{1+}\r\nz\r\n");
    const char *r = expect("a2 OK", 2000);
    expect("\r\n", 2000);
    r = expect("m1=122\r\n", 2000);
    assert_null(strstr(r, "+ go"));
    assert_non_null(strstr(r, "a1 OK [{3+} {2-}] m3="));
    assert_non_null(strstr(r, "a2 OK [~{1+}] m1=122\r\n"));
}

/* A literal above SESSION_LITERAL_MEM goes to a spool file, whole. */
static void literal_spooled(void **state)
{
    static char big[200000];
    unsigned long sum = 0;
    for (size_t i = 0; i < sizeof big; i++) {
        big[i] = (char)('a' + i % 26);
        sum = sum * 31 + (unsigned char)big[i];
    }
    reset_received();
    send_str("t LIT {200000}\r\n");
    expect("+ go\r\n", 2000);
    send_all(big, sizeof big);
    send_str("\r\n");
    char want[64];
    snprintf(want, sizeof want, "t OK [{200000}] f200000=%lu\r\n", sum);
    expect(want, 5000);
}

/* Over max_literal: a synchronising literal is refused before any byte
 * (no continuation) and the session goes on; a non-synchronising one ends
 * the session, since its octets would be taken for commands. */
static void literal_too_big(void **state)
{
    reset_received();
    send_str("b1 LIT {2147483648}\r\nb2 LIT ok\r\n");
    const char *r = expect("b2 OK [ok]\r\n", 2000);
    assert_null(strstr(r, "+ go"));
    assert_non_null(strstr(r, "b1 BAD 11\r\n")); /* SERR_LITERAL_TOO_BIG */
    send_str("b3 LIT {999999999+}\r\nxxxx\r\n");
    expect("b3 BAD 11\r\n", 2000);
    for (int i = 0; i < 200 && loop.nconns > 0; i++) {
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_int_equal(loop.nconns, 0);
}

/* The assembled command is bounded by max_line as a whole. */
static void literal_command_too_long(void **state)
{
    char line[245]; /* fits a line (256), not the command with its first line */
    memset(line, 'x', sizeof line);
    line[0] = ' ';
    reset_received();
    send_str("c1 LIT {1}\r\nA");
    send_all(line, sizeof line);
    send_str(" {1}\r\n");
    expect("c1 BAD 0\r\n", 2000); /* SERR_LINE_TOO_LONG, before the 2nd literal */
    send_str("c2 LIT fine\r\n");
    const char *r = expect("c2 OK [fine]\r\n", 2000);
    assert_null(strstr(r, "+ go\r\n+ go"));
}

static void two_word_verbs(void **state)
{
    reset_received();
    send_str("u1 UID FETCH 1:* FLAGS\r\nu2 uid fetch\r\nu3 UID STORE 1\r\nu4 UID\r\n");
    const char *r = expect("u4 OK uid []\r\n", 2000);
    assert_non_null(strstr(r, "u1 OK uid-fetch [1:* FLAGS]\r\n"));
    assert_non_null(strstr(r, "u2 OK uid-fetch []\r\n"));
    assert_non_null(strstr(r, "u3 OK uid [STORE 1]\r\n"));
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as `portico serve` does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(greeting_and_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(pipelining_waits_for_async, setup, teardown),
        cmocka_unit_test_setup_teardown(overlong_line, setup, teardown),
        cmocka_unit_test_setup_teardown(nul_in_line, setup, teardown),
        cmocka_unit_test_setup_teardown(counted_body_to_file, setup, teardown),
        cmocka_unit_test_setup_teardown(raw_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(backpressure_stops_dispatch, setup, teardown),
        cmocka_unit_test_setup_teardown(stream_is_bounded_and_ordered, setup, teardown),
        cmocka_unit_test_setup_teardown(quit_closes_and_frees, setup, teardown),
        cmocka_unit_test_setup_teardown(client_drop_during_async, setup, teardown),
        cmocka_unit_test_setup_teardown(idle_timeout_per_state, setup, teardown),
        cmocka_unit_test_setup_teardown(literal_sync_bytewise, setup_lit, teardown),
        cmocka_unit_test_setup_teardown(literal_nonsync_pipelined, setup_lit, teardown),
        cmocka_unit_test_setup_teardown(literal_spooled, setup_lit, teardown),
        cmocka_unit_test_setup_teardown(literal_too_big, setup_lit, teardown),
        cmocka_unit_test_setup_teardown(literal_command_too_long, setup_lit, teardown),
        cmocka_unit_test_setup_teardown(two_word_verbs, setup_lit, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
