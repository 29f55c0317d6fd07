/* cache_serve: a stored response written to the client. The head is the
 * stored one through message.c's rewriting (Via, Date, framing), with a
 * fresh Age (RFC 9111 5.1, 4.2.3); a single Range of a stored 200 is a
 * 206, an unsatisfiable one a 416 (RFC 9110 14.2, 13.1.5 If-Range); HEAD
 * gets the GET's head (RFC 9110 9.3.2); a client's conditional request
 * that the stored response satisfies gets a 304 with the fields of RFC
 * 9110 15.4.5 and no body (RFC 9111 4.3.2, before Range: 9110 13.2.2).
 * A file-backed entry's body goes from its file (sendfile, entry.h). The body goes out
 * by reference to the entry's bytes (no copy): the entry lives until the client's output
 * has sent them, whatever the store does meanwhile. */
#include "http/proxy/cache_glue.h"

#include "core/conn.h"
#include "core/loop.h"
#include "http/cache/range.h"
#include "http/http.h"
#include "http/proxy/message.h"
#include "http/proxy/proxy_int.h"
#include "httpmsg/response.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest single write of a stored body: the kernel's socket buffer
 * bounds what one writev takes, so fewer calls move the same bytes. */
#define CACHE_SERVE_WRITE (1 << 20)

struct served {
    struct http_response r;
    char age[24];
    char crange[64];
    uint64_t off, len;
};

static void release_ref(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    cache_entry_release(arg);
}

static bool skipped(struct http_str name)
{
    return http_str_ieq(name, "age") || http_str_ieq(name, "content-length") ||
           http_str_ieq(name, "content-range");
}

static void add(struct http_response *r, const char *name, const char *value)
{
    if (r->nheaders >= HTTP_MAX_HEADERS)
        return;
    r->headers[r->nheaders++] =
        (struct http_header){{name, strlen(name)}, {value, strlen(value)}};
}

/* RFC 9110 14.2: one range of a stored 200 to a GET. */
static void select_range(const struct http_conn *h, const struct cache_response *cr,
                         uint64_t blen, struct served *s)
{
    if (h->req.m != HTTP_M_GET)
        return;
    struct http_range rg;
    enum cache_range_answer a =
        cache_range_select(cr, blen, http_request_get(&h->req, HH_RANGE),
                           http_request_get(&h->req, HH_IF_RANGE), &rg);
    if (a == CACHE_RANGE_PARTIAL) {
        s->r.status = 206;
        snprintf(s->crange, sizeof s->crange, "bytes %llu-%llu/%llu",
                 (unsigned long long)rg.first, (unsigned long long)rg.last,
                 (unsigned long long)blen);
        s->off = rg.first;
        s->len = rg.last - rg.first + 1;
    } else if (a == CACHE_RANGE_416) {
        s->r.status = 416;
        snprintf(s->crange, sizeof s->crange, "bytes */%llu", (unsigned long long)blen);
        s->len = 0;
    }
    if (a != CACHE_RANGE_FULL)
        add(&s->r, "Content-Range", s->crange);
}

static void build(const struct http_conn *h, struct cache_entry *e, time_t now,
                  struct served *s)
{
    const struct cache_response *cr = cache_entry_response(e);
    uint64_t blen = 0;
    cache_entry_body(e, &blen);
    bool not_modified = cache_not_modified(cr, h->req.m, h->req.headers, h->req.nheaders);
    s->r.minor = 1;
    s->r.status = not_modified ? 304 : cr->status;
    for (size_t i = 0; i < cr->n && s->r.nheaders < HTTP_MAX_HEADERS - 3; i++) {
        if (skipped(cr->h[i].name))
            continue;
        if (not_modified && !cache_304_field(cr->h[i].name))
            continue; /* RFC 9110 15.4.5 */
        s->r.headers[s->r.nheaders++] = cr->h[i];
    }
    snprintf(s->age, sizeof s->age, "%lld", (long long)cache_current_age(cr, now));
    add(&s->r, "Age", s->age); /* RFC 9111 5.1 */
    s->off = 0;
    s->len = not_modified ? 0 : blen;
    if (!not_modified)
        select_range(h, cr, blen, s);
    const char *reason = http_reason(s->r.status);
    s->r.reason = (struct http_str){reason, strlen(reason)};
    bool bodyless = s->r.status == 204 || s->r.status == 304 || s->r.status < 200;
    s->r.body = bodyless ? HTTP_BODY_NONE : HTTP_BODY_LENGTH;
    s->r.content_length = s->len;
}

static void release_seg(const struct evbuffer_file_segment *seg, int flags, void *arg)
{
    (void)seg;
    (void)flags;
    cache_entry_release(arg);
}

/* A file-backed entry's body bytes [off, off + len) from its file: one
 * segment (sendfile on a plain connection; libevent maps or reads it for
 * TLS), queued in pieces of CACHE_SERVE_WRITE so one sendfile call does
 * not hold the loop. The segment holds a reference to the entry, hence
 * its descriptor, until the last piece is sent. */
static int add_file_body(struct evbuffer *out, struct cache_entry *e, int fd,
                         uint64_t foff, uint64_t len)
{
    struct evbuffer_file_segment *seg =
        evbuffer_file_segment_new(fd, (ev_off_t)foff, (ev_off_t)len, 0);
    if (!seg)
        return -1;
    cache_entry_ref(e);
    evbuffer_file_segment_add_cleanup_cb(seg, release_seg, e);
    int rc = 0;
    for (uint64_t off = 0; rc == 0 && off < len; off += CACHE_SERVE_WRITE) {
        uint64_t n = len - off < CACHE_SERVE_WRITE ? len - off : CACHE_SERVE_WRITE;
        rc = evbuffer_add_file_segment(out, seg, (ev_off_t)off, (ev_off_t)n);
    }
    evbuffer_file_segment_free(seg); /* the pieces keep it */
    return rc;
}

static int add_memory_body(struct http_conn *h, struct evbuffer *out,
                           struct cache_entry *e, uint64_t off, uint64_t len)
{
    uint64_t blen = 0;
    const uint8_t *body = cache_entry_body(e, &blen);
    cache_entry_ref(e);
    if (evbuffer_add_reference(out, body + off, len, release_ref, e) < 0) {
        cache_entry_release(e);
        return -1;
    }
    return 0;
}

void proxy_cache_serve(struct http_conn *h, struct cache_entry *e, time_t now)
{
    struct served *s = calloc(1, sizeof *s);
    if (!s) {
        h->close_after = true;
        return;
    }
    build(h, e, now, s);
    unsigned max = runtime ? (unsigned)runtime->cfg->http_max_requests : 1000;
    bool body_pending = h->req.chunked || h->req.content_length;
    bool close = h->close_after || !h->req.keep_alive || body_pending || h->nreq >= max;
    struct evbuffer *out = conn_output(h->c);
    proxy_response_head(out, h, &s->r, close);
    if (close)
        h->close_after = true;
    h->status = s->r.status;
    if (!h->head_only && s->r.body == HTTP_BODY_LENGTH && s->len) {
        int fd;
        uint64_t foff;
        int rc;
        if (s->len > PROXY_STREAM_LOW) /* the bytes are at hand (memory, page cache) */
            bufferevent_set_max_single_write(h->c->bev, CACHE_SERVE_WRITE);
        if (cache_entry_file(e, &fd, &foff))
            rc = add_file_body(out, e, fd, foff + s->off, s->len);
        else
            rc = add_memory_body(h, out, e, s->off, s->len);
        if (rc < 0)
            h->close_after = true;
        else
            h->sent += s->len;
    }
    free(s);
}
