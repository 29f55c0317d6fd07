/* proxy: the PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and
 * 2) on listeners with `proxy_protocol = yes`: from a peer in [portico]
 * trusted_proxies the header is read before the session starts and the
 * address it carries becomes the connection's peer (throttling, limits,
 * plaintext policy, logs, Received:). Anyone else, and any malformed or
 * late header, is closed. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "core/config.h"

struct loop;

enum proxy_parse {
    PROXY_MORE = 0,   /* a prefix of a valid header: read more */
    PROXY_DONE = 1,   /* *used bytes are the header; *out is the client */
    PROXY_ERROR = -1, /* not a PROXY header, or malformed */
};

/* Parses buf[0..len). On PROXY_DONE, out holds the client's address, or
 * has ss_family AF_UNSPEC for LOCAL/UNKNOWN (keep the real peer). want: on
 * PROXY_MORE, how many bytes at most are certainly header. */
enum proxy_parse proxy_parse(const unsigned char *buf, size_t len,
                             struct sockaddr_storage *out, size_t *used, size_t *want);

/* Accepted fd on a proxy_protocol listener: reads the header (bounded by
 * PROXY_HEADER_TIMEOUT_SEC), then starts svc's session with the carried
 * address. Takes ownership of fd. */
void proxy_accept(struct loop *loop, int fd, const struct sockaddr *peer,
                  enum service svc, bool tls);
/* Frees the loop's headers still being read (loop shutdown). */
void proxy_free_pending(struct loop *loop);
