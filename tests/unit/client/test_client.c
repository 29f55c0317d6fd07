/* Unit tests of core's client side over real sockets: the client-mode
 * session against a scripted server (greeting, EHLO, a pipelined group,
 * a streamed dot-stuffed body, QUIT), its failures (timeout, a 1 MiB reply
 * line, a peer that closes, an unexpected reply); outbound connect (a
 * closed port then the next address, every address refused, a timeout
 * against a listener with a full backlog, a source address, cancel); and
 * client TLS against an in-process TLS server with a test CA (verified,
 * wrong host name refused, opportunistic accepts an untrusted certificate,
 * a plaintext peer refused, STARTTLS discarding injected plaintext). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/conn.h"
#include "core/connect.h"
#include "core/loop.h"
#include "core/session_client.h"
#include "core/tls_client.h"

static struct loop loop;

/* Runs the loop until *flag or 10 s have passed (a guard timer makes each
 * EVLOOP_ONCE return). */
static void tick_cb(evutil_socket_t fd, short what, void *arg) {}

static void run_until(const bool *flag)
{
    struct timeval tick = {0, 50000};
    struct event *guard = evtimer_new(loop.base, tick_cb, NULL);
    for (int i = 0; i < 200 && !*flag; i++) {
        evtimer_add(guard, &tick);
        event_base_loop(loop.base, EVLOOP_ONCE);
    }
    event_free(guard);
}

static void drain_loop(void)
{
    for (int i = 0; i < 20; i++)
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
}

/* ---- the scripted server ---- */

enum { STEP_TLS = 1 }; /* start TLS (accepting) after writing the reply */

struct step {
    const char *expect; /* the line the client must send; NULL: at start */
    const char *reply;  /* written after it (NULL: nothing) */
    int flags;
};

static struct srv {
    struct bufferevent *bev;
    const struct step *script;
    int at, n;
    bool mismatch;
    SSL_CTX *ctx;
    char bad[256];
} srv;

static void srv_run_step(void)
{
    const struct step *st = &srv.script[srv.at++];
    if (st->reply)
        bufferevent_write(srv.bev, st->reply, strlen(st->reply));
    if (st->flags & STEP_TLS) {
        SSL *ssl = SSL_new(srv.ctx);
        srv.bev = bufferevent_openssl_filter_new(
            loop.base, srv.bev, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
        extern void srv_read_cb(struct bufferevent * b, void *arg);
        bufferevent_setcb(srv.bev, srv_read_cb, NULL, NULL, NULL);
        bufferevent_enable(srv.bev, EV_READ | EV_WRITE);
    }
}

void srv_read_cb(struct bufferevent *b, void *arg)
{
    char *line;
    size_t n;
    while ((
        line = evbuffer_readln(bufferevent_get_input(b), &n, EVBUFFER_EOL_CRLF_STRICT))) {
        if (srv.at >= srv.n || strcmp(line, srv.script[srv.at].expect) != 0) {
            srv.mismatch = true;
            snprintf(srv.bad, sizeof srv.bad, "%s", line);
            free(line);
            return;
        }
        free(line);
        srv_run_step();
    }
}

/* The server end of a socketpair: plain, or TLS from the first byte. */
static int srv_start(const struct step *script, int n, bool tls)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    srv.script = script;
    srv.n = n;
    srv.at = 0;
    srv.mismatch = false;
    if (tls)
        srv.bev = bufferevent_openssl_socket_new(loop.base, sv[0], SSL_new(srv.ctx),
                                                 BUFFEREVENT_SSL_ACCEPTING,
                                                 BEV_OPT_CLOSE_ON_FREE);
    else
        srv.bev = bufferevent_socket_new(loop.base, sv[0], BEV_OPT_CLOSE_ON_FREE);
    bufferevent_setcb(srv.bev, srv_read_cb, NULL, NULL, NULL);
    bufferevent_enable(srv.bev, EV_READ | EV_WRITE);
    if (n > 0 && script[0].expect == NULL)
        srv_run_step();
    return sv[1];
}

static void srv_stop(void)
{
    if (srv.bev)
        bufferevent_free(srv.bev);
    srv.bev = NULL;
}

/* ---- the client under test ---- */

static struct client {
    struct session *s;
    int codes[32];
    int ncodes;
    char texts[32][64];
    bool failed, closed, done;
    int nclosed;
    enum session_client_error err;
    char why[160];
    int body_fd;
    struct tls_client_result tls;
    bool tls_up;
} cl;

