/* session: reads lines from the conn, assembles them (with any literals
 * they announce) into commands, dispatches them one at a time through the
 * protocol's command table, and runs the other input modes (continuation
 * lines, raw input, counted bodies). Processing stops while suspended, while
 * the client is not reading our output, and when the session closes. */
#include "core/session.h"

#include "core/session_client.h"

#include "core/log.h"
#include "core/loop.h"
#include "core/metrics.h"
#include "core/workpool.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static void process(struct session *s);
static void command_reset(struct session *s);
static unsigned state_timeout(const struct session *s, unsigned state);

static void on_input(struct conn *c)
{
    process(c->ctx);
}

static void on_drained(struct conn *c)
{
    process(c->ctx);
}

static void end_with(struct session *s, enum session_error e)
{
    s->proto->on_error(s, e, s->verb);
    session_close(s);
}

static void on_timeout(struct conn *c)
{
    struct session *s = c->ctx;
    if (s->client) {
        session_client_timeout(s);
        return;
    }
    s->proto->on_error(s, SERR_TIMEOUT, NULL);
}

static void on_shutdown(struct conn *c)
{
    struct session *s = c->ctx;
    if (s->client)
        session_client_shutdown(s);
    else if (!s->suspended)
        end_with(s, SERR_SHUTDOWN);
}

/* The command in progress has been answered (the session reads the next
 * one, or ends): counted, with its latency. */
static void command_finished(struct session *s)
{
    if (!s->cmd_pending)
        return;
    s->cmd_pending = false;
    conn_command_done(s->conn, s->cmd_start_us);
}

static void on_free(struct conn *c)
{
    struct session *s = c->ctx;
    command_finished(s);
    if (s->client) /* its proto goes with it */
        session_client_free(s);
    else if (s->proto->on_close)
        s->proto->on_close(s);
    if (s->kick)
        event_free(s->kick);
    if (s->deadline)
        event_free(s->deadline);
    command_reset(s);
    free(s->cmd.lits);
    free(s->cmd.text);
    free(s->sasl);
    free(s->line);
    free(s);
}

static void on_tls(struct conn *c)
{
    struct session *s = c->ctx;
    if (s->client)
        session_client_tls_done(s);
}

static const struct conn_ops session_ops = {
    .on_input = on_input,
    .on_drained = on_drained,
    .on_timeout = on_timeout,
    .on_shutdown = on_shutdown,
    .on_free = on_free,
    .on_tls = on_tls,
};

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;
    process(s);
    session_unref(s);
}

/* The session object and its buffers; NULL without memory. */
static struct session *session_new(struct conn *c, const struct proto *proto)
{
    struct session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->line = malloc(proto->max_line + 1);
    /* Protocols with literals assemble commands from several lines. */
    if (s->line && proto->literal_at_end)
        s->cmd.text = malloc(proto->max_line + 1);
    if (s->line && (s->cmd.text || !proto->literal_at_end))
        s->kick = event_new(c->loop->base, -1, 0, kick_cb, s);
    if (!s->kick) {
        free(s->cmd.text);
        free(s->line);
        free(s);
        return NULL;
    }
    s->cmd.max = proto->max_literal;
    return s;
}

struct session *session_attach(struct conn *c, const struct proto *proto)
{
    struct session *s = session_new(c, proto);
    if (!s)
        return NULL;
    s->conn = c;
    s->proto = proto;
    s->id = c->id;
    c->ops = &session_ops;
    c->ctx = s;
    return s;
}

void session_kick(struct session *s)
{
    if (!event_pending(s->kick, EV_TIMEOUT, NULL)) {
        session_ref(s);
        event_active(s->kick, 0, 0);
    }
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct session *s = arg;
    if (s->conn->closing || (s->deadline_login && s->authenticated))
        return;
    log_info(s->id, "%s deadline %s", s->proto->name,
             s->deadline_login ? "login" : "phase");
    end_with(s, SERR_TIMEOUT);
}

static void arm_deadline(struct session *s, unsigned seconds, bool login)
{
    if (!s->deadline)
        s->deadline = evtimer_new(s->conn->loop->base, deadline_cb, s);
    if (!s->deadline)
        return;
    s->deadline_login = login;
    if (seconds == 0) {
        evtimer_del(s->deadline);
        return;
    }
    struct timeval tv = {(time_t)seconds, 0};
    evtimer_add(s->deadline, &tv);
}

