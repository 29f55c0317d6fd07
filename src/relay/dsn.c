/* dsn: the words of RFC 3464 delivery status notifications (see dsn.h):
 * the human part, which quotes the remote reply, and the
 * message/delivery-status fields, where it is the Diagnostic-Code
 * (RFC 3464 2.3.6, type smtp); the status code comes from the reply's
 * enhanced status code (RFC 3463) or its class. mime/ (GMime) puts them
 * together with the original into the multipart/report. */
#include "relay/dsn.h"

#include "mime/compose.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = (b->cap + n) * 2 + 256;
        char *q = realloc(b->p, ncap);
        if (!q) {
            b->failed = true;
            return;
        }
        b->p = q;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static void putf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof tmp)
        n = sizeof tmp - 1;
    put(b, tmp, (size_t)n);
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

void dsn_status_of(const char *reply, enum dsn_action action, char *buf, size_t len)
{
    /* "550 5.1.1 ..." -> "5.1.1" (RFC 3463 2: class.subject.detail). */
    const char *p = reply;
    if (digit(p[0]) && digit(p[1]) && digit(p[2]) && (p[3] == ' ' || p[3] == '-'))
        p += 4;
    size_t n = strspn(p, "0123456789.");
    if (n >= 5 && n < len && (p[0] == '2' || p[0] == '4' || p[0] == '5') && p[1] == '.') {
        memcpy(buf, p, n);
        buf[n] = '\0';
        return;
    }
    if (action == DSN_DELIVERED)
        snprintf(buf, len, "2.0.0");
    else if (action == DSN_DELAYED || reply[0] == '4')
        snprintf(buf, len, "4.0.0");
    else
        snprintf(buf, len, "5.0.0");
}

const char *dsn_action_name(enum dsn_action a)
{
    if (a == DSN_DELAYED)
        return "delayed";
    if (a == DSN_DELIVERED)
        return "delivered";
    return "failed";
}

static void human_part(struct buf *b, const struct queue_env *env, const size_t *which,
                       size_t n, enum dsn_action action, const char *hostname)
{
    putf(b, "This is the mail system at %s.\n\n", hostname);
    if (action == DSN_FAILED)
        putf(b,
             "Your message could not be delivered to %zu recipient%s; it will not be "
             "retried.\n\n",
             n, n == 1 ? "" : "s");
    else if (action == DSN_DELAYED)
        putf(b,
             "Your message has not been delivered yet to %zu recipient%s. It stays "
             "in the queue and will be retried; you need not send it again.\n\n",
             n, n == 1 ? "" : "s");
    else
        putf(b, "Your message was delivered.\n\n");
    for (size_t i = 0; i < n; i++) {
        const struct queue_rcpt *r = &env->rcpts[which[i]];
        putf(b, "<%s>", r->addr);
        if (r->mx[0])
            putf(b, ": host %s said:\n    %s\n\n", r->mx, r->reply);
        else
            putf(b, ":\n    %s\n\n", r->reply[0] ? r->reply : "(no reply)");
    }
}

static void machine_part(struct buf *b, const struct queue_env *env, const size_t *which,
                         size_t n, enum dsn_action action, const char *hostname)
{
    char date[64], status[16];
    time_t now = time(NULL);
    struct tm tm;
    /* RFC 3464 2.2: per-message fields. */
    putf(b, "Reporting-MTA: dns; %s\n", hostname);
    if (env->envid[0])
        putf(b, "Original-Envelope-Id: %s\n", env->envid);
    time_t created = (time_t)env->created;
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", localtime_r(&created, &tm));
    putf(b, "Arrival-Date: %s\n", date);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", localtime_r(&now, &tm));
    for (size_t i = 0; i < n; i++) { /* 2.3: per-recipient fields */
        const struct queue_rcpt *r = &env->rcpts[which[i]];
        dsn_status_of(r->reply, action, status, sizeof status);
        puts_(b, "\n");
        if (r->orcpt[0])
            putf(b, "Original-Recipient: %s\n", r->orcpt);
        putf(b, "Final-Recipient: rfc822; %s\nAction: %s\nStatus: %s\n", r->addr,
             dsn_action_name(action), status);
        if (r->mx[0])
            putf(b, "Remote-MTA: dns; %s\n", r->mx);
        if (r->reply[0] && r->mx[0])
            putf(b, "Diagnostic-Code: smtp; %s\n", r->reply);
        putf(b, "Last-Attempt-Date: %s\n", date);
    }
}

static const char *subject_of(enum dsn_action action)
{
    if (action == DSN_FAILED)
        return "Undelivered Mail Returned to Sender";
    if (action == DSN_DELAYED)
        return "Delayed Mail (still being retried)";
    return "Successful Mail Delivery Report";
}

/* The original's header block (up to the first empty line). */
static size_t header_len(const char *orig, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (orig[i] == '\n' && orig[i + 1] == '\n')
            return i + 1;
    return len;
}

char *dsn_compose(const struct queue_env *env, const size_t *which, size_t n,
                  enum dsn_action action, const char *orig, size_t origlen,
                  const char *hostname, size_t *outlen)
{
    struct buf human = {0}, status = {0};
    char from[320], msgid[QUEUE_ID_MAX + 300];
    human_part(&human, env, which, n, action, hostname);
    machine_part(&status, env, which, n, action, hostname);
    snprintf(from, sizeof from, "Mail Delivery System <MAILER-DAEMON@%s>", hostname);
    snprintf(msgid, sizeof msgid, "dsn.%s@%s", env->id, hostname);
    bool full = env->ret == QRET_FULL && origlen <= DSN_MAX_RETURN;
    struct mime_dsn d = {
        .from = from,
        .to = env->from,
        .subject = subject_of(action),
        .message_id = msgid,
        .human = human.p,
        .status = status.p,
        .original = orig,
        .original_len = full ? origlen : header_len(orig, origlen),
        .full = full,
    };
    char *msg = NULL;
    if (!human.failed && !status.failed && human.p && status.p)
        msg = mime_dsn_compose(&d, outlen);
    free(human.p);
    free(status.p);
    return msg;
}