static void c_fail(struct session *s, enum session_client_error e, const char *why)
{
    cl.failed = true;
    cl.err = e;
    snprintf(cl.why, sizeof cl.why, "%s", why);
}

static void c_close(struct session *s)
{
    cl.closed = true;
    cl.nclosed++;
}

static const struct session_client_ops c_ops = {"test", c_fail, c_close};

static void record(const struct reply *r)
{
    if (cl.ncodes < 32) {
        snprintf(cl.texts[cl.ncodes], sizeof cl.texts[0], "%s", r->text);
        cl.codes[cl.ncodes++] = r->code;
    }
}

static void on_rec(struct session *s, const struct reply *r, void *arg)
{
    record(r);
}

static void on_quit(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    cl.done = true;
    session_close(s);
}

static void on_body(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_int_equal(session_command(s, 5, on_quit, NULL, "QUIT"), 0);
}

static void on_data(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_int_equal(r->code, 354);
    assert_int_equal(session_send_body(s, cl.body_fd, 5, 5, on_body, NULL, NULL), 0);
}

/* RFC 2920 3.1: QUIT pipelined right behind the body, before its reply. */
static int codes_when_written = -1;

static void on_written(struct session *s, void *arg)
{
    codes_when_written = cl.ncodes;
    assert_int_equal(session_command(s, 5, on_quit, NULL, "QUIT"), 0);
}

static void on_body_only(struct session *s, const struct reply *r, void *arg)
{
    record(r);
}

static void on_data_then_quit(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_int_equal(r->code, 354);
    assert_int_equal(
        session_send_body(s, cl.body_fd, 5, 5, on_body_only, on_written, NULL), 0);
}

static void on_ehlo(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_true(reply_has_keyword(r, "PIPELINING", NULL, 0));
    /* RFC 2920: the whole group goes out before any reply is read. */
    assert_int_equal(session_command(s, 5, on_rec, NULL, "MAIL FROM:<a@a.test>"), 0);
    assert_int_equal(session_command(s, 5, on_rec, NULL, "RCPT TO:<b@b.test>"), 0);
    assert_int_equal(session_command(s, 5, on_rec, NULL, "RCPT TO:<c@b.test>"), 0);
    assert_int_equal(session_command(s, 5, on_data, NULL, "DATA"), 0);
    assert_int_equal(session_pending_replies(s), 4);
}

static void on_greeting(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_int_equal(session_command(s, 5, on_ehlo, NULL, "EHLO client.test"), 0);
}

static struct session *client_on(int fd)
{
    struct sockaddr_un peer = {.sun_family = AF_UNIX};
    struct conn *c = conn_new(&loop, fd, (struct sockaddr *)&peer, SVC_SMTP, false);
    assert_non_null(c);
    memset(&cl, 0, sizeof cl);
    cl.body_fd = -1;
    cl.s = session_client_start(c, &c_ops, NULL);
    assert_non_null(cl.s);
    return cl.s;
}

static int setup(void **state)
{
    loop = (struct loop){0};
    loop.base = event_base_new();
    assert_int_equal(conn_loop_init(&loop), 0); /* replies leave as in serve */
    return 0;
}

static int teardown(void **state)
{
    srv_stop();
    drain_loop();
    conn_loop_free(&loop);
    event_base_free(loop.base);
    return 0;
}

