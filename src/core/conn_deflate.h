/* conn_deflate: a DEFLATE layer (RFC 4978) over a bufferevent; see
 * conn_deflate.c. conn.c puts it on a connection (conn_compress). */
#pragma once
#include <event2/bufferevent.h>

/* Decompressed input held at most (the filter's read high-water mark,
 * passed by at most the slack), and compressed output the layer below
 * holds before more waits above. */
#define CONN_DEFLATE_IN_HIGH (256u << 10)
#define CONN_DEFLATE_IN_SLACK (64u << 10)
#define CONN_DEFLATE_OUT_HIGH (256u << 10)

/* A filter compressing what is written to it and decompressing what is
 * read, freeing under with itself. NULL without memory. */
struct bufferevent *conn_deflate_new(struct bufferevent *under);
/* Compresses and flushes everything written so far (Z_SYNC_FLUSH). */
void conn_deflate_flush(struct bufferevent *bev);
