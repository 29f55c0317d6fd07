/* session: the line-protocol layer shared by SMTP, POP3, IMAP and FTP
 * (DESIGN.md "The line-protocol session"). A protocol supplies a constant
 * struct proto (limits, command table, error formatter, timeouts); the
 * session reads lines, dispatches them in order through the table, pauses
 * around async work, streams bodies and upgrades to TLS. Protocol code never
 * touches the socket. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/conn.h"
#include "core/limits.h"
#include "core/linebuf.h"

struct session;
struct evbuffer;
struct sasl_exchange;
struct session_client;

/* Command flags: checked by the dispatcher before the handler runs. */
enum {
    CMD_NEEDS_TLS = 1 << 0,  /* refused until TLS is up */
    CMD_NEEDS_AUTH = 1 << 1, /* refused until authenticated */
    CMD_NO_AUTH = 1 << 2,    /* refused once authenticated */
    CMD_NO_TLS = 1 << 3,     /* refused once TLS is up (STARTTLS again) */
};

#define STATES_ALL (~0u)
#define STATE_BIT(s) (1u << (s))

typedef void (*cmd_handler)(struct session *s, char *args);

struct command {
    const char *verb; /* upper case; matched case-insensitively */
    unsigned states;  /* STATE_BIT()s where the command is allowed */
    unsigned flags;   /* CMD_* */
    cmd_handler fn;
};

/* Why the session refused a line; the protocol turns it into its reply. */
enum session_error {
    SERR_LINE_TOO_LONG,
    SERR_SYNTAX,    /* empty line, NUL byte, missing tag */
    SERR_UNKNOWN,   /* verb not in the table */
    SERR_BAD_STATE, /* not allowed in this state */
    SERR_NEEDS_TLS,
    SERR_NEEDS_AUTH,
    SERR_ALREADY_AUTH,
    SERR_ALREADY_TLS,
    SERR_TOO_MANY,        /* too many errors or commands: the session ends */
    SERR_TIMEOUT,         /* idle timeout: the session ends */
    SERR_SHUTDOWN,        /* server stopping: the session ends */
    SERR_LITERAL_TOO_BIG, /* an announced literal over max_literal: the
                           * command is refused before any byte of it is
                           * read (a non-synchronising one ends the session) */
    SERR_PEER_LIMIT,      /* the address holds too many connections: ends */
    SERR_SERVER_FULL,     /* [portico] max_connections reached: ends */
};

/* A literal announced at the end of a command line (RFC 9051 4.3:
 * "{n}" synchronising, "{n+}" RFC 7888 LITERAL+, "{n-}" LITERAL-,
 * "~{n}" RFC 3516 BINARY). */
struct literal_ann {
    uint64_t len;
    bool sync;   /* the client waits for a continuation before sending */
    bool binary; /* "~{n}": may contain NUL */
};

/* A literal of an assembled command: its octets, in memory when small,
 * else in an unnamed spool file (at offset 0). The command's text keeps
 * the announcement ("{5}") where the literal stood; the parser takes the
 * literals in order. Owned by the session; valid until the command's
 * handler has finished (after any async work it started: no further
 * command is assembled while the session is suspended). */
struct session_literal {
    uint64_t len;
    char *data; /* len bytes + NUL, or NULL when spooled */
    int fd;     /* spool file, or -1 */
    bool binary;
};

