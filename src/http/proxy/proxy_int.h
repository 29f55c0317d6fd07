/* proxy_int: the calls between the proxy's files: forward.c (the forward
 * proxy's front: access, absolute-form, CONNECT), reverse.c (the [http]
 * proxy routes), exchange.c (one request through upstream.c, back to the
 * client), tunnel.c (CONNECT and WebSocket byte tunnels), target.c (URL
 * and authority syntax), message.c (header rewriting), dial.c, addr.c.
 * Bulk reads of a stream are core's conn_read_bulk. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "http/proxy/upstream.h"
#include "httpmsg/request.h"

struct conn;
struct http_conn;

/* Bytes a proxied stream may hold unsent in one direction before the
 * sending side is paused (and resumed at the low mark): larger than the
 * line protocols' SESSION_OUTPUT_HIGH so that bulk transfers move in big
 * reads and writes, still bounded per connection. */
#define PROXY_STREAM_HIGH (256 << 10)
#define PROXY_STREAM_LOW (64 << 10)

/* Lets c's bufferevent read and write up to PROXY_STREAM_LOW at a time
 * (libevent's default is 16 KiB per call). */
void proxy_stream_bulk(struct conn *c);

/* Bytes relayed per wakeup at most (conn_read_bulk reads). */
#define PROXY_READ_PASS (1 << 20)

/* exchange.c: sends h's request to t with path as its target and streams
 * the response back. reverse: add X-Forwarded-*; upgrade: a WebSocket
 * handshake may switch the connection to a tunnel. */
void proxy_exchange(struct http_conn *h, const struct upstream_target *t,
                    struct http_str path, bool reverse, bool upgrade);
/* CONNECT (RFC 9110 9.3.6): dials host:port, answers 200, then tunnels. */
void proxy_connect(struct http_conn *h, const char *host, uint16_t port, bool guard);
/* An error answer of the proxy itself (407 with Proxy-Authenticate); the
 * connection closes if a request body is pending. */
void proxy_refuse(struct http_conn *h, int status, const char *why);

/* tunnel.c: bytes both ways between the client and origin until either
 * closes; each conn's buffered input goes first. The client's http_conn
 * is freed with the client conn. */
void proxy_tunnel(struct conn *client, struct conn *origin);

/* target.c: "http://host[:port]/path" (RFC 9112 3.2.2) into t and path
 * (a span of target; "/" when empty). 0 or -1. */
int proxy_parse_absolute(struct http_str target, struct upstream_target *t,
                         struct http_str *path);
/* "host:port" (RFC 9112 3.2.3), a port required. 0 or -1. */
int proxy_parse_authority(struct http_str target, char *host, size_t hostlen,
                          uint16_t *port);
/* [proxy] connect_ports contains port. */
bool proxy_port_allowed(uint16_t port, const char *list);
/* The request asks for a protocol upgrade: Upgrade plus a Connection
 * field naming it (RFC 9110 7.8). */
bool proxy_wants_upgrade(const struct http_request *r);
