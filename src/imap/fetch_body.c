/* fetch_body: section ranges, LF to CRLF conversion with partial windows,
 * header field filtering (see fetch_body.h). */
#include "imap/fetch_body.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imap/fetch_parse.h"
#include "mime/summary.h"

static void set_range(struct fetch_range *r, uint64_t off, uint64_t len, uint64_t crlf)
{
    r->nil = false;
    r->off = off;
    r->len = len;
    r->crlf = crlf;
}

/* HEADER / TEXT of a message: the top level, or a message/rfc822 part's
 * encapsulated message (RFC 9051 6.4.5). */
static void message_range(const struct mime_part *p, bool top, bool header,
                          struct fetch_range *out)
{
    if (top && header)
        set_range(out, p->header_off, p->header_len, p->header_len_crlf);
    else if (top)
        set_range(out, p->body_off, p->body_len, p->body_len_crlf);
    else if (p->msg_header_len > p->body_len || p->msg_header_len_crlf > p->body_len_crlf)
        return; /* a corrupt cache entry: NIL rather than a wrong range */
    else if (header)
        set_range(out, p->body_off, p->msg_header_len, p->msg_header_len_crlf);
    else
        set_range(out, p->body_off + p->msg_header_len, p->body_len - p->msg_header_len,
                  p->body_len_crlf - p->msg_header_len_crlf);
}

void fetch_section_range(const struct mime_summary *sum, const struct imap_fetch_item *it,
                         uint64_t size, uint64_t vsize, struct fetch_range *out)
{
    out->nil = true;
    bool top = it->part[0] == '\0';
    if (top && it->text == IMAP_SECT_ALL) {
        set_range(out, 0, size, vsize);
        return;
    }
    if (!sum)
        return;
    const struct mime_part *p = mime_summary_part(sum, it->part);
    if (!p)
        return;
    switch (it->text) {
    case IMAP_SECT_ALL:
        set_range(out, p->body_off, p->body_len, p->body_len_crlf);
        break;
    case IMAP_SECT_MIME:
        if (!top)
            set_range(out, p->header_off, p->header_len, p->header_len_crlf);
        break;
    case IMAP_SECT_HEADER:
    case IMAP_SECT_HEADER_FIELDS:
    case IMAP_SECT_HEADER_FIELDS_NOT:
        if (top || p->is_message)
            message_range(p, top, true, out);
        break;
    case IMAP_SECT_TEXT:
        if (top || p->is_message)
            message_range(p, top, false, out);
        break;
    }
}

void crlf_conv_init(struct crlf_conv *c, uint64_t skip, uint64_t take)
{
    c->prev_cr = false;
    c->skip = skip;
    c->take = take;
}

/* Appends data[0..n) to out, less what the window skips or cuts. */
static int emit(struct crlf_conv *c, const char *data, size_t n, struct evbuffer *out)
{
    if (c->skip >= n) {
        c->skip -= n;
        return 0;
    }
    data += c->skip;
    n -= (size_t)c->skip;
    c->skip = 0;
    if (n > c->take)
        n = (size_t)c->take;
    c->take -= n;
    if (n == 0)
        return 0;
    return evbuffer_add(out, data, n);
}

/* Converts in[0..n) into dst (room for 2n); returns the bytes written. */
static size_t convert_all(struct crlf_conv *c, const char *in, size_t n, char *dst)
{
    char *o = dst;
    size_t i = 0;
    while (i < n) {
        const char *lf = memchr(in + i, '\n', n - i);
        size_t run = n - i;
        if (lf)
            run = (size_t)(lf - (in + i));
        memcpy(o, in + i, run);
        o += run;
        if (run)
            c->prev_cr = in[i + run - 1] == '\r';
        i += run;
        if (!lf)
            break;
        if (!c->prev_cr)
            *o++ = '\r';
        *o++ = '\n';
        c->prev_cr = false;
        i++;
    }
    return (size_t)(o - dst);
}

int crlf_conv_feed(struct crlf_conv *c, const char *in, size_t n, struct evbuffer *out)
{
    /* Nothing to skip: convert straight into reserved output space and
     * cut at the window's end (nothing after it is ever sent). */
    if (c->skip == 0 && c->take > 0 && n > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_reserve_space(out, (ev_ssize_t)(2 * n), &v, 1) != 1)
            return -1;
        v.iov_len = convert_all(c, in, n, v.iov_base);
        if (v.iov_len > c->take)
            v.iov_len = (size_t)c->take;
        c->take -= v.iov_len;
        return evbuffer_commit_space(out, &v, 1);
    }
    size_t i = 0;
    while (i < n && c->take > 0) {
        const char *lf = memchr(in + i, '\n', n - i);
        size_t run = n - i;
        if (lf)
            run = (size_t)(lf - (in + i));
        if (run) {
            if (emit(c, in + i, run, out) < 0)
                return -1;
            c->prev_cr = in[i + run - 1] == '\r';
            i += run;
        }
        if (!lf)
            break;
        if (c->prev_cr) {
            if (emit(c, "\n", 1, out) < 0)
                return -1;
        } else if (emit(c, "\r\n", 2, out) < 0) {
            return -1;
        }
        c->prev_cr = false;
        i++;
    }
    return 0;
}

uint64_t crlf_length(const char *in, size_t n, bool *prev_cr)
{
    uint64_t len = n;
    bool cr = *prev_cr;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\n' && !cr)
            len++;
        cr = in[i] == '\r';
    }
    *prev_cr = cr;
    return len;
}

char *fetch_read(int fd, uint64_t off, uint64_t len)
{
    if (len > SIZE_MAX - 1)
        return NULL;
    char *buf = malloc((size_t)len + 1);
    if (!buf)
        return NULL;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, (size_t)len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            return NULL;
        }
        got += (size_t)r;
    }
    buf[len] = '\0';
    return buf;
}

static bool name_listed(const char *name, size_t len, const char *const *names,
                        size_t nnames)
{
    for (size_t i = 0; i < nnames; i++)
        if (strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
            return true;
    return false;
}

/* The length of the field at line: up to its last continuation line. */
static size_t field_end(const char *hdr, size_t n, size_t at)
{
    size_t i = at;
    for (;;) {
        const char *lf = memchr(hdr + i, '\n', n - i);
        if (!lf)
            return n;
        i = (size_t)(lf - hdr) + 1;
        if (i >= n || (hdr[i] != ' ' && hdr[i] != '\t'))
            return i;
    }
}

size_t fetch_header_filter(const char *hdr, size_t n, const char *const *names,
                           size_t nnames, bool not, char *out)
{
    size_t o = 0, i = 0;
    while (i < n && hdr[i] != '\n' &&
           !(hdr[i] == '\r' && i + 1 < n && hdr[i + 1] == '\n')) {
        size_t end = field_end(hdr, n, i);
        const char *colon = memchr(hdr + i, ':', end - i);
        size_t nlen = 0;
        if (colon)
            nlen = (size_t)(colon - (hdr + i));
        while (nlen && (hdr[i + nlen - 1] == ' ' || hdr[i + nlen - 1] == '\t'))
            nlen--;
        bool listed = colon && name_listed(hdr + i, nlen, names, nnames);
        if (colon && listed != not ) {
            memcpy(out + o, hdr + i, end - i);
            o += end - i;
        }
        i = end;
    }
    out[o++] = '\n'; /* RFC 9051 6.4.5: the blank line is included */
    return o;
}
