/* reply: SMTP reply syntax (RFC 5321 4.2), one line at a time, no I/O.
 *   Reply-line = *( Reply-code "-" [ textstring ] CRLF )
 *                Reply-code [ SP textstring ] CRLF
 * Every line of a reply carries the same code (4.2.1). */
#include "core/reply.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void reply_parser_init(struct reply_parser *p)
{
    p->reply.code = 0;
    p->reply.lines = 0;
    p->reply.len = 0;
    p->reply.truncated = false;
    p->reply.text[0] = '\0';
    p->in_reply = false;
    p->error = NULL;
}

static enum reply_status fail(struct reply_parser *p, const char *why)
{
    p->error = why;
    return REPLY_ERROR;
}

/* Three digits, the first 1-5 and the second 0-5 (RFC 5321 4.2: the
 * theory of reply codes); -1 if not. */
static int parse_code(const char *line, size_t len)
{
    if (len < 3)
        return -1;
    for (int i = 0; i < 3; i++)
        if (line[i] < '0' || line[i] > '9')
            return -1;
    if (line[0] < '1' || line[0] > '5' || line[1] > '5')
        return -1;
    return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* textstring = 1*(%d09 / %d32-126); tolerate 8-bit text (some servers
 * send UTF-8 greetings) but no other control character and no NUL. */
static bool text_ok(const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)t[i];
        if ((ch < 32 && ch != '\t') || ch == 127)
            return false;
    }
    return true;
}

static void append_text(struct reply *r, const char *t, size_t n)
{
    size_t room = sizeof r->text - 1 - r->len;
    size_t need = n;
    if (r->lines > 0)
        need++;
    if (need > room) {
        r->truncated = true;
        return;
    }
    if (r->lines > 0)
        r->text[r->len++] = '\n';
    memcpy(r->text + r->len, t, n);
    r->len += n;
    r->text[r->len] = '\0';
}

enum reply_status reply_parser_line(struct reply_parser *p, const char *line, size_t len)
{
    if (p->error)
        return REPLY_ERROR;
    if (!p->in_reply)
        reply_parser_init(p);
    int code = parse_code(line, len);
    if (code < 0)
        return fail(p, "reply does not start with a reply code");
    if (p->in_reply && code != p->reply.code)
        return fail(p, "reply code differs between lines");
    bool last = len == 3 || line[3] == ' ';
    if (!last && line[3] != '-')
        return fail(p, "bad character after the reply code");
    const char *text = line + 3;
    size_t tlen = 0;
    if (len > 3) {
        text = line + 4;
        tlen = len - 4;
    }
    if (!text_ok(text, tlen))
        return fail(p, "control character in reply text");
    if (p->reply.lines >= REPLY_MAX_LINES)
        return fail(p, "too many reply lines");
    p->reply.code = code;
    append_text(&p->reply, text, tlen);
    p->reply.lines++;
    p->in_reply = !last;
    if (last)
        return REPLY_DONE;
    return REPLY_MORE;
}

enum reply_status reply_line_too_long(struct reply_parser *p)
{
    return fail(p, "reply line too long");
}

int reply_class(const struct reply *r)
{
    return r->code / 100;
}

/* status-code = class "." subject "." detail, RFC 3463 2: class 2, 4 or 5,
 * subject 1-3 digits, detail 1-3 digits; it must match the reply's class. */
void reply_enhanced(const struct reply *r, char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
    const char *t = r->text;
    if (t[0] != '2' && t[0] != '4' && t[0] != '5')
        return;
    if (t[0] - '0' != reply_class(r) || t[1] != '.')
        return;
    size_t i = 2;
    for (int part = 0; part < 2; part++) {
        size_t start = i;
        while (i < start + 3 && isdigit((unsigned char)t[i]))
            i++;
        if (i == start)
            return;
        if (part == 0 && t[i++] != '.')
            return;
    }
    if (t[i] != ' ' && t[i] != '\0' && t[i] != '\n')
        return;
    if (i < len) {
        memcpy(buf, t, i);
        buf[i] = '\0';
    }
}

void reply_summary(const struct reply *r, char *buf, size_t len)
{
    if (len == 0)
        return;
    size_t o = (size_t)snprintf(buf, len, "%03d ", r->code);
    for (size_t i = 0; i < r->len && o + 4 < len; i++) {
        if (r->text[i] == '\n') {
            memcpy(buf + o, " / ", 3);
            o += 3;
        } else if (r->text[i] == '"' || (unsigned char)r->text[i] >= 127) {
            buf[o++] = '?';
        } else {
            buf[o++] = r->text[i];
        }
    }
    if (o >= len)
        o = len - 1;
    buf[o] = '\0';
}

bool reply_has_keyword(const struct reply *r, const char *keyword, char *params,
                       size_t plen)
{
    size_t klen = strlen(keyword);
    const char *line = strchr(r->text, '\n'); /* the first line is the greeting */
    while (line) {
        line++;
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        bool match = n >= klen && strncasecmp(line, keyword, klen) == 0 &&
                     (n == klen || line[klen] == ' ' || line[klen] == '=');
        if (match) {
            const char *arg = line + klen;
            size_t alen = n - klen;
            if (alen) {
                arg++;
                alen--;
            }
            if (params && plen) {
                if (alen >= plen)
                    alen = plen - 1;
                memcpy(params, arg, alen);
                params[alen] = '\0';
            }
            return true;
        }
        line = end;
    }
    return false;
}
