/* imap reply: every response the server writes (RFC 9051 7): tagged and
 * untagged lines, strings as quoted or literal (4.3), astrings, mailbox
 * names in UTF-8 or modified UTF-7 (RFC 9051 5.1, RFC 3501 5.1.3), flag
 * lists (2.3.2). */
#include "imap/imap.h"

#include "core/mutf7.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

bool imap_utf8(struct session *s)
{
    struct imap *im = imap_of(s);
    return im && (im->enabled & (IMAP_ENABLED_REV2 | IMAP_ENABLED_UTF8));
}

static void vreply(struct session *s, const char *prefix, const char *status,
                   const char *fmt, va_list ap)
{
    char text[1024];
    vsnprintf(text, sizeof text, fmt, ap);
    if (status)
        session_reply(s, "%s %s %s", prefix, status, text);
    else
        session_reply(s, "%s %s", prefix, text);
}

void imap_tagged(struct session *s, const char *status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s->tag[0])
        vreply(s, s->tag, status, fmt, ap);
    else
        vreply(s, "*", "BAD", fmt, ap);
    va_end(ap);
}

void imap_untagged(struct session *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreply(s, "*", NULL, fmt, ap);
    va_end(ap);
}

void imap_bad(struct session *s, const char *msg)
{
    if (!msg || !*msg)
        msg = "syntax error";
    imap_tagged(s, "BAD", "%s", msg);
}

/* RFC 9051 9 quoted: QUOTED-CHAR is any TEXT-CHAR (no CR, LF, NUL), with
 * '"' and '\' escaped; 8-bit only as UTF-8 to UTF-8 clients. */
static bool quotable(const char *data, size_t len, bool utf8)
{
    if (len > 1024)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c == '\0' || c == '\r' || c == '\n')
            return false;
        if (c >= 0x80 && !utf8)
            return false;
    }
    return true;
}

void imap_buf_string(struct evbuffer *out, const char *data, size_t len, bool utf8)
{
    if (!quotable(data, len, utf8)) {
        evbuffer_add_printf(out, "{%zu}\r\n", len);
        evbuffer_add(out, data, len);
        return;
    }
    evbuffer_add(out, "\"", 1);
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '"' && data[i] != '\\')
            continue;
        evbuffer_add(out, data + start, i - start);
        evbuffer_add(out, "\\", 1);
        start = i;
    }
    evbuffer_add(out, data + start, len - start);
    evbuffer_add(out, "\"", 1);
}

void imap_buf_nstring(struct evbuffer *out, const char *data, size_t len, bool utf8)
{
    if (!data) {
        evbuffer_add(out, "NIL", 3);
        return;
    }
    imap_buf_string(out, data, len, utf8);
}

/* RFC 9051 9 ASTRING-CHAR: ATOM-CHAR or "]"; not NIL (which would read as
 * nil in an nstring position). */
static bool is_atom(const char *data, size_t len)
{
    if (len == 0 || len > 1024 || (len == 3 && strncasecmp(data, "NIL", 3) == 0))
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)data[i];
        if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\", c))
            return false;
    }
    return true;
}

void imap_buf_astring(struct evbuffer *out, const char *data, size_t len, bool utf8)
{
    if (is_atom(data, len))
        evbuffer_add(out, data, len);
    else
        imap_buf_string(out, data, len, utf8);
}

void imap_buf_mailbox(struct session *s, struct evbuffer *out, const char *name)
{
    size_t len = strlen(name);
    if (imap_utf8(s)) {
        imap_buf_astring(out, name, len, true);
        return;
    }
    char enc[MAIL_MAX_FOLDER * 4 + 16];
    size_t n = 0;
    if (mutf7_encode(name, len, enc, sizeof enc, &n) != MUTF7_OK) {
        imap_buf_string(out, name, len, false); /* a literal: never lost */
        return;
    }
    imap_buf_astring(out, enc, n, false);
}

/* RFC 9051 2.3.2; $Forwarded is the Maildir "P" flag (RFC 5550 uses it). */
void imap_buf_flags(struct evbuffer *out, unsigned flags, const char *keywords)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {MAIL_SEEN, "\\Seen"},       {MAIL_ANSWERED, "\\Answered"},
        {MAIL_FLAGGED, "\\Flagged"}, {MAIL_DELETED, "\\Deleted"},
        {MAIL_DRAFT, "\\Draft"},     {MAIL_FORWARDED, "$Forwarded"},
    };
    /* One line per message of a STORE 1:*: built in a small buffer, one
     * append, no printf. */
    char buf[80];
    size_t n = 0;
    buf[n++] = '(';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(flags & names[i].bit))
            continue;
        if (n > 1)
            buf[n++] = ' ';
        size_t len = strlen(names[i].name);
        memcpy(buf + n, names[i].name, len);
        n += len;
    }
    if (keywords && *keywords && n > 1)
        buf[n++] = ' ';
    evbuffer_add(out, buf, n);
    if (keywords && *keywords)
        evbuffer_add(out, keywords, strlen(keywords));
    evbuffer_add(out, ")", 1);
}

void imap_send(struct session *s, struct evbuffer *out)
{
    size_t n = evbuffer_get_length(out);
    if (n == 0)
        return;
    unsigned char *p = evbuffer_pullup(out, (ev_ssize_t)n);
    if (p)
        session_write(s, p, n);
    evbuffer_drain(out, n);
}
