/* record: the envelope record of a queue entry as text, one field per line
 * ("keyword value"), ending with "end". Parsing is strict (anything else is
 * garbage and the entry is moved aside) and pure, so it is fuzzed
 * (tests/fuzz/queue). The first writer's records ("from", "to", "end")
 * are a subset and still read: their recipients are pending.
 *
 *   from <sender>          then, optional: created N, envid X, ret full|hdrs,
 *                          held, delay-noticed, bounce, smtputf8, body8,
 *                          dkim-done
 *   to <recipient>         then, for that recipient, optional: state S,
 *                          next N, tries N, notify LIST, orcpt X, mx H,
 *                          reply TEXT
 *   end                                                                 */
#include "queue/queue.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {"pending", "deferred", "delivered", "failed"};

const char *queue_state_name(enum queue_state st)
{
    if ((unsigned)st < sizeof state_names / sizeof state_names[0])
        return state_names[st];
    return "?";
}

void queue_line_copy(char *dst, size_t size, const char *s)
{
    size_t i = 0;
    if (size == 0)
        return;
    for (; s && s[i] && i + 1 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            c = ' ';
        dst[i] = (char)c;
    }
    dst[i] = '\0';
}

void queue_env_clear(struct queue_env *env)
{
    free(env->rcpts);
    memset(env, 0, sizeof *env);
}

bool queue_env_done(const struct queue_env *env)
{
    for (size_t i = 0; i < env->nrcpt; i++)
        if (env->rcpts[i].state == QR_PENDING || env->rcpts[i].state == QR_DEFERRED)
            return false;
    return true;
}

/* ---- parsing ---- */

struct line {
    char key[16];
    const char *val; /* not NUL-terminated */
    size_t vlen;
};

static bool printable(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return false;
    return true;
}

/* Splits "key value" (value may be empty). -1 when the key is too long. */
static int split_line(const char *p, size_t n, struct line *l)
{
    size_t k = 0;
    while (k < n && p[k] != ' ')
        k++;
    if (k == 0 || k >= sizeof l->key)
        return -1;
    memcpy(l->key, p, k);
    l->key[k] = '\0';
    l->val = p + k;
    l->vlen = n - k;
    if (l->vlen > 0) {
        l->val++;
        l->vlen--;
    }
    return 0;
}

static int copy_val(char *dst, size_t size, const char *v, size_t n)
{
    if (n >= size || !printable(v, n))
        return -1;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return 0;
}

/* "<addr>" into dst. */
static int copy_path(char *dst, size_t size, const char *v, size_t n)
{
    if (n < 2 || v[0] != '<' || v[n - 1] != '>')
        return -1;
    return copy_val(dst, size, v + 1, n - 2);
}

static int parse_i64(const char *v, size_t n, int64_t lo, int64_t hi, int64_t *out)
{
    char buf[24];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, v, n);
    buf[n] = '\0';
    char *end;
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (*end || errno || x < lo || x > hi || buf[0] == ' ' || buf[0] == '+')
        return -1;
    *out = x;
    return 0;
}

static int parse_state(const char *v, size_t n, enum queue_state *st)
{
    for (size_t i = 0; i < sizeof state_names / sizeof state_names[0]; i++)
        if (strlen(state_names[i]) == n && memcmp(state_names[i], v, n) == 0) {
            *st = (enum queue_state)i;
            return 0;
        }
    return -1;
}

static const struct {
    const char *name;
    unsigned bit;
} notify_names[] = {{"NEVER", QN_NEVER},
                    {"SUCCESS", QN_SUCCESS},
                    {"FAILURE", QN_FAILURE},
                    {"DELAY", QN_DELAY}};

static unsigned notify_bit(const char *v, size_t n)
{
    for (size_t i = 0; i < sizeof notify_names / sizeof notify_names[0]; i++)
        if (strlen(notify_names[i].name) == n && memcmp(notify_names[i].name, v, n) == 0)
            return notify_names[i].bit;
    return 0;
}