void session_set_deadline(struct session *s, unsigned seconds)
{
    arm_deadline(s, seconds, false);
}

static unsigned login_deadline(void)
{
    if (runtime && runtime->cfg->login_timeout > 0)
        return (unsigned)runtime->cfg->login_timeout;
    return SESSION_LOGIN_DEADLINE_SEC;
}

struct session *session_start(struct conn *c, const struct proto *proto)
{
    struct session *s = session_new(c, proto);
    if (!s) {
        conn_abort(c);
        return NULL;
    }
    s->conn = c;
    s->proto = proto;
    s->id = c->id;
    c->ops = &session_ops;
    c->ctx = s;
    conn_set_idle_timeout(c, state_timeout(s, s->state));
    log_info(s->id, "%s connect peer=%s port=%d%s", proto->name, c->peer_ip, c->peer_port,
             c->tls ? " tls=implicit" : "");
    if (c->over_global || c->over_limit) {
        log_warn(s->id, "%s refused peer=%s why=%s", proto->name, c->peer_ip,
                 c->over_global ? "server_full" : "too_many_connections_from_peer");
        end_with(s, c->over_global ? SERR_SERVER_FULL : SERR_PEER_LIMIT);
        return s;
    }
    if (proto->login_deadline)
        arm_deadline(s, login_deadline(), true);
    proto->on_open(s);
    return s;
}

int session_write(struct session *s, const void *data, size_t len)
{
    return conn_write(s->conn, data, len);
}

int session_printf(struct session *s, const char *fmt, ...)
{
    if (s->conn->closing)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int n = evbuffer_add_vprintf(conn_output(s->conn), fmt, ap);
    va_end(ap);
    return n < 0 ? -1 : 0;
}

int session_reply(struct session *s, const char *fmt, ...)
{
    if (s->conn->closing)
        return -1;
    struct evbuffer *out = conn_output(s->conn);
    va_list ap;
    va_start(ap, fmt);
    int n = evbuffer_add_vprintf(out, fmt, ap);
    va_end(ap);
    if (n < 0 || evbuffer_add(out, "\r\n", 2) < 0)
        return -1;
    return 0;
}

/* The idle timeout of a state: configured, else the protocol's table,
 * else its one value for every state. */
static unsigned state_timeout(const struct session *s, unsigned state)
{
    const struct proto *p = s->proto;
    if (p->config_timeout) {
        unsigned t = p->config_timeout(state);
        if (t)
            return t;
    }
    if (p->state_timeouts)
        return p->state_timeouts[state];
    return p->idle_timeout_sec;
}

void session_set_state(struct session *s, unsigned state)
{
    if (state == s->state)
        return;
    const char *const *names = s->proto->state_names;
    log_debug(s->id, "%s state %s -> %s", s->proto->name, names ? names[s->state] : "?",
              names ? names[state] : "?");
    unsigned before = state_timeout(s, s->state);
    s->state = state;
    unsigned after = state_timeout(s, state);
    if (after != before)
        conn_set_idle_timeout(s->conn, after);
}

void session_ref(struct session *s)
{
    conn_ref(s->conn);
}

void session_unref(struct session *s)
{
    conn_unref(s->conn);
}

bool session_gone(struct session *s)
{
    return s->conn->closing;
}

void session_suspend(struct session *s)
{
    s->suspended++;
    conn_pause(s->conn);
}

void session_resume(struct session *s)
{
    if (s->suspended == 0 || --s->suspended > 0)
        return;
    conn_resume(s->conn);
    if (s->conn->loop->stopping) {
        end_with(s, SERR_SHUTDOWN);
        return;
    }
    /* Lines may already be buffered; no read event would come for them. */
    session_kick(s);
}

struct session_job {
    struct session *s;
    void (*work)(void *job);
    session_work_done_fn done;
    void *job;
};

static void session_job_work(void *arg)
{
    struct session_job *j = arg;
    j->work(j->job);
}

static void session_job_done(void *arg)
{
    struct session_job *j = arg;
    struct session *s = j->s;
    if (session_gone(s)) {
        j->done(NULL, j->job);
    } else {
        j->done(s, j->job);
        session_resume(s);
    }
    session_unref(s);
    free(j);
}

