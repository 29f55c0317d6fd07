/* fields: field lines (RFC 9112 5) into a caller's array, with the same
 * strictness for requests and responses: no whitespace before the colon, no
 * obs-fold, no controls in values, explicit limits. Also the list and
 * hop-by-hop helpers (RFC 9110 5.6.1, 7.6.1). */
#include "httpmsg/fields.h"

#include "core/limits.h"

#include <string.h>

bool http_is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* RFC 9110 5.5: field-vchar / SP / HTAB; obs-text is allowed, CTLs not. */
static bool is_field_char(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool http_str_ieq(struct http_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s.p[i], b = (unsigned char)lit[i];
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + 32);
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + 32);
        if (a != b)
            return false;
    }
    return true;
}

size_t http_line_end(const char *buf, size_t len, size_t pos, size_t *eol)
{
    const char *nl = memchr(buf + pos, '\n', len - pos);
    if (!nl)
        return 0;
    size_t e = (size_t)(nl - buf);
    *eol = (e > pos && buf[e - 1] == '\r') ? e - 1 : e;
    return e + 1;
}

static void note_known(const struct http_fields *f, struct http_str name)
{
    for (int k = 0; k < f->nnames; k++) {
        if (!http_str_ieq(name, f->names[k]))
            continue;
        if (f->known[k] == 0)
            f->known[k] = (unsigned short)*f->n;
        else
            *f->repeated |= 1u << k;
        return;
    }
}

/* field-name ":" OWS field-value OWS, on one line without its CRLF. */
static int parse_field(const char *p, size_t n, const struct http_fields *f, int *status)
{
    size_t i = 0;
    while (i < n && http_is_tchar((unsigned char)p[i]))
        i++;
    /* RFC 9112 5.1: no whitespace between the name and the colon. */
    if (i == 0 || i == n || p[i] != ':')
        return *status = 400, HTTP_PARSE_ERROR;
    struct http_str name = {p, i};
    for (i++; i < n && (p[i] == ' ' || p[i] == '\t'); i++)
        ;
    size_t v = i;
    for (; i < n; i++)
        if (!is_field_char((unsigned char)p[i]))
            return *status = 400, HTTP_PARSE_ERROR;
    while (i > v && (p[i - 1] == ' ' || p[i - 1] == '\t'))
        i--;
    if (*f->n == f->max)
        return *status = 431, HTTP_PARSE_ERROR;
    f->headers[(*f->n)++] = (struct http_header){name, {p + v, i - v}};
    note_known(f, name);
    return 0;
}

int http_fields_parse(const char *buf, size_t len, size_t pos,
                      const struct http_fields *f, int *status)
{
    size_t start = pos;
    for (;;) {
        size_t eol, next = http_line_end(buf, len, pos, &eol);
        if (next == 0) {
            if (len - start > HTTP_MAX_HEADER_BYTES)
                return *status = 431, HTTP_PARSE_ERROR;
            return HTTP_PARSE_MORE;
        }
        if (next - start > HTTP_MAX_HEADER_BYTES)
            return *status = 431, HTTP_PARSE_ERROR;
        if (eol == pos)
            return (int)next;
        /* RFC 9112 5.2: obs-fold is refused with 400. */
        if (buf[pos] == ' ' || buf[pos] == '\t')
            return *status = 400, HTTP_PARSE_ERROR;
        if (parse_field(buf + pos, eol - pos, f, status) < 0)
            return HTTP_PARSE_ERROR;
        pos = next;
    }
}

int http_list_each(struct http_str v, int (*fn)(struct http_str item, void *arg),
                   void *arg)
{
    size_t i = 0;
    while (i < v.n) {
        while (i < v.n && (v.p[i] == ' ' || v.p[i] == '\t' || v.p[i] == ','))
            i++;
        size_t s = i;
        while (i < v.n && v.p[i] != ',')
            i++;
        size_t e = i;
        while (e > s && (v.p[e - 1] == ' ' || v.p[e - 1] == '\t'))
            e--;
        if (e > s) {
            int rc = fn((struct http_str){v.p + s, e - s}, arg);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static bool ieq_str(struct http_str a, struct http_str b)
{
    if (a.n != b.n)
        return false;
    for (size_t i = 0; i < a.n; i++) {
        unsigned char x = (unsigned char)a.p[i], y = (unsigned char)b.p[i];
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

static int names_span(struct http_str item, void *arg)
{
    return ieq_str(item, *(const struct http_str *)arg) ? 1 : 0;
}

bool http_field_is_hop(struct http_str name, const struct http_header *h, size_t n)
{
    static const char *const fixed[] = {
        "connection",        "keep-alive", "proxy-connection", "te",
        "transfer-encoding", "upgrade",    "trailer",          "proxy-authorization",
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (http_str_ieq(name, fixed[i]))
            return true;
    for (size_t i = 0; i < n; i++)
        if (http_str_ieq(h[i].name, "connection") &&
            http_list_each(h[i].value, names_span, &name))
            return true;
    return false;
}

int http_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
