/* connect: outbound TCP connections on a loop thread (the client side of
 * struct conn). A non-blocking connect() per address, in the order given,
 * each with its own timeout; the first that succeeds becomes a struct conn
 * sharing everything with the server side (buffers, TLS, timeouts,
 * back-pressure, reference-counted lifetime). No DNS here: the caller
 * resolves names first (core/dns.h) and passes addresses. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/config.h"

struct conn;
struct loop;
struct connect_req;

#define CONNECT_TIMEOUT_SEC 30 /* per address, when opts->timeout_sec is 0 */
#define CONNECT_MAX_ADDRS 32   /* addresses tried per request; more are ignored */

/* One destination: an IPv4 or IPv6 socket address with its port. */
struct conn_addr {
    struct sockaddr_storage ss;
    socklen_t len;
};

/* Parses a numeric address, no DNS: "192.0.2.1", "192.0.2.1:25", "::1",
 * "[::1]:25" ("::1:25" is the address ::1:25, not a port). default_port is
 * used when the text has none. 0, or -1 if text is not such an address. */
int conn_addr_parse(const char *text, uint16_t default_port, struct conn_addr *out);
/* From a resolved address: family AF_INET (ip is a struct in_addr) or
 * AF_INET6 (struct in6_addr). */
void conn_addr_from_ip(int family, const void *ip, uint16_t port, struct conn_addr *out);
/* "192.0.2.1:25" or "[2001:db8::1]:25" into buf (for logs). */
void conn_addr_format(const struct conn_addr *a, char *buf, size_t len);

struct connect_opts {
    /* Local address to bind before connecting (numeric, no port), or
     * NULL/"" for the kernel's choice. A destination of the other family
     * than the source is skipped (err EAFNOSUPPORT for it). */
    const char *source;
    unsigned timeout_sec; /* per address; 0: CONNECT_TIMEOUT_SEC */
    enum service svc;     /* the conn's service, for its metrics and logs */
};

/* Called exactly once, on the requesting loop's thread and never from
 * inside conn_connect's own frame, unless the request was cancelled first.
 * On success c is a new connection (plain; the caller adds TLS with
 * session_client_starttls) and err is 0: the caller owns it as conn_new's
 * caller does: set c->ops and c->ctx at once (session_client_start does),
 * or conn_abort(c). On failure c is NULL and err is the errno of the last
 * address tried (ECONNREFUSED, ETIMEDOUT, ENETUNREACH, ...). The request
 * is freed after done returns. */
typedef void (*connect_done_fn)(struct conn *c, int err, void *arg);

/* Connects to addrs[0], then on failure or timeout to addrs[1], and so on
 * (the caller orders them: MX preference, then IPv6 before IPv4 or as it
 * likes). addrs and opts are copied; opts may be NULL (defaults). Each
 * attempt and its outcome is one log line. Returns the request (a handle
 * for connect_cancel, valid until done runs), or NULL if it could not
 * start (no memory, naddrs 0, a bad source): done is then never called. */
struct connect_req *conn_connect(struct loop *loop, const struct conn_addr *addrs,
                                 size_t naddrs, const struct connect_opts *opts,
                                 connect_done_fn done, void *arg);

/* The requester is going away: the attempt in progress is closed, done is
 * never called, the request is freed. Only before done has run, on the
 * request's loop thread. */
void connect_cancel(struct connect_req *r);
