/* session_client: the line-protocol session (core/session.c) in client
 * mode, for the outbound SMTP client and any later command/reply client.
 * The same layer as the server side (line reading with linebuf and its
 * limit, output with back-pressure, streaming, TLS upgrade, idle timeouts,
 * the conn's reference-counted lifetime); instead of dispatching command
 * lines through a table it parses replies (core/reply.h) and hands each
 * complete reply to the callback of the oldest command still waiting.
 *
 * Threading: everything runs on the conn's loop thread; callbacks are
 * called from the loop (never from inside the call that queued them).
 * Ownership: the session owns itself once started, as a server session
 * does; it ends with session_close (the caller's choice) or after
 * ops->on_fail (its own). ops->on_close runs exactly once, last: free
 * s->data there. A struct session pointer stays valid while the caller
 * holds session_ref across async work (and checks session_gone).
 *
 * Pipelining (RFC 2920): call session_command several times in a row; the
 * commands go out together in one write and their replies are matched to
 * the callbacks strictly in order. Without PIPELINING, wait for each
 * reply before the next command.
 *
 * Typical use (the relay):
 *   conn_connect(loop, addrs, n, &opts, connected, dest);
 *   connected(c, 0, dest): s = session_client_start(c, &ops, dest);
 *                          session_expect_reply(s, SMTP_TIMEOUT_GREETING, greeted, dest);
 *     (in the same callback: a reply that arrives with nobody waiting
 *     fails the session)
 *   greeted:  session_command(s, SMTP_TIMEOUT_OTHER, ehlo_done, dest, "EHLO %s", me);
 *   ehlo_done: if reply_has_keyword(r, "STARTTLS", ...) send STARTTLS, and on
 *     its 220 session_client_starttls(s, t, mx_host, policy, 300, tls_up, dest);
 *     tls_up sends EHLO again; then MAIL/RCPT.../DATA pipelined, on 354
 *     session_send_body(s, fd, SMTP_TIMEOUT_DATA_BLOCK, SMTP_TIMEOUT_DATA_END,
 *     sent, dest); QUIT; session_close(s). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "core/reply.h"
#include "core/session.h"
#include "core/tls_client.h"

struct conn;

/* RFC 5321 4.5.3.2 timeouts in seconds (a reply is waited for at most
 * this long without a byte arriving). A caller with configured values uses
 * its own in each call. */
#define SMTP_TIMEOUT_GREETING 300       /* 4.5.3.2.1 initial 220 */
#define SMTP_TIMEOUT_MAIL 300           /* 4.5.3.2.2 MAIL */
#define SMTP_TIMEOUT_RCPT 300           /* 4.5.3.2.3 RCPT */
#define SMTP_TIMEOUT_DATA_INIT 120      /* 4.5.3.2.4 DATA -> 354 */
#define SMTP_TIMEOUT_DATA_BLOCK 180     /* 4.5.3.2.5 sending each block of data */
#define SMTP_TIMEOUT_DATA_END 600       /* 4.5.3.2.6 "." -> 250 */
#define SMTP_TIMEOUT_OTHER 300          /* EHLO, STARTTLS, RSET, QUIT... */
#define SESSION_CLIENT_MAX_PENDING 1024 /* replies waited for at once */

/* Why a client session failed; it closes right after on_fail returns.
 * Callbacks of commands still waiting are dropped (never called). */
enum session_client_error {
    SCE_CLOSED,   /* the peer closed the connection or a socket error */
    SCE_TIMEOUT,  /* no reply within the step's timeout */
    SCE_REPLY,    /* a malformed reply, a line over REPLY_MAX_LINE, too many
                   * lines, or a reply nobody waited for */
    SCE_TLS,      /* the handshake failed, or the policy refused the
                   * certificate (why: tls_client_result.why) */
    SCE_LOCAL,    /* our side: no memory, a body file read error */
    SCE_SHUTDOWN, /* the server is stopping */
};

const char *session_client_error_name(enum session_client_error e);

/* A complete reply for the command that asked for it; r is borrowed for
 * the call. The callback may queue more commands, start TLS, stream a
 * body or close the session. */
typedef void (*session_reply_fn)(struct session *s, const struct reply *r, void *arg);
/* TLS is up and the policy accepted it (r borrowed for the call). */
typedef void (*session_tls_fn)(struct session *s, const struct tls_client_result *r,
                               void *arg);

