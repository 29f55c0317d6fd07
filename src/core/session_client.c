/* session_client: client mode of the line session. Commands go out through
 * the conn's output; reply lines come in through session.c's line reader
 * (linebuf, REPLY_MAX_LINE) and the pure parser (reply.c); each complete
 * reply goes to the oldest waiting callback (RFC 2920 3: replies come in
 * the order of the commands). The head's timeout is the conn's idle
 * timeout, so RFC 5321 4.5.3.2's per-step limits are the conn's timer. */
#include "core/session_client.h"

#include "core/dotstuff.h"
#include "core/log.h"
#include "core/tls_client.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct pending {
    session_reply_fn fn;
    void *arg;
    unsigned timeout_sec;
    char what[16]; /* the command's verb, for the timeout message */
};

struct session_client {
    struct proto proto;
    const struct session_client_ops *ops;
    struct reply_parser parser;
    struct pending *q; /* ring of waiting replies */
    size_t head, count, cap;
    bool ended;       /* closed by the user or after on_fail */
    bool tls_pending; /* a handshake is running */
    enum tls_policy policy;
    session_tls_fn tls_fn;
    void *tls_arg;
    struct { /* a DATA body being streamed */
        int fd;
        struct dotstuff ds;
        unsigned end_timeout;
        session_reply_fn fn;
        void *arg;
        session_written_fn written; /* or NULL */
    } body;
};

static const char *const error_names[] = {"closed", "timeout", "bad_reply",
                                          "tls",    "local",   "shutdown"};

const char *session_client_error_name(enum session_client_error e)
{
    if ((unsigned)e < sizeof error_names / sizeof *error_names)
        return error_names[e];
    return "?";
}

static void client_error_stub(struct session *s, enum session_error e, const char *verb)
{
}

static const struct command no_commands[] = {{NULL, 0, 0, NULL}};

/* The session fails: one log line, on_fail, close. Waiting callbacks are
 * dropped. */
static void fail(struct session *s, enum session_client_error e, const char *why)
{
    struct session_client *cl = s->client;
    if (cl->ended)
        return;
    cl->ended = true;
    log_info(s->id, "%s fail error=%s why=\"%s\"", cl->proto.name,
             session_client_error_name(e), why);
    cl->count = 0;
    if (cl->ops->on_fail)
        cl->ops->on_fail(s, e, why);
    conn_close(s->conn);
}

struct session *session_client_start(struct conn *c, const struct session_client_ops *ops,
                                     void *data)
{
    struct session_client *cl = calloc(1, sizeof *cl);
    struct session *s = NULL;
    if (cl) {
        cl->ops = ops;
        cl->body.fd = -1;
        cl->proto = (struct proto){.name = ops->name,
                                   .max_line = REPLY_MAX_LINE,
                                   .idle_timeout_sec = SMTP_TIMEOUT_GREETING,
                                   .commands = no_commands,
                                   .on_error = client_error_stub};
        reply_parser_init(&cl->parser);
        s = session_attach(c, &cl->proto);
    }
    if (!s) {
        free(cl);
        conn_abort(c);
        return NULL;
    }
    s->client = cl;
    s->data = data;
    conn_set_idle_timeout(c, SMTP_TIMEOUT_GREETING);
    log_info(s->id, "%s connected peer=%s port=%d", ops->name, c->peer_ip, c->peer_port);
    return s;
}

static void apply_head_timeout(struct session *s)
{
    struct session_client *cl = s->client;
    if (cl->count > 0)
        conn_set_idle_timeout(s->conn, cl->q[cl->head].timeout_sec);
}

static int grow(struct session_client *cl)
{
    size_t cap = 16;
    if (cl->cap)
        cap = cl->cap * 2;
    if (cap > SESSION_CLIENT_MAX_PENDING)
        cap = SESSION_CLIENT_MAX_PENDING;
    if (cap <= cl->cap)
        return -1;
    struct pending *q = malloc(cap * sizeof *q);
    if (!q)
        return -1;
    for (size_t i = 0; i < cl->count; i++)
        q[i] = cl->q[(cl->head + i) % cl->cap];
    free(cl->q);
    cl->q = q;
    cl->cap = cap;
    cl->head = 0;
    return 0;
}

