/* multipart: delimiter search over a stream. The delimiter is CRLF "--"
 * boundary; a boundary has no CR (RFC 2046 5.1.1 bchars), so after a failed
 * partial match the held-back bytes are all data and only the current byte
 * can begin a new match. The body is treated as if a CRLF preceded it, so a
 * first delimiter at offset 0 is found. */
#include "http/multipart.h"

#include <string.h>

enum {
    M_BODY,     /* preamble or part data, searching the delimiter */
    M_AFTER,    /* after a delimiter: "--" or padding then CRLF */
    M_DASH2,
    M_AFTER_LF,
    M_HEADERS,  /* part header block up to the empty line */
    M_EPILOGUE, /* after the close delimiter: ignored */
};

static int boundary_char(char c)
{
    /* RFC 2046 5.1.1: bchars */
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("'()+_,-./:=? ", c));
}

static int param_boundary(struct http_str v, struct http_str *out)
{
    for (size_t i = 0; i + 9 <= v.n; i++) {
        if (!http_str_ieq((struct http_str){v.p + i, 9}, "boundary="))
            continue;
        if (i > 0 && v.p[i - 1] != ';' && v.p[i - 1] != ' ' && v.p[i - 1] != '\t')
            continue;
        const char *s = v.p + i + 9;
        size_t n = v.n - i - 9;
        if (n && s[0] == '"') {
            const char *q = memchr(s + 1, '"', n - 1);
            if (!q)
                return -1;
            *out = (struct http_str){s + 1, (size_t)(q - s - 1)};
        } else {
            size_t k = 0;
            while (k < n && s[k] != ';' && s[k] != ' ' && s[k] != '\t')
                k++;
            *out = (struct http_str){s, k};
        }
        return 0;
    }
    return -1;
}

int http_multipart_init(struct http_multipart *m, struct http_str ct,
                        const struct http_multipart_cb *cb, void *arg)
{
    memset(m, 0, sizeof *m);
    const char *semi = memchr(ct.p, ';', ct.n);
    struct http_str type = {ct.p, semi ? (size_t)(semi - ct.p) : ct.n};
    while (type.n && (type.p[type.n - 1] == ' ' || type.p[type.n - 1] == '\t'))
        type.n--;
    struct http_str b;
    if (!http_str_ieq(type, "multipart/form-data") || param_boundary(ct, &b) < 0 ||
        b.n == 0 || b.n > 70 || b.p[b.n - 1] == ' ')
        return -1;
    for (size_t i = 0; i < b.n; i++)
        if (!boundary_char(b.p[i]))
            return -1;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, b.p, b.n);
    m->dlen = 4 + b.n;
    m->match = 2; /* the virtual CRLF before the body */
    m->state = M_BODY;
    m->cb = cb;
    m->arg = arg;
    return 0;
}

bool http_multipart_done(const struct http_multipart *m)
{
    return m->state == M_EPILOGUE;
}

static int emit(struct http_multipart *m, const char *p, size_t n)
{
    if (!m->in_part || n == 0)
        return 0;
    return m->cb->data(m->arg, p, n);
}

/* Scans part data; returns bytes consumed or -1. Leaves M_BODY when a
 * delimiter completes. */
static long scan_body(struct http_multipart *m, const char *p, size_t n)
{
    size_t i = 0, run = 0;
    while (i < n) {
        if (p[i] == m->delim[m->match]) {
            if (m->match == 0 && emit(m, p + run, i - run) < 0)
                return -1;
            i++;
            if (++m->match == m->dlen) {
                m->match = 0;
                m->state = M_AFTER;
                if (m->in_part && m->cb->end(m->arg) < 0)
                    return -1;
                m->in_part = false;
                return (long)i;
            }
            continue;
        }
        if (m->match > 0) {
            if (emit(m, m->delim, m->match) < 0)
                return -1;
            m->match = 0;
            run = i;
            if (p[i] == m->delim[0])
                continue;
        }
        i++;
    }
    if (m->match == 0 && emit(m, p + run, n - run) < 0)
        return -1;
    return (long)n;
}

