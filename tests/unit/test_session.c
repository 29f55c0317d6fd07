/* Unit tests of core/session.c and core/conn.c over a socketpair: greeting,
 * dispatch and policy flags, pipelining in order around async work, overlong
 * lines, counted bodies to a file, raw input, back-pressure, idle timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
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

static const struct proto test_proto = {
    .name = "test",
    .max_line = 64,
    .idle_timeout_sec = 30,
    .commands = commands,
    .state_names = state_names,
    .on_open = t_open,
    .on_close = t_close,
    .on_error = t_error,
};

static int setup(void **state)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    loop = (struct loop){0};
    loop.base = event_base_new();
    client = sv[0];
    struct sockaddr_un peer = {.sun_family = AF_UNIX};
    struct conn *c = conn_new(&loop, sv[1], (struct sockaddr *)&peer, SVC_SMTP, false);
    assert_non_null(c);
    sess = session_start(c, &test_proto);
    assert_non_null(sess);
    closed_count = 0;
    snprintf(body_path, sizeof body_path, "/tmp/portico-test-body-%d", (int)getpid());
    return 0;
}

static int teardown(void **state)
{
    if (client >= 0)
        close(client);
    client = -1;
    for (int i = 0; i < 50 && loop.nconns > 0; i++)
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
    assert_int_equal(loop.nconns, 0);
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
        ssize_t n = read(client, received + received_len, sizeof received - 1 - received_len);
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
                           "-ERR 5\r\n"  /* SERR_NEEDS_AUTH */
                           "-ERR 2\r\n"  /* SERR_UNKNOWN */
                           "-ERR 1\r\n"  /* SERR_SYNTAX: empty */
                           "+OK\r\n"
                           "-ERR 3\r\n"  /* LOGIN in ST_AUTHED: SERR_BAD_STATE */
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

static void idle_timeout(void **state)
{
    session_set_timeout(sess, 1);
    reset_received();
    expect("-ERR 9\r\n", 4000); /* SERR_TIMEOUT */
    for (int i = 0; i < 100 && loop.nconns > 0; i++) {
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
    assert_int_equal(loop.nconns, 0);
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
        cmocka_unit_test_setup_teardown(idle_timeout, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