int session_work(struct session *s, void (*work)(void *job), session_work_done_fn done,
                 void *job)
{
    struct session_job *j = runtime ? malloc(sizeof *j) : NULL;
    if (!j)
        return -1;
    *j = (struct session_job){s, work, done, job};
    if (workpool_submit(runtime->pool, s->conn->loop->base, session_job_work,
                        session_job_done, j) < 0) {
        free(j);
        return -1;
    }
    session_ref(s);
    session_suspend(s);
    return 0;
}

void session_expect_line(struct session *s, session_line_fn fn)
{
    s->mode = MODE_LINE;
    s->line_fn = fn;
}

void session_read_raw(struct session *s, session_raw_fn fn)
{
    s->mode = MODE_RAW;
    s->raw_fn = fn;
}

void session_read_counted(struct session *s, uint64_t n, int fd, struct evbuffer *buf,
                          session_done_fn done)
{
    s->mode = MODE_COUNTED;
    s->counted.remaining = n;
    s->counted.fd = fd;
    s->counted.buf = buf;
    s->counted.done = done;
    s->counted.failed = false;
}

void session_stream(struct session *s, session_produce_fn fn, void *arg)
{
    s->produce = fn;
    s->produce_arg = arg;
}

/* One step of a long reply; false when the producer failed. */
static bool step_produce(struct session *s)
{
    /* Fill up to the high-water mark, not past it: the unsent output of a
     * connection stays bounded by SESSION_OUTPUT_HIGH plus one reply. */
    size_t pending = evbuffer_get_length(conn_output(s->conn));
    size_t room = SESSION_OUTPUT_HIGH > pending ? SESSION_OUTPUT_HIGH - pending : 0;
    if (room < SESSION_STREAM_MIN)
        room = SESSION_STREAM_MIN;
    int r = s->produce(s, conn_output(s->conn), room, s->produce_arg);
    if (r == 0)
        return true;
    s->produce = NULL;
    if (r < 0) {
        log_warn(s->id, "%s stream failed", s->proto->name);
        conn_abort(s->conn);
        return false;
    }
    return true;
}

const struct session_literal *session_literals(const struct session *s, size_t *n)
{
    *n = s->cmd.nlits;
    return s->cmd.lits;
}

void session_set_max_literal(struct session *s, uint64_t max)
{
    s->cmd.max = max;
}

int session_starttls(struct session *s)
{
    if (conn_starttls(s->conn) < 0)
        return -1;
    log_info(s->id, "%s starttls", s->proto->name);
    return 0;
}

int session_compress(struct session *s)
{
    if (conn_compress(s->conn) < 0)
        return -1;
    log_info(s->id, "%s compress mechanism=deflate", s->proto->name);
    return 0;
}

bool session_compressed(const struct session *s)
{
    return s->conn->compressed;
}

bool session_tls(const struct session *s)
{
    return s->conn->tls;
}

bool session_plaintext_auth_ok(const struct session *s, bool allow_loopback)
{
    if (s->conn->tls)
        return true;
    if (runtime && runtime->cfg->allow_plaintext_auth)
        return true;
    return allow_loopback && s->conn->loopback;
}

void session_close(struct session *s)
{
    if (s->client)
        session_client_closing(s);
    conn_close(s->conn);
}

/* ---- dispatch ---- */

/* Whether the two-word table verb `two` ("UID FETCH") is verb followed by
 * the first word of rest; if so *next is where that word ends. */
static bool match_two_words(const char *two, const char *verb, const char *rest,
                            const char **next)
{
    size_t vlen = strlen(verb);
    if (strncasecmp(two, verb, vlen) != 0 || two[vlen] != ' ')
        return false;
    const char *second = two + vlen + 1;
    size_t wlen = strcspn(rest, " ");
    if (wlen != strlen(second) || strncasecmp(second, rest, wlen) != 0)
        return false;
    *next = rest[wlen] == ' ' ? rest + wlen + 1 : rest + wlen;
    return true;
}

/* The table entry for verb; a two-word entry wins over a one-word one and
 * then consumes its second word from *rest. */
