/* request: request line and header fields (RFC 9112 2-5) into a struct
 * http_request that points into the caller's bytes, then the framing rules
 * (RFC 9112 6, 9.3; RFC 9110 7.2, 10.1.1). Every malformed input ends in an
 * error status, never in a guess: the request smuggling class of attack
 * lives in lenient parsers. */
#include "httpmsg/request.h"

#include <string.h>

static int fail(struct http_request *r, int status)
{
    r->status = status;
    return HTTP_PARSE_ERROR;
}

/* ---- request line (RFC 9112 3) ----------------------------------------- */

static enum http_method method_of(struct http_str m)
{
    /* RFC 9110 9.1: the method token is case-sensitive. */
    static const struct {
        const char *name;
        enum http_method m;
    } table[] = {
        {"GET", HTTP_M_GET},     {"HEAD", HTTP_M_HEAD},       {"POST", HTTP_M_POST},
        {"PUT", HTTP_M_PUT},     {"DELETE", HTTP_M_DELETE},   {"OPTIONS", HTTP_M_OPTIONS},
        {"TRACE", HTTP_M_TRACE}, {"CONNECT", HTTP_M_CONNECT}, {"PATCH", HTTP_M_PATCH},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].name) == m.n && memcmp(table[i].name, m.p, m.n) == 0)
            return table[i].m;
    return HTTP_M_UNKNOWN;
}

/* Checks what has arrived of an unfinished request line, so that garbage
 * (a TLS hello on the plain port) is refused at once, not after 8 KiB. */
static int partial_line_ok(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && http_is_tchar((unsigned char)p[i]))
        i++;
    if (i == n)
        return 0;
    if (p[i] != ' ' || i == 0)
        return -1;
    for (i++; i < n && p[i] != ' '; i++)
        if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
            return -1;
    return 0;
}

/* "HTTP/" DIGIT "." DIGIT (RFC 9112 2.3); another major version is 505. */
static int parse_version(const char *p, size_t n, struct http_request *r)
{
    if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
        p[7] < '0' || p[7] > '9')
        return fail(r, 400);
    if (p[5] != '1')
        return fail(r, 505);
    r->minor = p[7] - '0';
    return 0;
}

static int parse_request_line(const char *p, size_t n, struct http_request *r)
{
    size_t i = 0;
    while (i < n && http_is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ' ')
        return fail(r, 400);
    r->method = (struct http_str){p, i};
    size_t t = ++i;
    /* RFC 9112 3.2: the target has no whitespace or controls. */
    while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
        i++;
    if (i == t || i == n || p[i] != ' ')
        return fail(r, 400);
    r->target = (struct http_str){p + t, i - t};
    i++;
    if (parse_version(p + i, n - i, r) < 0)
        return HTTP_PARSE_ERROR;
    r->m = method_of(r->method);
    return 0;
}

/* ---- header fields (RFC 9112 5, in fields.c) --------------------------- */

static const char *const known_names[HH_COUNT] = {
    [HH_HOST] = "host",
    [HH_CONNECTION] = "connection",
    [HH_CONTENT_LENGTH] = "content-length",
    [HH_TRANSFER_ENCODING] = "transfer-encoding",
    [HH_EXPECT] = "expect",
    [HH_IF_MATCH] = "if-match",
    [HH_IF_NONE_MATCH] = "if-none-match",
    [HH_IF_MODIFIED_SINCE] = "if-modified-since",
    [HH_IF_UNMODIFIED_SINCE] = "if-unmodified-since",
    [HH_IF_RANGE] = "if-range",
    [HH_RANGE] = "range",
    [HH_AUTHORIZATION] = "authorization",
    [HH_CONTENT_TYPE] = "content-type",
    [HH_USER_AGENT] = "user-agent",
    [HH_REFERER] = "referer",
};

static int parse_fields(const char *buf, size_t len, size_t pos, struct http_request *r)
{
    struct http_fields f = {r->headers, HTTP_MAX_HEADERS, &r->nheaders, known_names,
                            HH_COUNT,   r->known,         &r->repeated};
    return http_fields_parse(buf, len, pos, &f, &r->status);
}

