/* response: status line (RFC 9112 4) and header fields (RFC 9112 5, in
 * fields.c) into a struct http_response pointing into the caller's bytes,
 * then the message body length (RFC 9112 6.3). A proxy forwards what it
 * parsed here, so every ambiguity (two lengths, a length and a coding, a
 * coding it cannot remove) is an error, never a guess: response splitting
 * and desynchronisation live in lenient parsers. */
#include "httpmsg/response.h"

#include <string.h>

static const char *const known_names[HR_COUNT] = {
    [HR_CONNECTION] = "connection",
    [HR_CONTENT_LENGTH] = "content-length",
    [HR_TRANSFER_ENCODING] = "transfer-encoding",
    [HR_UPGRADE] = "upgrade",
    [HR_DATE] = "date",
    [HR_AGE] = "age",
    [HR_CACHE_CONTROL] = "cache-control",
    [HR_EXPIRES] = "expires",
    [HR_LAST_MODIFIED] = "last-modified",
    [HR_ETAG] = "etag",
    [HR_VARY] = "vary",
    [HR_CONTENT_TYPE] = "content-type",
    [HR_LOCATION] = "location",
};

static int fail(struct http_response *r, int error)
{
    r->error = error;
    return HTTP_PARSE_ERROR;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* What has arrived of an unfinished status line must be a prefix of
 * "HTTP/d.d ddd", so that garbage is refused at once. */
static int partial_line_ok(const char *p, size_t n)
{
    static const char shape[] = "HTTP/d.d ddd";
    for (size_t i = 0; i < n && i < sizeof shape - 1; i++) {
        if (shape[i] == 'd' ? !is_digit(p[i]) : p[i] != shape[i])
            return -1;
    }
    return 0;
}

/* RFC 9112 4: status-line = HTTP-version SP status-code SP [ reason-phrase ].
 * A missing SP after the code (an empty reason) is taken: it frames
 * nothing. reason-phrase = *( HTAB / SP / VCHAR / obs-text ). */
static int parse_status_line(const char *p, size_t n, struct http_response *r)
{
    if (n < 12 || partial_line_ok(p, 12) < 0)
        return fail(r, 400);
    if (p[5] != '1')
        return fail(r, 400); /* RFC 9112 2.3: only HTTP/1.x here */
    r->minor = p[7] - '0';
    r->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    /* RFC 9110 15: the status code is three digits, 100 to 599. */
    if (r->status < 100 || r->status > 599)
        return fail(r, 400);
    if (n == 12) {
        r->reason = (struct http_str){p + 12, 0};
        return 0;
    }
    if (p[12] != ' ')
        return fail(r, 400);
    for (size_t i = 13; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c != '\t' && (c < 0x20 || c == 0x7f))
            return fail(r, 400);
    }
    r->reason = (struct http_str){p + 13, n - 13};
    return 0;
}

int http_parse_response(const char *buf, size_t len, struct http_response *r)
{
    r->nheaders = 0;
    r->repeated = 0;
    memset(r->known, 0, sizeof r->known);
    r->error = 0;
    size_t eol, next = http_line_end(buf, len, 0, &eol);
    if (next == 0) {
        if (len > HTTP_MAX_REQUEST_LINE)
            return fail(r, 431);
        return partial_line_ok(buf, len) < 0 ? fail(r, 400) : HTTP_PARSE_MORE;
    }
    if (eol > HTTP_MAX_REQUEST_LINE)
        return fail(r, 431);
    if (parse_status_line(buf, eol, r) < 0)
        return HTTP_PARSE_ERROR;
    struct http_fields f = {r->headers, HTTP_MAX_HEADERS, &r->nheaders, known_names,
                            HR_COUNT,   r->known,         &r->repeated};
    return http_fields_parse(buf, len, next, &f, &r->error);
}

const struct http_str *http_response_get(const struct http_response *r, enum http_rhdr h)
{
    return r->known[h] ? &r->headers[r->known[h] - 1].value : NULL;
}

/* ---- framing (RFC 9112 6.3) -------------------------------------------- */