struct session_client_ops {
    const char *name; /* "relay", in logs */
    /* The session failed; why is one line for logs and bounces ("timeout
     * after 300s waiting for the reply to RCPT"). Optional. */
    void (*on_fail)(struct session *s, enum session_client_error e, const char *why);
    /* Last call (after on_fail, or after session_close): free s->data. */
    void (*on_close)(struct session *s);
};

/* Starts client mode on a connected conn (conn_connect's result): sets
 * c->ops/c->ctx; data becomes s->data. Nothing is sent or awaited yet:
 * the caller's first call is normally session_expect_reply for the
 * greeting (after session_client_starttls for implicit TLS). NULL without
 * memory (the conn is then aborted; ops->on_close is not called). */
struct session *session_client_start(struct conn *c, const struct session_client_ops *ops,
                                     void *data);

/* Waits for a reply without sending anything (the greeting). timeout_sec 0:
 * none. 0, or -1 (SESSION_CLIENT_MAX_PENDING waiting, no memory, closing):
 * fn is then never called. */
int session_expect_reply(struct session *s, unsigned timeout_sec, session_reply_fn fn,
                         void *arg);
/* Sends one command line (CRLF is added; the line must not contain CR or
 * LF: -1) and queues fn for its reply. Logged at debug level, with AUTH
 * arguments masked. 0 or -1 (fn never called). */
int session_command(struct session *s, unsigned timeout_sec, session_reply_fn fn,
                    void *arg, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Replies still awaited. */
size_t session_pending_replies(const struct session *s);

/* Called once the whole body, ".\r\n" included, is in the output: the
 * file is read to its end and commands sent now go out right behind it
 * (RFC 2920 3.1: the next transaction pipelined after a body). */
typedef void (*session_written_fn)(struct session *s, void *arg);

/* Sends the message in fd (from its current offset to EOF; the fd is
 * borrowed and must stay open until written, or else fn, runs) as a DATA
 * body, after the 354: dot-stuffed, line endings made CRLF, ending with
 * ".\r\n" (core/dotstuff.h), streamed with bounded memory
 * (SESSION_STREAM_CHUNK at a time, as the output drains; the session's
 * timeout while sending is data_timeout_sec per block). Then it waits
 * end_timeout_sec (SMTP_TIMEOUT_DATA_END) for the final reply, given to
 * fn; written (may be NULL) runs first, when the body is all queued. A
 * read error of fd fails the session with SCE_LOCAL. 0 or -1. */
int session_send_body(struct session *s, int fd, unsigned data_timeout_sec,
                      unsigned end_timeout_sec, session_reply_fn fn,
                      session_written_fn written, void *arg);

/* STARTTLS (RFC 3207) after its 220 reply, or implicit TLS right after
 * start: no reply may be awaited (-1 otherwise). Anything the server sent
 * after the 220 is discarded unread (RFC 3207 4.2: no knowledge from
 * before TLS is kept). The handshake runs under timeout_sec; host gives SNI
 * and the name the certificate must match; the policy is applied when it
 * completes: on success fn is called (send EHLO again there), otherwise
 * on_fail(SCE_TLS, why). 0 or -1. */
int session_client_starttls(struct session *s, struct tls_client *t, const char *host,
                            enum tls_policy policy, unsigned timeout_sec,
                            session_tls_fn fn, void *arg);
/* After TLS: "TLSv1.3 TLS_AES_256_GCM_SHA384" (or "" before), for the
 * log line and the Received: header's "with ESMTPS (...)" comment. */
void session_client_tls_describe(struct session *s, char *buf, size_t len);

/* ---- Internal: the hooks between session.c and session_client.c ---- */

/* A session object on c for proto, wired to c, without on_open or
 * logging (client mode builds on it). NULL without memory. */
struct session *session_attach(struct conn *c, const struct proto *proto);
/* Runs the session's processing from the loop soon (not in this frame). */
void session_kick(struct session *s);
/* A reply line (without CRLF), or too_long for one over the limit. */
void session_client_input(struct session *s, const char *line, size_t len, bool too_long);
void session_client_timeout(struct session *s);
void session_client_shutdown(struct session *s);
void session_client_tls_done(struct session *s);
/* The user called session_close: no on_fail comes after. */
void session_client_closing(struct session *s);
/* From the conn's on_free: on_fail if nobody ended it, then on_close. */
void session_client_free(struct session *s);
