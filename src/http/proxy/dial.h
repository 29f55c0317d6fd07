/* dial: from a host name and port to a connected origin conn, for both
 * proxies and CONNECT: c-ares on the loop (core/dns.h; a numeric host skips
 * it), the destination checks (the SSRF guard, the proxy's own listeners),
 * then core/connect.h with the next-address fallback. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct conn;
struct loop;
struct dial;

/* Called once, never inside dial_start's frame, unless cancelled first. On
 * success c is a new plain conn owned by the callee (set c->ops and c->ctx
 * at once, or conn_abort it) and status is 0. On failure c is NULL, status
 * says what the client gets (502 unreachable or no such host, 504 timed
 * out, 403 refused by the SSRF guard, 508 the proxy itself) and why is a
 * short reason for logs and error pages. */
typedef void (*dial_fn)(void *arg, struct conn *c, int status, const char *why);

/* guard: refuse non-public destinations (proxy_addr_is_public). NULL if it
 * could not start (no memory): fn never runs. */
struct dial *dial_start(struct loop *loop, uint64_t id, const char *host, uint16_t port,
                        bool guard, dial_fn fn, void *arg);
void dial_cancel(struct dial *d);