static int parse_length(struct http_str v, uint64_t *out)
{
    if (v.n == 0 || v.n > 19)
        return -1;
    uint64_t n = 0;
    for (size_t i = 0; i < v.n; i++) {
        if (!is_digit(v.p[i]))
            return -1;
        n = n * 10 + (uint64_t)(v.p[i] - '0');
    }
    *out = n;
    return 0;
}

struct length_scan {
    bool seen, bad;
    size_t items;
    uint64_t value;
};

static int length_item(struct http_str item, void *arg)
{
    struct length_scan *s = arg;
    uint64_t v;
    if (parse_length(item, &v) < 0 || (s->seen && v != s->value)) {
        s->bad = true;
        return 1;
    }
    s->seen = true;
    s->items++;
    s->value = v;
    return 0;
}

/* RFC 9110 8.6: every Content-Length field and list element must be the
 * same decimal number ("5, 5" is 5; "5, 6" or "5" and "6" are refused). An
 * empty field or list is invalid too. */
static int check_length(struct http_response *r)
{
    struct length_scan s = {0};
    for (size_t i = 0; i < r->nheaders && !s.bad; i++) {
        if (!http_str_ieq(r->headers[i].name, "content-length"))
            continue;
        size_t before = s.items;
        http_list_each(r->headers[i].value, length_item, &s);
        if (!s.bad && s.items == before)
            s.bad = true; /* nothing in this field */
    }
    if (s.bad)
        return fail(r, 400);
    r->body = HTTP_BODY_LENGTH;
    r->content_length = s.value;
    return 0;
}

/* RFC 9112 6.1, 6.3 (3)-(4): chunked alone is the only coding we remove; a
 * length beside it, a repeat, a coding in HTTP/1.0 or any other coding is
 * refused rather than read as close-delimited. */
static int check_coding(struct http_response *r)
{
    const struct http_str *v = http_response_get(r, HR_TRANSFER_ENCODING);
    if (r->minor == 0 || http_response_get(r, HR_CONTENT_LENGTH) ||
        (r->repeated & (1u << HR_TRANSFER_ENCODING)) || !http_str_ieq(*v, "chunked"))
        return fail(r, 400);
    r->body = HTTP_BODY_CHUNKED;
    return 0;
}

static int connection_token(struct http_str item, void *arg)
{
    struct http_response *r = arg;
    if (http_str_ieq(item, "close"))
        r->keep_alive = false;
    else if (http_str_ieq(item, "keep-alive") && r->minor == 0)
        r->keep_alive = true; /* RFC 9112 9.3, appendix C.2.2 */
    return 0;
}

static bool has_no_body(const struct http_response *r, bool head, bool connect)
{
    /* RFC 9112 6.3 (1)-(2) */
    if (head || r->status < 200 || r->status == 204 || r->status == 304)
        return true;
    return connect && r->status < 300;
}

int http_response_framing(struct http_response *r, bool head_request,
                          bool connect_request)
{
    r->content_length = 0;
    r->keep_alive = r->minor >= 1; /* RFC 9112 9.3 */
    const struct http_str *c = http_response_get(r, HR_CONNECTION);
    for (size_t i = 0; c && i < r->nheaders; i++)
        if (http_str_ieq(r->headers[i].name, "connection"))
            http_list_each(r->headers[i].value, connection_token, r);
    /* The fields are checked even where they frame nothing: a proxy must
     * not forward a contradictory head. */
    if (http_response_get(r, HR_TRANSFER_ENCODING)) {
        if (check_coding(r) < 0)
            return -1;
    } else if (http_response_get(r, HR_CONTENT_LENGTH)) {
        if (check_length(r) < 0)
            return -1;
    } else {
        r->body = HTTP_BODY_CLOSE;
    }
    if (has_no_body(r, head_request, connect_request)) {
        r->body = HTTP_BODY_NONE;
        r->content_length = 0;
    }
    if (r->body == HTTP_BODY_CLOSE)
        r->keep_alive = false; /* RFC 9112 6.3 (8) */
    return 0;
}
