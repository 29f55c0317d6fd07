/* http: the HTTP/1.1 service's connection state and the calls between its
 * files: conn.c (the per-connection state machine), response.c (status
 * line, header fields, bodies), static.c (files beneath a root),
 * listing.c (directory pages), files.c (the account's file area), upload.c
 * (durable writes), log.c (access log). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "auth/accounts.h"
#include "core/limits.h"
#include "http/range.h"
#include "http/uri.h"
#include "httpmsg/chunked.h"
#include "httpmsg/date.h"
#include "httpmsg/request.h"

struct conn;
struct evbuffer;
struct evbuffer_file_segment;
struct event;
struct http_conn;
struct http_proxy;
struct http_stream;
struct http_upload;

extern const struct service_impl http_service;
extern const struct service_impl http_proxy_service; /* [proxy] listen */

enum http_state {
    HS_HEAD,   /* waiting for and parsing a request head */
    HS_BODY,   /* reading a request body into the current sink */
    HS_WAIT,   /* async work (login, fsync, listing); reading paused */
    HS_SEND,   /* streaming a response body in bounded pieces */
    HS_LINGER, /* after an error: output flushed, input read and dropped
                  for a while so the client sees the answer, not a reset */
    HS_CLOSED, /* the last response is queued; the conn is closing */
};

/* Where request body bytes go; data returns -1 to fail the request (the
 * sink has answered by then). done runs once the body is complete. */
struct http_body {
    bool chunked;
    uint64_t left;         /* Content-Length bytes still to come */
    uint64_t total;        /* bytes seen so far */
    uint64_t max;          /* more is 413 */
    struct timespec start; /* for the minimum rate (HTTP_BODY_MIN_RATE) */
    struct http_chunked ck;
    int (*data)(struct http_conn *h, const char *p, size_t n);
    void (*done)(struct http_conn *h);
};

struct http_conn {
    struct conn *c;
    enum http_state state;
    unsigned nreq;
    uint64_t req_start_us; /* when the request in progress began (metrics) */
    bool in_process;       /* process() is on the stack */
    bool output_wait;      /* paused until the output drains */
    bool close_after;      /* close once this response is out */
    bool linger;           /* ...lingering: unread input may be pending */
    bool head_only;        /* HEAD: header fields without the body */
    /* Extra fields for an error response (reset per request). */
    const char *allow;     /* 405: Allow */
    bool authenticate;     /* 401: WWW-Authenticate */
    int64_t unsatisfiable; /* 416: Content-Range "bytes * /size" (-1: none) */
    /* The current request: its head bytes (copied out of the input) and
     * the parse that points into them. */
    char *head;
    size_t head_cap;
    struct http_request req;
    struct http_target target;
    char path[STORE_MAX_PATH + 1]; /* decoded, normalised */
    struct http_body body;
    struct event *head_timer; /* slowloris: head must complete in time;
                                 also the end of lingering */
    /* The response, for the access log. */
    int status;
    uint64_t sent;
    struct http_stream *stream;
    /* The body of the current GET, kept by filecache.h (fd -1), or NULL. */
    struct evbuffer_file_segment *cached_body;
    /* Roots: the public web root and, once logged in, the file area. */
    int www_fd;
    int files_fd;
    bool authed;
    unsigned char auth_digest[32]; /* SHA-256(salt, user, password) */
    /* The digest of the credentials a login_check in flight is checking:
     * here, not in the check's argument, because login_check never calls
     * back for a connection that closed meanwhile. */
    unsigned char login_digest[32];
    bool login_digest_ok;
    unsigned char auth_salt[16];
    struct account acct;
    struct http_upload *upload;
    /* Date cache: one formatting per second per connection. */
    time_t date_sec;
    char date[HTTP_DATE_LEN + 1];
    /* The access log's time, "[10/Oct/2000:13:55:36 +0000] ", likewise. */
    time_t log_sec;
    char log_time[32];
    uint64_t boundary; /* multipart/byteranges boundary, random per conn */
    /* The proxy (http/proxy/): a forward-proxy listener's conn, the
     * exchange in progress, and its origin's time for the access log. */
    bool forward;
    struct http_proxy *px;
    uint64_t upstream_us; /* from the request to the origin's head; 0: none */
    bool random_drawn;    /* auth_salt and boundary are set (http_conn_random) */
    int cache_status;     /* the cache's verdict for the access log (cache_glue.h) */
};