static void test_pipelined_transaction(void **state)
{
    static const struct step script[] = {
        {NULL, "220 mx.test ESMTP\r\n", 0},
        {"EHLO client.test", "250-mx.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n", 0},
        {"MAIL FROM:<a@a.test>", NULL, 0},
        {"RCPT TO:<b@b.test>", NULL, 0},
        {"RCPT TO:<c@b.test>", NULL, 0},
        {"DATA", "250 2.1.0 ok\r\n250 2.1.5 ok\r\n550 5.1.1 no such user\r\n354 go\r\n",
         0},
        {"Subject: x", NULL, 0},
        {"", NULL, 0},
        {"..dot", NULL, 0},
        {"line", NULL, 0},
        {".", "250 2.0.0 queued\r\n", 0},
        {"QUIT", "221 bye\r\n", 0},
    };
    int fd = srv_start(script, sizeof script / sizeof *script, false);
    char path[] = "/tmp/portico-body-XXXXXX";
    int body = mkstemp(path);
    unlink(path);
    const char *msg = "Subject: x\n\n.dot\nline"; /* LF only, no final newline */
    assert_int_equal(write(body, msg, strlen(msg)), (ssize_t)strlen(msg));
    lseek(body, 0, SEEK_SET);
    struct session *s = client_on(fd);
    cl.body_fd = body;
    assert_int_equal(session_expect_reply(s, 5, on_greeting, NULL), 0);
    run_until(&cl.closed);
    close(body);
    assert_false(srv.mismatch);
    assert_int_equal(srv.at, srv.n);
    assert_false(cl.failed);
    assert_int_equal(cl.nclosed, 1);
    int want[] = {220, 250, 250, 250, 550, 354, 250, 221};
    assert_int_equal(cl.ncodes, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(cl.codes[i], want[i]);
    assert_string_equal(cl.texts[4], "5.1.1 no such user");
}

static void on_ehlo_behind(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_int_equal(session_command(s, 5, on_rec, NULL, "MAIL FROM:<a@a.test>"), 0);
    assert_int_equal(session_command(s, 5, on_rec, NULL, "RCPT TO:<b@b.test>"), 0);
    assert_int_equal(session_command(s, 5, on_data_then_quit, NULL, "DATA"), 0);
}

static void on_greeting_behind(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_int_equal(session_command(s, 5, on_ehlo_behind, NULL, "EHLO client.test"), 0);
}

static void test_command_behind_body(void **state)
{
    static const struct step script[] = {
        {NULL, "220 mx.test ESMTP\r\n", 0},
        {"EHLO client.test", "250-mx.test\r\n250 PIPELINING\r\n", 0},
        {"MAIL FROM:<a@a.test>", NULL, 0},
        {"RCPT TO:<b@b.test>", NULL, 0},
        {"DATA", "250 2.1.0 ok\r\n250 2.1.5 ok\r\n354 go\r\n", 0},
        {"hello", NULL, 0},
        {".", "250 2.0.0 queued\r\n", 0},
        {"QUIT", "221 bye\r\n", 0},
    };
    int fd = srv_start(script, sizeof script / sizeof *script, false);
    char path[] = "/tmp/portico-body-XXXXXX";
    int body = mkstemp(path);
    unlink(path);
    assert_int_equal(write(body, "hello\n", 6), 6);
    lseek(body, 0, SEEK_SET);
    struct session *s = client_on(fd);
    cl.body_fd = body;
    codes_when_written = -1;
    assert_int_equal(session_expect_reply(s, 5, on_greeting_behind, NULL), 0);
    run_until(&cl.closed);
    close(body);
    assert_false(srv.mismatch);
    assert_int_equal(srv.at, srv.n);
    assert_false(cl.failed);
    assert_int_equal(codes_when_written, 5); /* the 354 was the last reply read */
    int want[] = {220, 250, 250, 250, 354, 250, 221};
    assert_int_equal(cl.ncodes, 7);
    for (int i = 0; i < 7; i++)
        assert_int_equal(cl.codes[i], want[i]);
}

static void expect_fail(enum session_client_error e, const char *why)
{
    run_until(&cl.closed);
    assert_true(cl.failed);
    assert_int_equal(cl.err, e);
    assert_string_equal(cl.why, why);
    assert_int_equal(cl.nclosed, 1);
}

static void test_timeout(void **state)
{
    int fd = srv_start(NULL, 0, false);
    struct session *s = client_on(fd);
    assert_int_equal(session_expect_reply(s, 1, on_rec, NULL), 0);
    expect_fail(SCE_TIMEOUT, "timeout after 1s waiting for the reply to greeting");
    assert_int_equal(cl.ncodes, 0);
}

static void test_huge_reply_line(void **state)
{
    size_t big = 1 << 20;
    char *line = malloc(big + 3);
    memcpy(line, "220 ", 4);
    memset(line + 4, 'x', big - 4);
    memcpy(line + big, "\r\n", 3);
    struct step script[] = {{NULL, line, 0}};
    int fd = srv_start(script, 1, false);
    struct session *s = client_on(fd);
    assert_int_equal(session_expect_reply(s, 5, on_rec, NULL), 0);
    expect_fail(SCE_REPLY, "reply line too long");
    assert_int_equal(cl.ncodes, 0);
    srv_stop();
    free(line);
}

static void test_peer_closes(void **state)
{
    static const struct step script[] = {{NULL, "220-first\r\n", 0}};
    int fd = srv_start(script, 1, false);
    struct session *s = client_on(fd);
    assert_int_equal(session_expect_reply(s, 5, on_rec, NULL), 0);
    for (int i = 0; i < 5; i++)
        event_base_loop(loop.base, EVLOOP_NONBLOCK);
    srv_stop();
    expect_fail(SCE_CLOSED, "connection closed by the server");
    assert_int_equal(cl.ncodes, 0);
}

static void test_unexpected_reply(void **state)
{
    static const struct step script[] = {{NULL, "220 hi\r\n421 go away\r\n", 0}};
    int fd = srv_start(script, 1, false);
    struct session *s = client_on(fd);
    assert_int_equal(session_expect_reply(s, 5, on_rec, NULL), 0);
    expect_fail(SCE_REPLY, "a reply nobody waited for");
    assert_int_equal(cl.ncodes, 1);
    /* A command line with CR or LF is refused (no smuggled commands). */
}

static void test_command_injection_refused(void **state)
{
    int fd = srv_start(NULL, 0, false);
    struct session *s = client_on(fd);
    assert_int_equal(session_command(s, 5, on_rec, NULL, "MAIL FROM:<%s>", "a>\r\nRSET"),
                     -1);
    assert_int_equal(session_pending_replies(s), 0);
    session_close(s);
    run_until(&cl.closed);
    assert_false(cl.failed);
}

/* ---- connect ---- */

static struct {
    bool done;
    int err;
    struct conn *c;
} cn;

static void on_connect(struct conn *c, int err, void *arg)
{
    cn.done = true;
    cn.err = err;
    cn.c = c;
}

static int listener(const char *ip, int backlog, uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, ip, &a.sin_addr);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    assert_int_equal(listen(fd, backlog), 0);
    return fd;
}