/* "SUCCESS,DELAY" or "NEVER" (RFC 3461 4.1). */
static int parse_notify(const char *v, size_t n, unsigned *out)
{
    unsigned bits = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        unsigned b = notify_bit(v + i, j - i);
        if (b == 0)
            return -1;
        bits |= b;
        i = j + 1;
    }
    if (bits == 0 || ((bits & QN_NEVER) && bits != QN_NEVER))
        return -1;
    *out = bits;
    return 0;
}

static bool key_is(const struct line *l, const char *k)
{
    return strcmp(l->key, k) == 0;
}

static int flag_line(const struct line *l, bool *flag)
{
    if (l->vlen != 0 || *flag)
        return -1;
    *flag = true;
    return 0;
}

static int env_field(struct queue_env *env, const struct line *l)
{
    if (key_is(l, "created"))
        return parse_i64(l->val, l->vlen, 0, INT64_C(1) << 40, &env->created);
    if (key_is(l, "envid"))
        return copy_val(env->envid, sizeof env->envid, l->val, l->vlen);
    if (key_is(l, "ret")) {
        if (l->vlen == 4 && memcmp(l->val, "full", 4) == 0)
            env->ret = QRET_FULL;
        else if (l->vlen == 4 && memcmp(l->val, "hdrs", 4) == 0)
            env->ret = QRET_HDRS;
        else
            return -1;
        return 0;
    }
    if (key_is(l, "held"))
        return flag_line(l, &env->held);
    if (key_is(l, "delay-noticed"))
        return flag_line(l, &env->delay_noticed);
    if (key_is(l, "bounce"))
        return flag_line(l, &env->is_bounce);
    if (key_is(l, "smtputf8"))
        return flag_line(l, &env->smtputf8);
    if (key_is(l, "body8"))
        return flag_line(l, &env->body8);
    if (key_is(l, "dkim-done"))
        return flag_line(l, &env->dkim_done);
    return -1;
}

static int rcpt_field(struct queue_rcpt *r, const struct line *l)
{
    int64_t x;
    if (key_is(l, "state"))
        return parse_state(l->val, l->vlen, &r->state);
    if (key_is(l, "next"))
        return parse_i64(l->val, l->vlen, 0, INT64_C(1) << 40, &r->next);
    if (key_is(l, "tries")) {
        if (parse_i64(l->val, l->vlen, 0, 1000000, &x) < 0)
            return -1;
        r->tries = (int)x;
        return 0;
    }
    if (key_is(l, "notify"))
        return parse_notify(l->val, l->vlen, &r->notify);
    if (key_is(l, "orcpt"))
        return copy_val(r->orcpt, sizeof r->orcpt, l->val, l->vlen);
    if (key_is(l, "mx"))
        return copy_val(r->mx, sizeof r->mx, l->val, l->vlen);
    if (key_is(l, "reply"))
        return copy_val(r->reply, sizeof r->reply, l->val, l->vlen);
    return -1;
}

static int add_rcpt(struct queue_env *env, const struct line *l, size_t *cap)
{
    if (env->nrcpt >= QUEUE_MAX_RCPT)
        return -1;
    if (env->nrcpt == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        struct queue_rcpt *p = realloc(env->rcpts, ncap * sizeof *p);
        if (!p)
            return -1;
        env->rcpts = p;
        *cap = ncap;
    }
    struct queue_rcpt *r = &env->rcpts[env->nrcpt];
    memset(r, 0, sizeof *r);
    if (copy_path(r->addr, sizeof r->addr, l->val, l->vlen) < 0 || r->addr[0] == '\0')
        return -1;
    env->nrcpt++;
    return 0;
}

/* One line; *seen_from tells whether "from" came (it must be first). */
static int parse_line(struct queue_env *env, const struct line *l, bool *seen_from,
                      size_t *cap)
{
    if (!*seen_from) {
        if (!key_is(l, "from"))
            return -1;
        *seen_from = true;
        return copy_path(env->from, sizeof env->from, l->val, l->vlen);
    }
    if (key_is(l, "to"))
        return add_rcpt(env, l, cap);
    if (env->nrcpt == 0)
        return env_field(env, l);
    return rcpt_field(&env->rcpts[env->nrcpt - 1], l);
}