static int push(struct session *s, unsigned timeout_sec, session_reply_fn fn, void *arg,
                const char *what)
{
    struct session_client *cl = s->client;
    if (cl->ended || s->conn->closing)
        return -1;
    if (cl->count == cl->cap && grow(cl) < 0)
        return -1;
    struct pending *p = &cl->q[(cl->head + cl->count) % cl->cap];
    p->fn = fn;
    p->arg = arg;
    p->timeout_sec = timeout_sec;
    size_t n = strcspn(what, " :");
    if (n >= sizeof p->what)
        n = sizeof p->what - 1;
    memcpy(p->what, what, n);
    p->what[n] = '\0';
    cl->count++;
    if (cl->count == 1)
        apply_head_timeout(s);
    return 0;
}

int session_expect_reply(struct session *s, unsigned timeout_sec, session_reply_fn fn,
                         void *arg)
{
    return push(s, timeout_sec, fn, arg, "greeting");
}

/* The command as logged: AUTH's credentials never reach the log. */
static void log_command(struct session *s, const char *line)
{
    if (strncasecmp(line, "AUTH ", 5) == 0) {
        size_t n = 5 + strcspn(line + 5, " ");
        log_debug(s->id, "%s send %.*s ***", s->proto->name, (int)n, line);
        return;
    }
    log_debug(s->id, "%s send %.200s", s->proto->name, line);
}

int session_command(struct session *s, unsigned timeout_sec, session_reply_fn fn,
                    void *arg, const char *fmt, ...)
{
    char line[REPLY_MAX_LINE];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line - 2 || strpbrk(line, "\r\n"))
        return -1;
    if (s->client->ended || s->conn->closing)
        return -1;
    memcpy(line + n, "\r\n", 3); /* with the NUL: log_command reads it as a string */
    if (push(s, timeout_sec, fn, arg, line) < 0)
        return -1;
    log_command(s, line);
    if (conn_write(s->conn, line, (size_t)n + 2) < 0) {
        s->client->count--;
        return -1;
    }
    return 0;
}

size_t session_pending_replies(const struct session *s)
{
    return s->client->count;
}

static void deliver(struct session *s, const struct reply *r)
{
    struct session_client *cl = s->client;
    char sum[160];
    reply_summary(r, sum, sizeof sum);
    log_debug(s->id, "%s reply %s", cl->proto.name, sum);
    if (cl->count == 0) {
        fail(s, SCE_REPLY, "a reply nobody waited for");
        return;
    }
    struct pending p = cl->q[cl->head];
    cl->head = (cl->head + 1) % cl->cap;
    cl->count--;
    apply_head_timeout(s);
    p.fn(s, r, p.arg);
}

void session_client_input(struct session *s, const char *line, size_t len, bool too_long)
{
    struct session_client *cl = s->client;
    if (cl->ended)
        return;
    enum reply_status st;
    if (too_long)
        st = reply_line_too_long(&cl->parser);
    else
        st = reply_parser_line(&cl->parser, line, len);
    if (st == REPLY_ERROR) {
        fail(s, SCE_REPLY, cl->parser.error);
        return;
    }
    if (st == REPLY_DONE)
        deliver(s, &cl->parser.reply);
}

void session_client_timeout(struct session *s)
{
    struct session_client *cl = s->client;
    char why[96];
    if (cl->tls_pending)
        snprintf(why, sizeof why, "timeout after %us in the TLS handshake",
                 s->conn->idle_sec);
    else if (cl->body.fd >= 0)
        snprintf(why, sizeof why, "timeout after %us sending the message",
                 s->conn->idle_sec);
    else if (cl->count > 0)
        snprintf(why, sizeof why, "timeout after %us waiting for the reply to %s",
                 s->conn->idle_sec, cl->q[cl->head].what);
    else
        snprintf(why, sizeof why, "idle timeout after %us", s->conn->idle_sec);
    fail(s, SCE_TIMEOUT, why);
}