/* A loopback port nobody listens on (bound, then closed). */
static uint16_t closed_port(void)
{
    uint16_t port;
    int fd = listener("127.0.0.1", 1, &port);
    close(fd);
    return port;
}

static void addr(struct conn_addr *a, const char *ip, uint16_t port)
{
    assert_int_equal(conn_addr_parse(ip, port, a), 0);
}

static void test_connect_next_address(void **state)
{
    uint16_t good;
    int lfd = listener("127.0.0.1", 8, &good);
    struct conn_addr a[2];
    addr(&a[0], "127.0.0.1", closed_port());
    addr(&a[1], "127.0.0.1", good);
    memset(&cn, 0, sizeof cn);
    struct connect_opts o = {.timeout_sec = 5, .svc = SVC_SMTP};
    assert_non_null(conn_connect(&loop, a, 2, &o, on_connect, NULL));
    assert_false(cn.done); /* never from inside conn_connect */
    run_until(&cn.done);
    assert_int_equal(cn.err, 0);
    assert_non_null(cn.c);
    assert_int_equal(cn.c->peer_port, good);
    assert_string_equal(cn.c->peer_ip, "127.0.0.1");
    conn_abort(cn.c);
    close(lfd);
}

static void test_connect_all_refused(void **state)
{
    struct conn_addr a[2];
    addr(&a[0], "127.0.0.1", closed_port());
    addr(&a[1], "::1", closed_port());
    memset(&cn, 0, sizeof cn);
    assert_non_null(conn_connect(&loop, a, 2, NULL, on_connect, NULL));
    run_until(&cn.done);
    assert_null(cn.c);
    /* ::1 may be absent in a container: refused or unavailable. */
    assert_true(cn.err == ECONNREFUSED || cn.err == EADDRNOTAVAIL ||
                cn.err == ENETUNREACH);
}

static void test_connect_timeout_then_next(void **state)
{
    /* listen(0) queues one connection; once it and the SYN queue are full
     * the kernel drops SYNs: a connect there hangs like a blackhole. */
    uint16_t bh, good;
    int bfd = listener("127.0.0.1", 0, &bh);
    int fill[4];
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(bh)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    for (int i = 0; i < 4; i++) {
        fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        connect(fill[i], (struct sockaddr *)&sa, sizeof sa);
    }
    int gfd = listener("127.0.0.1", 8, &good);
    struct conn_addr a[2];
    addr(&a[0], "127.0.0.1", bh);
    addr(&a[1], "127.0.0.1", good);
    memset(&cn, 0, sizeof cn);
    struct connect_opts o = {.timeout_sec = 1};
    assert_non_null(conn_connect(&loop, a, 1, &o, on_connect, NULL));
    run_until(&cn.done);
    assert_null(cn.c);
    assert_int_equal(cn.err, ETIMEDOUT);
    memset(&cn, 0, sizeof cn);
    assert_non_null(conn_connect(&loop, a, 2, &o, on_connect, NULL));
    run_until(&cn.done);
    assert_non_null(cn.c);
    assert_int_equal(cn.c->peer_port, good);
    conn_abort(cn.c);
    for (int i = 0; i < 4; i++)
        close(fill[i]);
    close(bfd);
    close(gfd);
}