static int parse_lines(const char *buf, size_t len, struct queue_env *env)
{
    bool seen_from = false;
    size_t cap = 0, pos = 0;
    while (pos < len) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            return -1; /* truncated: no "end" line */
        size_t n = (size_t)(nl - (buf + pos));
        if (n == 3 && memcmp(buf + pos, "end", 3) == 0)
            return pos + 4 == len && env->nrcpt > 0 ? 0 : -1;
        struct line l;
        if (split_line(buf + pos, n, &l) < 0 || parse_line(env, &l, &seen_from, &cap) < 0)
            return -1;
        pos += n + 1;
    }
    return -1;
}

int queue_env_parse(const char *buf, size_t len, struct queue_env *env, const char **why)
{
    memset(env, 0, sizeof *env);
    if (len > QUEUE_RECORD_MAX) {
        *why = "record too large";
        return -1;
    }
    if (parse_lines(buf, len, env) < 0) {
        *why = "malformed or truncated record";
        queue_env_clear(env);
        return -1;
    }
    return 0;
}

/* ---- formatting ---- */

struct out {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void outf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void outf(struct out *o, const char *fmt, ...)
{
    for (int round = 0; round < 2 && !o->failed; round++) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = true;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t ncap = o->cap * 2 + (size_t)n + 1;
        char *p = realloc(o->buf, ncap);
        if (!p) {
            o->failed = true;
            return;
        }
        o->buf = p;
        o->cap = ncap;
    }
}

static void format_notify(struct out *o, unsigned bits)
{
    const char *sep = "";
    outf(o, "notify ");
    for (size_t i = 0; i < sizeof notify_names / sizeof notify_names[0]; i++)
        if (bits & notify_names[i].bit) {
            outf(o, "%s%s", sep, notify_names[i].name);
            sep = ",";
        }
    outf(o, "\n");
}

static void format_rcpt(struct out *o, const struct queue_rcpt *r)
{
    char line[QUEUE_REPLY_MAX];
    outf(o, "to <%s>\n", r->addr);
    if (r->state != QR_PENDING)
        outf(o, "state %s\n", queue_state_name(r->state));
    if (r->next)
        outf(o, "next %lld\n", (long long)r->next);
    if (r->tries)
        outf(o, "tries %d\n", r->tries);
    if (r->notify)
        format_notify(o, r->notify);
    if (r->orcpt[0])
        outf(o, "orcpt %s\n", r->orcpt);
    if (r->mx[0]) {
        queue_line_copy(line, sizeof line, r->mx);
        outf(o, "mx %s\n", line);
    }
    if (r->reply[0]) {
        queue_line_copy(line, sizeof line, r->reply);
        outf(o, "reply %s\n", line);
    }
}

static void format_flags(struct out *o, const struct queue_env *env)
{
    if (env->held)
        outf(o, "held\n");
    if (env->delay_noticed)
        outf(o, "delay-noticed\n");
    if (env->is_bounce)
        outf(o, "bounce\n");
    if (env->smtputf8)
        outf(o, "smtputf8\n");
    if (env->body8)
        outf(o, "body8\n");
    if (env->dkim_done)
        outf(o, "dkim-done\n");
}

char *queue_env_format(const struct queue_env *env, size_t *len)
{
    struct out o = {malloc(1024), 0, 1024, false};
    if (!o.buf)
        return NULL;
    outf(&o, "from <%s>\ncreated %lld\n", env->from, (long long)env->created);
    if (env->envid[0])
        outf(&o, "envid %s\n", env->envid);
    if (env->ret == QRET_FULL)
        outf(&o, "ret full\n");
    if (env->ret == QRET_HDRS)
        outf(&o, "ret hdrs\n");
    format_flags(&o, env);
    for (size_t i = 0; i < env->nrcpt; i++)
        format_rcpt(&o, &env->rcpts[i]);
    outf(&o, "end\n");
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}