static const struct command *find_command(const struct proto *p, const char *verb,
                                          char **rest)
{
    const struct command *one = NULL;
    for (const struct command *c = p->commands; c->verb; c++) {
        const char *next;
        if (strchr(c->verb, ' ')) {
            if (match_two_words(c->verb, verb, *rest, &next)) {
                *rest = (char *)next;
                return c;
            }
        } else if (!one && strcasecmp(c->verb, verb) == 0) {
            one = c;
        }
    }
    return one;
}

static enum session_error check_policy(struct session *s, const struct command *cmd)
{
    if (!(cmd->states & STATE_BIT(s->state)))
        return SERR_BAD_STATE;
    if ((cmd->flags & CMD_NEEDS_TLS) && !s->conn->tls)
        return SERR_NEEDS_TLS;
    if ((cmd->flags & CMD_NO_TLS) && s->conn->tls)
        return SERR_ALREADY_TLS;
    if ((cmd->flags & CMD_NEEDS_AUTH) && !s->authenticated)
        return SERR_NEEDS_AUTH;
    if ((cmd->flags & CMD_NO_AUTH) && s->authenticated)
        return SERR_ALREADY_AUTH;
    return (enum session_error) - 1;
}

static void refuse(struct session *s, enum session_error e, const char *verb)
{
    metrics_add(s->conn->svc, MET_ERRORS, 1);
    log_info(s->id, "%s refused verb=%.32s why=%d", s->proto->name, verb ? verb : "-", e);
    if (++s->errors > SESSION_MAX_ERRORS) {
        end_with(s, SERR_TOO_MANY);
        return;
    }
    s->proto->on_error(s, e, verb);
}

/* Splits "[tag SP] verb [SP args]" in place. */
static char *split_word(char **rest)
{
    char *w = *rest;
    char *sp = strchr(w, ' ');
    if (sp) {
        *sp = '\0';
        *rest = sp + 1;
    } else {
        *rest = w + strlen(w);
    }
    return w;
}

static void dispatch(struct session *s, char *line, size_t len)
{
    s->tag[0] = '\0';
    s->verb = NULL;
    if (++s->commands > SESSION_MAX_COMMANDS) {
        end_with(s, SERR_TOO_MANY);
        return;
    }
    s->cmd_start_us = metrics_now_us();
    s->cmd_pending = true;
    if (s->proto->filter_line)
        len = s->proto->filter_line(s, line, len);
    if (len == 0 || strlen(line) != len) {
        refuse(s, SERR_SYNTAX, NULL);
        return;
    }
    char *rest = line;
    if (s->proto->tagged) {
        char *tag = split_word(&rest);
        if (!*tag || strlen(tag) >= sizeof s->tag || !*rest) {
            refuse(s, SERR_SYNTAX, NULL);
            return;
        }
        memcpy(s->tag, tag, strlen(tag) + 1);
    }
    char *verb = split_word(&rest);
    const struct command *cmd = find_command(s->proto, verb, &rest);
    if (!cmd) {
        refuse(s, SERR_UNKNOWN, verb);
        return;
    }
    s->verb = cmd->verb;
    enum session_error e = check_policy(s, cmd);
    if ((int)e >= 0) {
        refuse(s, e, cmd->verb);
        return;
    }
    log_debug(s->id, "%s command %s", s->proto->name, cmd->verb);
    cmd->fn(s, rest);
}

/* ---- command assembly: lines and literals (RFC 9051 4.3, RFC 7888) ---- */

/* Frees the previous command's literals; a new command starts empty. */
static void command_reset(struct session *s)
{
    for (size_t i = 0; i < s->cmd.nlits; i++) {
        free(s->cmd.lits[i].data);
        if (s->cmd.lits[i].fd >= 0)
            close(s->cmd.lits[i].fd);
    }
    s->cmd.nlits = 0;
    s->cmd.len = 0;
    s->cmd.mem = 0;
}

/* The tag of a command refused before dispatch (its first word). */
static void note_tag(struct session *s, const char *text)
{
    size_t n = strcspn(text, " ");
    if (!s->proto->tagged || n >= sizeof s->tag)
        n = 0;
    memcpy(s->tag, text, n);
    s->tag[n] = '\0';
    s->verb = NULL;
}

/* An unnamed file for a literal too large to hold in memory: beside the
 * data (so a full disk is reported as for any upload), else in /tmp. */