static int header_byte(struct http_multipart *m, char c)
{
    if (m->hlen == sizeof m->hdr)
        return -1;
    m->hdr[m->hlen++] = c;
    bool end = (m->hlen == 2 && memcmp(m->hdr, "\r\n", 2) == 0) ||
               (m->hlen >= 4 && memcmp(m->hdr + m->hlen - 4, "\r\n\r\n", 4) == 0);
    if (!end)
        return 0;
    m->state = M_BODY;
    m->in_part = true;
    return m->cb->part(m->arg, m->hdr, m->hlen);
}

static int after_byte(struct http_multipart *m, char c)
{
    switch (m->state) {
    case M_AFTER:
        if (c == '-')
            m->state = M_DASH2;
        else if (c == '\r')
            m->state = M_AFTER_LF;
        else if (c != ' ' && c != '\t') /* transport padding */
            return -1;
        return 0;
    case M_DASH2:
        m->state = M_EPILOGUE;
        return c == '-' ? 0 : -1;
    case M_AFTER_LF:
        m->state = M_HEADERS;
        m->hlen = 0;
        return c == '\n' ? 0 : -1;
    default:
        return header_byte(m, c);
    }
}

int http_multipart_feed(struct http_multipart *m, const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && m->state != M_EPILOGUE) {
        if (m->state == M_BODY) {
            long k = scan_body(m, p + i, n - i);
            if (k < 0)
                return -1;
            i += (size_t)k;
        } else if (after_byte(m, p[i++]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- Content-Disposition (RFC 7578 4.2, RFC 6266 4) ------------------------ */

static const char *find_ci(const char *h, size_t n, const char *lit)
{
    size_t k = strlen(lit);
    for (size_t i = 0; i + k <= n; i++)
        if (http_str_ieq((struct http_str){h + i, k}, lit))
            return h + i;
    return NULL;
}

/* The quoted filename as browsers send it: the HTML standard's form encoding
 * escapes '"', CR and LF as %22, %0D, %0A and sends a backslash as is, so a
 * backslash is a character here (a Windows path separator), not an escape. */
static int quoted_value(const char *s, size_t n, char *out, size_t outlen, size_t *olen)
{
    size_t o = 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (c == '"') {
            *olen = o;
            return 0;
        }
        if (c == '\r' || c == '\n' || o + 1 >= outlen)
            return -1;
        out[o++] = c;
    }
    return -1;
}

int http_multipart_filename(const char *hdr, size_t n, char *out, size_t outlen)
{
    const char *cd = find_ci(hdr, n, "content-disposition:");
    if (!cd)
        return 0;
    const char *eol = memchr(cd, '\r', n - (size_t)(cd - hdr));
    size_t len = eol ? (size_t)(eol - cd) : n - (size_t)(cd - hdr);
    const char *f = cd;
    for (;;) {
        f = find_ci(f, len - (size_t)(f - cd), "filename=");
        if (!f)
            return 0;
        if (f[-1] == ';' || f[-1] == ' ' || f[-1] == '\t')
            break;
        f++;
    }
    f += 9;
    size_t rest = len - (size_t)(f - cd), vlen = 0;
    char val[1024];
    if (rest && f[0] == '"') {
        if (quoted_value(f, rest, val, sizeof val, &vlen) < 0)
            return -1;
    } else {
        while (vlen < rest && f[vlen] != ';' && vlen + 1 < sizeof val)
            vlen++;
        memcpy(val, f, vlen);
    }
    /* A browser may send a full client path: keep the last component. A
     * NUL or another control byte makes the whole value malformed (it
     * would silently cut the name short). */
    size_t start = 0;
    for (size_t i = 0; i < vlen; i++) {
        if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
            return -1;
        if (val[i] == '/' || val[i] == '\\')
            start = i + 1;
    }
    if (vlen - start == 0)
        return 0;
    if (vlen - start >= outlen)
        return -1;
    memcpy(out, val + start, vlen - start);
    out[vlen - start] = '\0';
    return 1;
}
