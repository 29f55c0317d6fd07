/* upstream: THE SEAM between the proxy's fronts (forward.c, reverse.c) and
 * origin servers. One call, upstream_fetch, takes a request head already
 * rewritten for the origin (message.c) and an origin (host, port, TLS, SSRF
 * guard), and reports the exchange through callbacks:
 *
 *     head(r)        the final response head, parsed and framed
 *                    (httpmsg/response.h); 1xx interim responses are eaten
 *     body(p, n)     decoded body bytes (chunked removed), in order; may
 *                    return UPSTREAM_PAUSE for back-pressure
 *     body_buf(in, n) optional, for bodies that are not chunked: the next
 *                    n body bytes are the front of evbuffer in, and the
 *                    callee removes them (moving the chains, no copy)
 *     end()          the body is complete
 *     error(status)  502/504 before the head; after it, the body was cut
 *     upgraded(c)    101: the origin conn is handed over (a byte tunnel)
 *     want_body()    more request body may be written
 *
 * The request body, if any, is pushed with upstream_write_body (already
 * framed for the wire) and closed with upstream_body_done.
 *
 * A cache sits on both sides of this one function without the fronts
 * changing: a lookup before upstream_fetch answers from storage (calling
 * the same head/body/end the front gave it) or revalidates (adding
 * If-None-Match / If-Modified-Since to the head); a store wraps the
 * callbacks, seeing the parsed head (status, Cache-Control, Vary, ETag,
 * Date, Age: the known fields of struct http_response) and every decoded
 * body byte before passing them on. Request collapsing is a lookup that
 * attaches a second front's callbacks to a fetch in flight.
 *
 * Everything runs on the loop of the client connection; the origin conn
 * is a core/ conn (connect.h, tls_client.h), with [proxy] timeout as its
 * idle timeout. Origin connections are reused (pool.c) only after an
 * exchange that ended exactly at its framed end, and only for safe,
 * bodyless requests, which are retried once on a fresh connection if a
 * kept one turns out closed before any byte of a response. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpmsg/response.h"

struct conn;
struct evbuffer;
struct loop;
struct upstream;

struct upstream_target {
    char host[256]; /* a DNS name or an IP literal (no brackets) */
    uint16_t port;
    bool tls;   /* https: verified against [proxy] ca_file (RFC 9110 4.3.4) */
    bool guard; /* the SSRF guard applies */
};

enum { UPSTREAM_OK = 0, UPSTREAM_PAUSE = 1, UPSTREAM_ABORT = -1 };

/* The handle is valid until end, error or upgraded has been called, or
 * upstream_cancel. A callback must not call upstream_cancel; head and body
 * return UPSTREAM_ABORT to stop (no further callback then). */
struct upstream_cb {
    int (*head)(void *arg, const struct http_response *r);
    int (*body)(void *arg, const char *p, size_t n);
    int (*body_buf)(void *arg, struct evbuffer *in, size_t n); /* may be NULL */
    void (*end)(void *arg);
    void (*error)(void *arg, int status, const char *why);
    void (*upgraded)(void *arg, struct conn *origin);
    void (*want_body)(void *arg);
};

struct upstream_req {
    const struct upstream_target *target;
    struct evbuffer *head; /* the request head for the origin; drained */
    bool head_request;     /* HEAD: the response has no body (RFC 9112 6.3) */
    bool upgrade;          /* the request asks for an upgrade (101 allowed) */
    bool reusable;         /* safe and bodyless: may use and refill pool.h */
    uint64_t id;           /* the client's session id, for logs */
};

/* Starts the exchange on loop. NULL if it could not start (no memory);
 * the callbacks never run then. */
struct upstream *upstream_fetch(struct loop *loop, const struct upstream_req *req,
                                const struct upstream_cb *cb, void *arg);
/* Queues request body bytes. Returns 1 when the caller should wait for
 * want_body before writing more (bounded memory), 0 otherwise. */
int upstream_write_body(struct upstream *u, const void *p, size_t n);
/* The caller consumed what body gave it: read the origin again. */
void upstream_resume(struct upstream *u);
/* The requester is gone: the origin conn is closed, nothing is called. */
void upstream_cancel(struct upstream *u);

/* The process-wide client TLS context for origins (made on first use). */
struct tls_client *upstream_tls(void);
