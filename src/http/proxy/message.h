/* message: the header rewriting of an intermediary (RFC 9110 7.6): the
 * request head for the origin and the response head for the client, with
 * hop-by-hop fields and those named in Connection removed (7.6.1), Via
 * added (7.6.3), Max-Forwards decremented (7.6.2), the framing fields
 * rebuilt from the parse (never copied), and for the reverse proxy
 * X-Forwarded-For/-Proto/-Host and Forwarded (RFC 7239). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "httpmsg/request.h"
#include "httpmsg/response.h"

struct evbuffer;
struct http_conn;
struct upstream_target;

struct proxy_out_req {
    struct http_str path; /* origin-form target: "/a?b" */
    const struct upstream_target *target;
    bool reverse; /* add the X-Forwarded-* and Forwarded fields */
    bool upgrade; /* pass Upgrade and Connection: upgrade (WebSocket) */
    bool persist; /* the origin may keep the connection (else Connection: close) */
    /* The cache's conditional fields (RFC 9111 4.3.1), added to the head in
     * place of the client's If-None-Match and If-Modified-Since. */
    const struct http_header *extra;
    size_t nextra;
    /* The cache's own GET of the target (a background revalidation): no
     * body, and none of the client's Range or conditional fields. */
    bool get;
};

/* Writes the request head for the origin into out. */
void proxy_request_head(struct evbuffer *out, const struct http_conn *h,
                        const struct proxy_out_req *o);

/* How the response body goes to the client. */
enum proxy_out_body { OUT_NONE, OUT_LENGTH, OUT_CHUNKED, OUT_CLOSE };

/* Writes the response head for the client into out and says how its body
 * is framed (chunked for an HTTP/1.1 client when the origin's length is
 * unknown, else the close). close: the client connection ends after it. */
enum proxy_out_body proxy_response_head(struct evbuffer *out, const struct http_conn *h,
                                        const struct http_response *r, bool close);

/* True when the request's Via names this proxy (RFC 9110 7.6.3: a loop). */
bool proxy_via_loops(const struct http_request *r);
/* Max-Forwards (RFC 9110 7.6.2): its value, or -1 when absent or invalid. */
long proxy_max_forwards(const struct http_request *r);