struct proto {
    const char *name;          /* "smtp", used in logs */
    size_t max_line;           /* with CRLF, limits.h */
    bool tagged;               /* IMAP: lines are "tag verb args" */
    unsigned idle_timeout_sec; /* every state, unless state_timeouts says */
    /* Optional, indexed by state: that state's idle timeout in seconds
     * (0: none), applied at start and on every session_set_state. */
    const unsigned *state_timeouts;
    /* Optional: a configured timeout for the state ([smtp] timeout,
     * [ftp] idle_timeout); 0 means "use the table". */
    unsigned (*config_timeout)(unsigned state);
    const struct command *commands; /* ends with a {NULL} entry; a verb of
                                     * two words ("UID FETCH") matches a
                                     * command line's first two words */
    const char *const *state_names; /* indexed by state, for logs */
    /* Optional: rewrites a line in place before it is dispatched (FTP strips
     * Telnet IAC sequences, RFC 959 4.1.3); returns the new length. */
    size_t (*filter_line)(struct session *s, char *line, size_t len);
    /* Optional (literals): whether the line ends with a literal
     * announcement; fills ann and returns true. The session then checks
     * max_literal, sends the continuation for a synchronising literal
     * through on_continue, reads the octets and the rest of the command. */
    bool (*literal_at_end)(const char *line, size_t len, struct literal_ann *ann);
    uint64_t max_literal; /* largest literal accepted (a config key may lower it) */
    void (*on_continue)(struct session *s); /* "+ go ahead" */
    /* The session must have logged in this long after it opened (a slow
     * client trickling command bytes before login is dropped): the
     * protocols with a login set it ([portico] login_timeout overrides). */
    bool login_deadline;
    /* Called once the connection is set up: allocate s->data, greet. */
    void (*on_open)(struct session *s);
    /* Called when the session ends: free s->data. */
    void (*on_close)(struct session *s);
    /* Formats the reply to a refused line; for SERR_TOO_MANY, SERR_TIMEOUT
     * and SERR_SHUTDOWN a goodbye (the session closes after it). */
    void (*on_error)(struct session *s, enum session_error e, const char *verb);
};

/* Counted reads (IMAP literals, BDAT chunks) report here when done. */
typedef void (*session_done_fn)(struct session *s, int status);
/* Raw input (SMTP DATA, SASL exchanges handled by the protocol): consume
 * what you can from in; return true when done, false for more input. */
typedef bool (*session_raw_fn)(struct session *s, struct evbuffer *in);
/* Continuation line (SASL responses): the next line goes here, not to the
 * command table. */
typedef void (*session_line_fn)(struct session *s, char *line, size_t len);

/* Output producer for long replies (POP3 RETR, IMAP FETCH): append the next
 * part to out, about `room` bytes; return 1 when finished, 0 for more, -1 on
 * error (the session closes). */
typedef int (*session_produce_fn)(struct session *s, struct evbuffer *out, size_t room,
                                  void *arg);

enum session_mode { MODE_COMMAND, MODE_LINE, MODE_RAW, MODE_COUNTED, MODE_LITERAL };

struct session {
    struct conn *conn;
    const struct proto *proto;
    void *data;       /* the protocol's state */
    unsigned state;   /* index into proto->state_names */
    uint64_t id;      /* == conn->id */
    char tag[64];     /* tagged protocols: the current command's tag */
    const char *verb; /* the current command's verb (table string) */
    bool authenticated;
    char user[AUTH_MAX_USERNAME + 1]; /* who, once authenticated */
    struct sasl_exchange *sasl;       /* auth/sasl_server.c's; plain heap memory */
    unsigned suspended;               /* nesting count of session_suspend() */
    unsigned commands, errors;
    uint64_t cmd_start_us; /* when the command in progress was dispatched */
    bool cmd_pending;      /* ...and it has not been answered yet */
    enum session_mode mode;
    struct linebuf lines;
    session_line_fn line_fn;
    session_raw_fn raw_fn;
    struct {
        uint64_t remaining;
        int fd;               /* destination file, or -1 */
        struct evbuffer *buf; /* or destination buffer */
        session_done_fn done;
        bool failed;
    } counted;
    session_produce_fn produce; /* a long reply in progress */
    void *produce_arg;
    struct event *kick;            /* resumes processing from the loop */
    struct event *deadline;        /* total time for a phase (login, SMTP DATA) */
    bool deadline_login;           /* ...which ends once authenticated */
    char *line;                    /* proto->max_line + 1 bytes */
    struct session_client *client; /* client mode (session_client.h), or NULL */
    /* The command being assembled from lines and literals. */
    struct {
        char *text; /* proto->max_line + 1 bytes: the lines, joined */
        size_t len;
        struct session_literal *lits;
        size_t nlits, cap;
        uint64_t mem; /* bytes of literals held in memory */
        bool discard; /* the command was refused: drop its literal */
        uint64_t max; /* session_set_max_literal, or proto->max_literal */
    } cmd;
};