void session_client_shutdown(struct session *s)
{
    fail(s, SCE_SHUTDOWN, "the server is stopping");
}

void session_client_closing(struct session *s)
{
    s->client->ended = true;
}

void session_client_free(struct session *s)
{
    struct session_client *cl = s->client;
    if (cl->tls_pending)
        fail(s, SCE_TLS, "TLS handshake failed");
    else
        fail(s, SCE_CLOSED, "connection closed by the server");
    if (cl->ops->on_close)
        cl->ops->on_close(s);
    free(cl->q);
    free(cl);
    s->client = NULL;
}

/* ---- the DATA body (RFC 5321 4.1.1.4, 4.5.2) ---- */

static int produce_body(struct session *s, struct evbuffer *out, size_t room, void *arg)
{
    struct session_client *cl = s->client;
    char buf[16384];
    size_t want = room / 2; /* dot-stuffing at most doubles it */
    if (want > sizeof buf)
        want = sizeof buf;
    ssize_t n = read(cl->body.fd, buf, want);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n < 0) {
        cl->body.fd = -1;
        fail(s, SCE_LOCAL, "cannot read the message file");
        return 1;
    }
    if (n > 0)
        return dotstuff_feed(&cl->body.ds, buf, (size_t)n, out) < 0 ? -1 : 0;
    cl->body.fd = -1;
    if (dotstuff_end(&cl->body.ds, out) < 0)
        return -1;
    if (push(s, cl->body.end_timeout, cl->body.fn, cl->body.arg, "end-of-data") < 0)
        return -1;
    if (cl->body.written) /* RFC 2920 3.1: what follows may go right behind */
        cl->body.written(s, cl->body.arg);
    return 1;
}

int session_send_body(struct session *s, int fd, unsigned data_timeout_sec,
                      unsigned end_timeout_sec, session_reply_fn fn,
                      session_written_fn written, void *arg)
{
    struct session_client *cl = s->client;
    if (cl->ended || s->conn->closing || cl->body.fd >= 0 || s->produce)
        return -1;
    cl->body.fd = fd;
    dotstuff_init(&cl->body.ds);
    cl->body.end_timeout = end_timeout_sec;
    cl->body.fn = fn;
    cl->body.written = written;
    cl->body.arg = arg;
    conn_set_idle_timeout(s->conn, data_timeout_sec);
    session_stream(s, produce_body, NULL);
    session_kick(s);
    return 0;
}

/* ---- TLS (RFC 3207) ---- */

int session_client_starttls(struct session *s, struct tls_client *t, const char *host,
                            enum tls_policy policy, unsigned timeout_sec,
                            session_tls_fn fn, void *arg)
{
    struct session_client *cl = s->client;
    if (cl->ended || cl->count > 0 || s->conn->tls || cl->tls_pending)
        return -1;
    SSL *ssl = tls_client_new_ssl(t, host);
    if (!ssl || conn_starttls_client(s->conn, ssl) < 0)
        return -1;
    cl->tls_pending = true;
    cl->policy = policy;
    cl->tls_fn = fn;
    cl->tls_arg = arg;
    conn_set_idle_timeout(s->conn, timeout_sec);
    log_debug(s->id, "%s tls start host=%s policy=%s", cl->proto.name, host,
              tls_policy_name(policy));
    return 0;
}

void session_client_tls_done(struct session *s)
{
    struct session_client *cl = s->client;
    if (!cl->tls_pending || cl->ended)
        return;
    cl->tls_pending = false;
    struct tls_client_result r;
    int ok = tls_client_check(conn_ssl(s->conn), cl->policy, &r);
    log_info(s->id, "%s tls %s verified=%s policy=%s%s%s", cl->proto.name, r.desc,
             r.verified ? "yes" : "no", tls_policy_name(cl->policy),
             r.why[0] ? " why=" : "", r.why);
    if (ok < 0) {
        fail(s, SCE_TLS, r.why);
        return;
    }
    cl->tls_fn(s, &r, cl->tls_arg);
    session_kick(s);
}

void session_client_tls_describe(struct session *s, char *buf, size_t len)
{
    conn_tls_describe(s->conn, buf, len);
}