static void test_connect_source_and_cancel(void **state)
{
    uint16_t good;
    int lfd = listener("127.0.0.1", 8, &good);
    struct conn_addr a[2];
    addr(&a[0], "::1", good); /* other family than the source: skipped */
    addr(&a[1], "127.0.0.1", good);
    memset(&cn, 0, sizeof cn);
    struct connect_opts o = {.source = "127.0.0.2"};
    assert_non_null(conn_connect(&loop, a, 2, &o, on_connect, NULL));
    run_until(&cn.done);
    assert_non_null(cn.c);
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int afd = accept(lfd, (struct sockaddr *)&peer, &len);
    assert_true(afd >= 0);
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip);
    assert_string_equal(ip, "127.0.0.2");
    close(afd);
    conn_abort(cn.c);
    /* Cancelled: done never runs. */
    memset(&cn, 0, sizeof cn);
    struct connect_req *r = conn_connect(&loop, a + 1, 1, NULL, on_connect, NULL);
    connect_cancel(r);
    drain_loop();
    assert_false(cn.done);
    o.source = "not-an-address";
    assert_null(conn_connect(&loop, a, 2, &o, on_connect, NULL));
    close(lfd);
}

/* ---- TLS ---- */

static char dir[64];
static struct tls_client *trusting, *system_cas;

static int tls_group_setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/portico-tlsc-%d", (int)getpid());
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "set -e; mkdir -p %1$s; cd %1$s; "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca 2>/dev/null; "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout key.pem -out req.csr -subj /CN=mx.test 2>/dev/null; "
             "printf 'subjectAltName=DNS:mx.test\\n' > ext; "
             "openssl x509 -req -in req.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out cert.pem -days 2 -extfile ext 2>/dev/null",
             dir);
    if (system(cmd) != 0)
        return -1;
    srv.ctx = SSL_CTX_new(TLS_server_method());
    char p[128];
    snprintf(p, sizeof p, "%s/cert.pem", dir);
    SSL_CTX_use_certificate_chain_file(srv.ctx, p);
    snprintf(p, sizeof p, "%s/key.pem", dir);
    SSL_CTX_use_PrivateKey_file(srv.ctx, p, SSL_FILETYPE_PEM);
    char err[256];
    snprintf(p, sizeof p, "%s/ca.pem", dir);
    trusting = tls_client_new(p, err, sizeof err);
    system_cas = tls_client_new(NULL, err, sizeof err);
    if (!trusting || !system_cas)
        return -1;
    assert_null(tls_client_new("/nonexistent/ca.pem", err, sizeof err));
    return 0;
}

static int tls_group_teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return -1;
    tls_client_free(trusting);
    tls_client_free(system_cas);
    SSL_CTX_free(srv.ctx);
    return 0;
}

static void on_tls_greeting(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    cl.done = true;
    session_close(s);
}

static void on_tls(struct session *s, const struct tls_client_result *r, void *arg)
{
    cl.tls = *r;
    cl.tls_up = true;
    assert_int_equal(session_expect_reply(s, 5, on_tls_greeting, NULL), 0);
}

/* Implicit TLS to the scripted server, which greets once TLS is up. */
static void implicit_tls(struct tls_client *t, const char *host, enum tls_policy p)
{
    static const struct step script[] = {{NULL, "220 secret hello\r\n", 0}};
    int fd = srv_start(script, 1, true);
    struct session *s = client_on(fd);
    assert_int_equal(session_client_starttls(s, t, host, p, 5, on_tls, NULL), 0);
    run_until(&cl.closed);
}

