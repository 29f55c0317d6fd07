/* proxy: the hooks through which the HTTP connection (http/conn.c) hands
 * requests to the proxy, and gets its events back. Everything else of the
 * proxy stays behind them (proxy_int.h). */
#pragma once
#include <stdbool.h>

struct http_conn;

/* A request on a [proxy] listen connection (h->forward): absolute-form or
 * CONNECT, after the access check. Always answers. */
void http_proxy_forward(struct http_conn *h);
/* A request on the server whose path is under an [http] proxy prefix:
 * proxied (true), or not ours (false: route it as usual). */
bool http_proxy_reverse(struct http_conn *h);
/* The method is PURGE (the cache's, cache_purge.c): not a 501. */
bool http_proxy_purge_method(const struct http_conn *h);
/* The client's output drained; true if the proxy was waiting for it. */
bool http_proxy_drained(struct http_conn *h);
/* The client connection is going away: the exchange in progress ends. */
void http_proxy_free(struct http_conn *h);
