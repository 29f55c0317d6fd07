/* pool: idle origin connections kept for the next request to the same
 * origin (RFC 9112 9.3 persistence on the upstream side), per loop thread.
 * Only connections whose last exchange ended exactly at its framed end go
 * back, and only safe, bodyless requests take one (RFC 9110 9.2.2: they may
 * be retried on a fresh connection when a kept one turns out closed). */
#pragma once
#include <stddef.h>

#include "http/proxy/upstream.h"

struct conn;

#define POOL_MAX_PER_LOOP 64 /* idle connections one loop keeps */
#define POOL_IDLE_SEC 4      /* below common origin keep-alive timeouts (5 s) */

/* The key of an origin: host, port, TLS and the SSRF guard (a connection
 * dialled without the guard never serves a guarded client). */
void pool_key(const struct upstream_target *t, char *key, size_t len);
/* An idle connection for key (its ops and ctx are the caller's to set), or
 * NULL. */
struct conn *pool_take(const char *key);
/* Keeps c idle under key, or closes it when the pool is full. */
void pool_put(struct conn *c, const char *key);