static int literal_spool(void)
{
    int fd = -1;
    if (runtime)
        fd = openat(runtime->datadir_fd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    return fd;
}

/* Makes room for the announced literal and starts reading it; false if it
 * is refused (too big, too many, no memory or spool: the command ends). */
static bool literal_begin(struct session *s, const struct literal_ann *ann)
{
    if (ann->len > s->cmd.max) {
        refuse(s, SERR_LITERAL_TOO_BIG, NULL);
        /* RFC 7888 4: the octets of a non-synchronising literal are on
         * their way; there is no telling where the next command starts. */
        if (!ann->sync)
            session_close(s);
        return false;
    }
    if (s->cmd.nlits == s->cmd.cap) {
        size_t cap = s->cmd.cap ? s->cmd.cap * 2 : 4;
        struct session_literal *v = NULL;
        if (cap <= SESSION_MAX_LITERALS)
            v = realloc(s->cmd.lits, cap * sizeof *v);
        if (!v) {
            refuse(s, SERR_SYNTAX, NULL);
            if (!ann->sync)
                session_close(s);
            return false;
        }
        s->cmd.lits = v;
        s->cmd.cap = cap;
    }
    struct session_literal *l = &s->cmd.lits[s->cmd.nlits];
    *l = (struct session_literal){.len = ann->len, .fd = -1, .binary = ann->binary};
    bool in_memory =
        ann->len <= SESSION_LITERAL_MEM && s->cmd.mem + ann->len <= SESSION_COMMAND_MEM;
    if (in_memory)
        l->data = malloc(ann->len + 1);
    else
        l->fd = literal_spool();
    if (!l->data && l->fd < 0) {
        log_warn(s->id, "%s literal_failed len=%llu", s->proto->name,
                 (unsigned long long)ann->len);
        refuse(s, SERR_LITERAL_TOO_BIG, NULL);
        if (!ann->sync)
            session_close(s);
        return false;
    }
    if (in_memory)
        s->cmd.mem += ann->len;
    s->cmd.nlits++;
    s->counted.remaining = ann->len;
    s->counted.failed = false;
    s->mode = MODE_LITERAL;
    if (ann->sync)
        s->proto->on_continue(s);
    return true;
}

/* Reads literal octets into the newest literal; false for more input. */
static bool step_literal(struct session *s, struct evbuffer *in)
{
    struct session_literal *l = &s->cmd.lits[s->cmd.nlits - 1];
    while (s->counted.remaining > 0 && evbuffer_get_length(in) > 0) {
        size_t avail = evbuffer_get_length(in);
        size_t n = avail;
        if (s->counted.remaining < avail)
            n = (size_t)s->counted.remaining;
        uint64_t at = l->len - s->counted.remaining;
        if (l->data) {
            evbuffer_remove(in, l->data + at, n);
        } else {
            int w = evbuffer_write_atmost(in, l->fd, (ev_ssize_t)n);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                s->counted.failed = true; /* keep reading, refuse at the end */
                evbuffer_drain(in, n);
            } else {
                n = (size_t)w;
            }
        }
        s->counted.remaining -= n;
    }
    if (s->counted.remaining > 0)
        return false;
    if (l->data)
        l->data[l->len] = '\0';
    else if (lseek(l->fd, 0, SEEK_SET) < 0)
        s->counted.failed = true;
    s->mode = MODE_COMMAND;
    if (s->counted.failed) {
        log_warn(s->id, "%s literal_spool_failed", s->proto->name);
        s->cmd.discard = true; /* the rest of this command is read and dropped */
    }
    return true;
}

/* Adds a line to the command being assembled; false if it does not fit. */
static bool command_append(struct session *s, const char *line, size_t len)
{
    if (s->cmd.len + len > s->proto->max_line)
        return false;
    memcpy(s->cmd.text + s->cmd.len, line, len);
    s->cmd.len += len;
    s->cmd.text[s->cmd.len] = '\0';
    return true;
}