/* response.c: v in decimal into out (at least 20 bytes); returns the length. */
size_t http_u64_dec(uint64_t v, char *out);

/* conn.c: draws auth_salt and boundary on their first use (most
 * connections need neither: no RAND_bytes per connection). */
void http_conn_random(struct http_conn *h);
/* conn.c: the current request is answered (its response queued or
 * streamed out): log it, then read the next one or close. */
void http_request_end(struct http_conn *h);
/* Reading and dispatching stop until http_resume (async work). */
void http_suspend(struct http_conn *h);
void http_resume(struct http_conn *h);
/* Starts reading the request body into sink callbacks (100-continue sent
 * when asked for). max is the largest body accepted. */
void http_body_start(struct http_conn *h, uint64_t max,
                     int (*data)(struct http_conn *h, const char *p, size_t n),
                     void (*done)(struct http_conn *h));

/* response.c */
void http_resp_start(struct http_conn *h, int status);
void http_resp_header(struct http_conn *h, const char *name, const char *value);
void http_resp_headerf(struct http_conn *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Ends the header section with Content-Length (RFC 9110 8.6) and
 * Connection; the body (length bytes) must follow unless head_only. */
void http_resp_end_head(struct http_conn *h, uint64_t length);
/* A complete response with a small HTML body; ends the request. */
void http_error(struct http_conn *h, int status, const char *detail);
/* The same, and the connection closes after it (framing is lost). */
void http_error_close(struct http_conn *h, int status, const char *detail);
void http_redirect(struct http_conn *h, int status, const char *location, size_t len);
/* A complete response whose body is buf (drained); ends the request. */
void http_respond_buffer(struct http_conn *h, int status, const char *ctype,
                         struct evbuffer *buf);
/* Sends ranges of fd (owned: closed when done) after the head was ended;
 * n == 0 means the whole file. Multipart when n > 1. Ends the request. */
void http_send_file(struct http_conn *h, int fd, uint64_t size, const char *ctype,
                    const struct http_range *r, int n);
/* on_drained: continue a streamed body. */
void http_stream_continue(struct http_conn *h);
void http_stream_free(struct http_stream *s);
const char *http_reason(int status);
/* The Allow field for a resource kind. */
#define HTTP_ALLOW_STATIC "GET, HEAD, OPTIONS"
#define HTTP_ALLOW_FILES "GET, HEAD, PUT, DELETE, POST, OPTIONS"

/* static.c: GET/HEAD of vpath beneath rootfd. files_area: the /files/
 * flavour (listing with an upload form, no index.html, urlbase "/files"). */
void http_static_get(struct http_conn *h, int rootfd, const char *vpath, bool files_area);
/* Maps a sandbox errno to a status and answers it. */
void http_error_errno(struct http_conn *h, int err);

/* listing.c: a directory page built on the work pool. dirfd is owned. */
void http_listing_send(struct http_conn *h, int dirfd, const char *vpath,
                       bool files_area);

/* files.c: every request under /files. */
void http_files_handle(struct http_conn *h);
/* autoconfig.c: Thunderbird's autoconfig XML for the local domains. */
bool http_autoconfig_path(const char *path);
void http_autoconfig(struct http_conn *h);

/* upload.c: PUT and the upload form's files: temp name, fsync, rename. */
void http_upload_put(struct http_conn *h, const char *vpath);
void http_upload_form(struct http_conn *h, const char *vpath);
void http_upload_free(struct http_upload *u);

/* log.c: the combined-format access log ([http] access_log). */
void http_log_open(void);
void http_log_request(struct http_conn *h);