/* Starts a session of proto on c (the service's start hook calls this). */
struct session *session_start(struct conn *c, const struct proto *proto);

/* Output. Each reply is one write into the connection's output buffer. */
int session_printf(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends fmt and CRLF. */
int session_reply(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int session_write(struct session *s, const void *data, size_t len);

/* State changes are logged with their names and apply the new state's
 * idle timeout (proto->state_timeouts / config_timeout). */
void session_set_state(struct session *s, unsigned state);

/* A total deadline for the current phase, whatever the client sends
 * meanwhile (the idle timeout alone lets a client trickle one byte at a
 * time forever): when it passes the protocol's SERR_TIMEOUT goodbye is sent
 * and the session closes. 0 cancels it. */
void session_set_deadline(struct session *s, unsigned seconds);

/* Async work: suspend stops reading and dispatching (pipelined lines wait);
 * resume continues with the next buffered line from the loop, not from the
 * caller's frame. Suspends nest: processing resumes when every suspend has
 * had its resume. Hold a reference (session_ref) across the async work. */
void session_suspend(struct session *s);
void session_resume(struct session *s);
void session_ref(struct session *s);
void session_unref(struct session *s);
/* True once the session is closing: async results are then dropped. */
bool session_gone(struct session *s);

/* Blocking work for a command (fsync, SQLite, directory scans): runs
 * work(job) on the pool with the session suspended and referenced, then
 * done(s, job) on the session's loop and resumes it. If the session went
 * meanwhile, done(NULL, job) runs instead (free job, reply nothing).
 * Returns -1 if the work could not start: nothing ran, the caller replies
 * (a temporary error) and frees job. */
typedef void (*session_work_done_fn)(struct session *s, void *job);
int session_work(struct session *s, void (*work)(void *job), session_work_done_fn done,
                 void *job);

/* Input modes; each returns to MODE_COMMAND when done. */
void session_expect_line(struct session *s, session_line_fn fn);
void session_read_raw(struct session *s, session_raw_fn fn);
/* Streams exactly n bytes to fd (if >= 0) or to buf, then calls done with 0
 * (or -1 on a write error; the bytes are still consumed). */
void session_read_counted(struct session *s, uint64_t n, int fd, struct evbuffer *buf,
                          session_done_fn done);

/* Sends a long reply through fn with bounded memory: fn is called whenever
 * the output is below the high-water mark, until it returns 1. No command
 * is dispatched meanwhile (pipelined ones wait). */
void session_stream(struct session *s, session_produce_fn fn, void *arg);

/* The literals of the command being handled (see struct session_literal). */
const struct session_literal *session_literals(const struct session *s, size_t *n);
/* The limit for literals on this session: proto->max_literal, or lower
 * when a configuration key says so. */
void session_set_max_literal(struct session *s, uint64_t max);

/* Upgrades to TLS after the "go ahead" reply; see conn_starttls(). */
int session_starttls(struct session *s);
/* Compresses both ways (DEFLATE) after the reply accepting it; see
 * conn_compress(). */
int session_compress(struct session *s);
/* True once DEFLATE is on. */
bool session_compressed(const struct session *s);
bool session_tls(const struct session *s);
/* True if a plaintext password may be sent now: TLS is up, or
 * [auth] allow_plaintext_auth = yes, or allow_loopback and the peer is on
 * loopback (POP3/IMAP/FTP pass true; submission passes false). */
bool session_plaintext_auth_ok(const struct session *s, bool allow_loopback);

/* Closes after the output is flushed. */
void session_close(struct session *s);