/* A complete line in MODE_COMMAND: a command, or a piece of one. */
static void command_line(struct session *s, char *line, size_t len)
{
    struct literal_ann ann;
    bool first = s->cmd.len == 0 && !s->cmd.discard;
    if (!s->proto->literal_at_end) {
        dispatch(s, line, len);
        return;
    }
    if (first)
        command_reset(s);
    bool more = s->proto->literal_at_end(line, len, &ann);
    if (s->cmd.discard) {
        if (more && ann.len <= s->cmd.max && literal_begin(s, &ann))
            return;
        s->cmd.discard = false;
        command_reset(s);
        if (!more)
            refuse(s, SERR_LITERAL_TOO_BIG, NULL);
        return;
    }
    if (strlen(line) != len || !command_append(s, line, len)) {
        note_tag(s, s->cmd.len ? s->cmd.text : line);
        command_reset(s);
        refuse(s, len == strlen(line) ? SERR_LINE_TOO_LONG : SERR_SYNTAX, NULL);
        if (more && !ann.sync)
            session_close(s);
        return;
    }
    if (more) {
        note_tag(s, s->cmd.text);
        if (!literal_begin(s, &ann))
            command_reset(s);
        return;
    }
    size_t total = s->cmd.len;
    s->cmd.len = 0; /* the next line starts a new command */
    dispatch(s, s->cmd.text, total);
}

/* One step of line input; false when no complete line is buffered. */
static bool step_line(struct session *s, struct evbuffer *in)
{
    size_t len = 0;
    switch (linebuf_next(&s->lines, in, s->proto->max_line, s->line, &len)) {
    case LINE_MORE:
        return false;
    case LINE_TOO_LONG:
        if (s->client) { /* client mode: a reply line, not a command */
            session_client_input(s, NULL, 0, true);
            return true;
        }
        s->mode = MODE_COMMAND;
        if (s->cmd.len)
            note_tag(s, s->cmd.text);
        command_reset(s);
        s->cmd.discard = false;
        refuse(s, SERR_LINE_TOO_LONG, NULL);
        return true;
    case LINE_OK:
        break;
    }
    if (s->client) {
        session_client_input(s, s->line, len, false);
    } else if (s->mode == MODE_LINE) {
        s->mode = MODE_COMMAND;
        s->line_fn(s, s->line, len);
    } else {
        command_line(s, s->line, len);
    }
    return true;
}

/* Moves up to n bytes of a counted body to its destination. */
static size_t move_counted(struct session *s, struct evbuffer *in, size_t n)
{
    if (s->counted.fd >= 0) {
        int w = evbuffer_write_atmost(in, s->counted.fd, (ev_ssize_t)n);
        if (w > 0)
            return (size_t)w;
        if (w < 0 && errno == EINTR)
            return 0;
        s->counted.failed = true; /* keep consuming, stop writing */
        s->counted.fd = -1;
        return 0;
    }
    if (s->counted.buf)
        evbuffer_remove_buffer(in, s->counted.buf, n);
    else
        evbuffer_drain(in, n);
    return n;
}

static bool step_counted(struct session *s, struct evbuffer *in)
{
    size_t avail = evbuffer_get_length(in);
    size_t n = s->counted.remaining < avail ? (size_t)s->counted.remaining : avail;
    while (n > 0) {
        size_t moved = move_counted(s, in, n);
        n -= moved;
        s->counted.remaining -= moved;
    }
    if (s->counted.remaining > 0)
        return false;
    s->mode = MODE_COMMAND;
    s->counted.done(s, s->counted.failed ? -1 : 0);
    return true;
}

static void process(struct session *s)
{
    struct conn *c = s->conn;
    session_ref(s);
    while (!s->suspended && !c->closing && !conn_output_full(c)) {
        if (s->produce) {
            if (!step_produce(s))
                break;
            continue;
        }
        struct evbuffer *in = conn_input(c);
        bool progressed;
        switch (s->mode) {
        case MODE_RAW:
            progressed = evbuffer_get_length(in) > 0 && s->raw_fn(s, in);
            if (progressed)
                s->mode = MODE_COMMAND;
            break;
        case MODE_COUNTED:
            progressed = step_counted(s, in);
            break;
        case MODE_LITERAL:
            progressed = step_literal(s, in);
            break;
        default:
            if (s->mode == MODE_COMMAND)
                command_finished(s);
            progressed = step_line(s, in);
            break;
        }
        if (!progressed)
            break;
    }
    if (!c->closing)
        conn_check_backpressure(c);
    session_unref(s);
}