static size_t skip_empty_lines(const char *buf, size_t len)
{
    size_t pos = 0;
    for (int i = 0; i < 4; i++) {
        if (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
            pos += 2;
        else if (pos < len && buf[pos] == '\n')
            pos++;
        else
            break;
    }
    return pos;
}

int http_parse_request(const char *buf, size_t len, struct http_request *r)
{
    r->nheaders = 0;
    r->repeated = 0;
    memset(r->known, 0, sizeof r->known);
    r->status = 0;
    size_t pos = skip_empty_lines(buf, len);
    if (pos + 1 == len && buf[pos] == '\r')
        return HTTP_PARSE_MORE; /* the LF of an empty line may follow */
    size_t eol, next = http_line_end(buf, len, pos, &eol);
    if (next == 0) {
        if (len - pos > HTTP_MAX_REQUEST_LINE)
            return fail(r, 414);
        return partial_line_ok(buf + pos, len - pos) < 0 ? fail(r, 400) : HTTP_PARSE_MORE;
    }
    if (eol - pos > HTTP_MAX_REQUEST_LINE)
        return fail(r, 414);
    if (parse_request_line(buf + pos, eol - pos, r) < 0)
        return HTTP_PARSE_ERROR;
    return parse_fields(buf, len, next, r);
}

/* ---- framing and the fields that steer the connection ------------------ */

const struct http_str *http_request_get(const struct http_request *r, enum http_hdr h)
{
    return r->known[h] ? &r->headers[r->known[h] - 1].value : NULL;
}

/* RFC 9110 8.6: Content-Length = 1*DIGIT; a list or a repeat is refused. */
static int check_length(struct http_request *r)
{
    const struct http_str *v = http_request_get(r, HH_CONTENT_LENGTH);
    if (!v)
        return 0;
    if ((r->repeated & (1u << HH_CONTENT_LENGTH)) || v->n == 0 || v->n > 19)
        return fail(r, 400);
    uint64_t n = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->p[i] < '0' || v->p[i] > '9')
            return fail(r, 400);
        n = n * 10 + (uint64_t)(v->p[i] - '0');
    }
    r->has_length = true;
    r->content_length = n;
    return 0;
}

static int count_item(struct http_str item, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

/* RFC 9112 6.1: chunked is the only coding we take, once, and last. */
static int check_coding(struct http_request *r)
{
    const struct http_str *v = http_request_get(r, HH_TRANSFER_ENCODING);
    if (!v)
        return 0;
    /* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 means a faulty framing;
     * RFC 9112 6.3 (3): with Content-Length too it is a smuggling attempt. */
    if (r->minor == 0 || http_request_get(r, HH_CONTENT_LENGTH) ||
        (r->repeated & (1u << HH_TRANSFER_ENCODING)))
        return fail(r, 400);
    int items = 0;
    http_list_each(*v, count_item, &items);
    if (items == 1 && http_str_ieq(*v, "chunked")) {
        r->chunked = true;
        return 0;
    }
    size_t n = v->n;
    bool last_chunked =
        n >= 7 && http_str_ieq((struct http_str){v->p + n - 7, 7}, "chunked");
    /* Another coding before chunked: not implemented (501); chunked not
     * last: the length cannot be determined (400). */
    return fail(r, last_chunked && items > 1 ? 501 : 400);
}

static int connection_token(struct http_str item, void *arg)
{
    struct http_request *r = arg;
    if (http_str_ieq(item, "close"))
        r->keep_alive = false;
    else if (http_str_ieq(item, "keep-alive") && r->minor == 0)
        r->keep_alive = true; /* RFC 9112 9.3 and its appendix C.2.2 */
    return 0;
}

/* RFC 9112 3.2: exactly one Host in an HTTP/1.1 request. */
static int check_host(struct http_request *r)
{
    if (r->repeated & (1u << HH_HOST))
        return fail(r, 400);
    if (r->minor >= 1 && !http_request_get(r, HH_HOST))
        return fail(r, 400);
    return 0;
}

/* RFC 9110 10.1.1: 100-continue is the only expectation; others get 417. */
static int check_expect(struct http_request *r)
{
    const struct http_str *v = http_request_get(r, HH_EXPECT);
    if (!v)
        return 0;
    if (!http_str_ieq(*v, "100-continue"))
        return fail(r, 417);
    r->expect_continue = r->minor >= 1;
    return 0;
}

int http_request_check(struct http_request *r)
{
    r->chunked = r->has_length = r->expect_continue = false;
    r->content_length = 0;
    r->keep_alive = r->minor >= 1; /* RFC 9112 9.3 */
    if (check_host(r) < 0 || check_length(r) < 0 || check_coding(r) < 0)
        return -1;
    const struct http_str *c = http_request_get(r, HH_CONNECTION);
    if (c)
        http_list_each(*c, connection_token, r);
    return check_expect(r);
}