static void test_tls_verified(void **state)
{
    implicit_tls(trusting, "mx.test", TLS_VERIFIED);
    assert_false(cl.failed);
    assert_true(cl.tls_up);
    assert_true(cl.tls.verified);
    assert_string_equal(cl.tls.version, "TLSv1.3");
    assert_true(strncmp(cl.tls.desc, "TLSv1.3 TLS_", 12) == 0);
    assert_string_equal(cl.tls.peer_cn, "mx.test");
    assert_int_equal(cl.ncodes, 1);
    assert_string_equal(cl.texts[0], "secret hello");
}

static void test_tls_wrong_host(void **state)
{
    implicit_tls(trusting, "other.test", TLS_VERIFIED);
    assert_true(cl.failed);
    assert_int_equal(cl.err, SCE_TLS);
    assert_string_equal(cl.why, "certificate verify failed: hostname mismatch");
    assert_false(cl.tls_up);
    assert_int_equal(cl.ncodes, 0);
}

static void test_tls_untrusted(void **state)
{
    implicit_tls(system_cas, "mx.test", TLS_VERIFIED);
    assert_true(cl.failed);
    assert_int_equal(cl.err, SCE_TLS);
    assert_non_null(strstr(cl.why, "certificate verify failed"));
    /* Opportunistic (and required) take it, unverified. */
    srv_stop();
    implicit_tls(system_cas, "mx.test", TLS_OPPORTUNISTIC);
    assert_false(cl.failed);
    assert_true(cl.tls_up);
    assert_false(cl.tls.verified);
    assert_int_equal(cl.ncodes, 1);
}

static void test_tls_plaintext_peer(void **state)
{
    /* A peer that answers the ClientHello in plaintext. */
    static const struct step script[] = {{NULL, "220 plain hello\r\n", 0}};
    int fd = srv_start(script, 1, false);
    struct session *s = client_on(fd);
    assert_int_equal(
        session_client_starttls(s, trusting, "mx.test", TLS_REQUIRED, 5, on_tls, NULL),
        0);
    expect_fail(SCE_TLS, "TLS handshake failed");
    assert_false(cl.tls_up);
    /* Required but not offered in EHLO: the caller may not go on plain. */
    assert_false(tls_policy_allows_plain(TLS_REQUIRED));
    assert_false(tls_policy_allows_plain(TLS_VERIFIED));
    assert_true(tls_policy_allows_plain(TLS_OPPORTUNISTIC));
    enum tls_policy p;
    assert_int_equal(tls_policy_parse("verified", &p), 0);
    assert_int_equal(p, TLS_VERIFIED);
    assert_int_equal(tls_policy_parse("maybe", &p), -1);
}

static void on_ehlo2(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    cl.done = true;
    session_close(s);
}

static void on_starttls_up(struct session *s, const struct tls_client_result *r,
                           void *arg)
{
    cl.tls = *r;
    cl.tls_up = true;
    assert_int_equal(session_command(s, 5, on_ehlo2, NULL, "EHLO again"), 0);
}

static void on_starttls(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_int_equal(session_client_starttls(s, trusting, "mx.test", TLS_VERIFIED, 5,
                                             on_starttls_up, NULL),
                     0);
}

static void on_greet_tls(struct session *s, const struct reply *r, void *arg)
{
    record(r);
    assert_int_equal(session_command(s, 5, on_starttls, NULL, "STARTTLS"), 0);
}

static void test_starttls_discards_plaintext(void **state)
{
    static const struct step script[] = {
        {NULL, "220 hi\r\n", 0},
        /* The injected line after the 220 must never be read as a reply. */
        {"STARTTLS", "220 go ahead\r\n250 injected\r\n", STEP_TLS},
        {"EHLO again", "250 over tls\r\n", 0},
    };
    int fd = srv_start(script, 3, false);
    struct session *s = client_on(fd);
    assert_int_equal(session_expect_reply(s, 5, on_greet_tls, NULL), 0);
    run_until(&cl.closed);
    assert_false(cl.failed);
    assert_false(srv.mismatch);
    assert_true(cl.tls.verified);
    assert_int_equal(cl.ncodes, 3);
    assert_string_equal(cl.texts[2], "over tls");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pipelined_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_behind_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_reply_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unexpected_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_injection_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_next_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_all_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_timeout_then_next, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_source_and_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_wrong_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_untrusted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tls_plaintext_peer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_starttls_discards_plaintext, setup,
                                        teardown),
    };
    int rc = cmocka_run_group_tests(tests, tls_group_setup, tls_group_teardown);
    return rc;
}
