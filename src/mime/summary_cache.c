/* summary_cache: the text form of a summary kept in the mail index, and
 * its strict reader (anything unexpected is a corrupt entry: NULL, and
 * the caller recomputes). Pure. The format, version 1:
 *   "portico-summary 1\n"
 *   12 strings (summary_cache.h order), each "<len>:<bytes>\n"
 *   "<sent_date> <subject_reply> <nparts>\n"
 *   per part "<len>:<section> hoff hlen hlenc boff blen blenc lines
 *             is_message mhlen mhlenc\n"
 * Strings are length-prefixed, so envelopes with literals (CRLF inside)
 * need no escaping. */
#include "mime/summary_cache.h"

#include "mime/limits.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_MAGIC "portico-summary 1\n"
#define PART_NUMBERS 10

/* ---- writing ---- */

struct out {
    char *s;
    size_t n, cap;
    bool failed;
};

static void put(struct out *o, const char *p, size_t n)
{
    if (o->failed)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = (o->n + n + 1) * 2;
        char *ns = realloc(o->s, cap);
        if (!ns) {
            o->failed = true;
            return;
        }
        o->s = ns;
        o->cap = cap;
    }
    memcpy(o->s + o->n, p, n);
    o->n += n;
    o->s[o->n] = '\0';
}

static void put_fmt_u64(struct out *o, uint64_t v, char sep)
{
    char num[24];
    size_t n = sizeof num;
    num[--n] = sep;
    do {
        num[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(o, num + n, sizeof num - n);
}

static void put_lstring(struct out *o, const char *s)
{
    if (!s)
        s = "";
    put_fmt_u64(o, strlen(s), ':');
    put(o, s, strlen(s));
}

static void put_part(struct out *o, const struct mime_part *p)
{
    put_lstring(o, p->section);
    put(o, " ", 1);
    uint64_t v[PART_NUMBERS] = {p->header_off,      p->header_len,
                                p->header_len_crlf, p->body_off,
                                p->body_len,        p->body_len_crlf,
                                p->lines,           (uint64_t)(p->is_message != 0),
                                p->msg_header_len,  p->msg_header_len_crlf};
    for (size_t i = 0; i < PART_NUMBERS; i++)
        put_fmt_u64(o, v[i], i + 1 < PART_NUMBERS ? ' ' : '\n');
}

char *mime_summary_serialise(const struct mime_summary *s)
{
    if (!s)
        return NULL;
    struct out o = {0};
    char **strs[MIME_SUMMARY_NSTRINGS];
    mime_summary_strings((struct mime_summary *)s, strs);
    put(&o, CACHE_MAGIC, strlen(CACHE_MAGIC));
    for (size_t i = 0; i < MIME_SUMMARY_NSTRINGS; i++) {
        put_lstring(&o, *strs[i]);
        put(&o, "\n", 1);
    }
    char head[96];
    int n = snprintf(head, sizeof head, "%" PRId64 " %d %zu\n", s->sent_date,
                     s->subject_reply != 0, s->nparts);
    put(&o, head, (size_t)n);
    for (size_t i = 0; i < s->nparts; i++)
        put_part(&o, &s->parts[i]);
    if (o.failed || o.n > MIME_MAX_CACHE_TEXT) {
        free(o.s);
        return NULL;
    }
    return o.s;
}

/* ---- reading ---- */

struct in {
    const char *p;
    bool bad;
};

/* A decimal number without sign or leading junk, then the separator. */
static uint64_t get_u64(struct in *in, char sep)
{
    uint64_t v = 0;
    const char *p = in->p;
    if (in->bad || *p < '0' || *p > '9') {
        in->bad = true;
        return 0;
    }
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9') {
        in->bad = true; /* one spelling per number: no leading zeros */
        return 0;
    }
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
            in->bad = true;
            return 0;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (*p != sep) {
        in->bad = true;
        return 0;
    }
    in->p = p + 1;
    return v;
}

static int64_t get_i64(struct in *in, char sep)
{
    bool neg = *in->p == '-';
    if (neg)
        in->p++;
    uint64_t v = get_u64(in, sep);
    if (v > (uint64_t)INT64_MAX || (neg && v == 0)) {
        in->bad = true;
        return 0;
    }
    if (neg)
        return -(int64_t)v;
    return (int64_t)v;
}

/* "<len>:<bytes>"; *len gets the length. The bytes stay in the input. */
static const char *get_lstring(struct in *in, size_t *len)
{
    uint64_t n = get_u64(in, ':');
    if (in->bad || n > MIME_MAX_CACHE_TEXT || strnlen(in->p, n) != n) {
        in->bad = true;
        return NULL;
    }
    const char *s = in->p;
    in->p += n;
    *len = n;
    return s;
}

static void expect(struct in *in, char c)
{
    if (in->bad || *in->p != c)
        in->bad = true;
    else
        in->p++;
}

static char *dup_lstring(struct in *in)
{
    size_t n;
    const char *s = get_lstring(in, &n);
    expect(in, '\n');
    if (in->bad)
        return NULL;
    char *d = malloc(n + 1);
    if (!d) {
        in->bad = true;
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* "" or digits separated by single dots (RFC 9051 6.4.5 section-part). */
static bool valid_section(const char *s, size_t n)
{
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' && digit)
            digit = false;
        else if (s[i] >= '0' && s[i] <= '9')
            digit = true;
        else
            return false;
    }
    return n == 0 || digit;
}

static bool ranges_ok(const struct mime_part *p)
{
    return p->header_off <= UINT64_MAX - p->header_len &&
           p->body_off <= UINT64_MAX - p->body_len &&
           p->header_len_crlf >= p->header_len && p->body_len_crlf >= p->body_len &&
           p->msg_header_len <= p->body_len &&
           p->msg_header_len_crlf <= p->body_len_crlf &&
           p->msg_header_len_crlf >= p->msg_header_len;
}

static void get_part(struct in *in, struct mime_part *p)
{
    size_t n;
    const char *sec = get_lstring(in, &n);
    expect(in, ' ');
    if (in->bad || n >= sizeof p->section || !valid_section(sec, n)) {
        in->bad = true;
        return;
    }
    memcpy(p->section, sec, n);
    p->section[n] = '\0';
    uint64_t v[PART_NUMBERS];
    for (size_t i = 0; i < PART_NUMBERS; i++)
        v[i] = get_u64(in, i + 1 < PART_NUMBERS ? ' ' : '\n');
    p->header_off = v[0];
    p->header_len = v[1];
    p->header_len_crlf = v[2];
    p->body_off = v[3];
    p->body_len = v[4];
    p->body_len_crlf = v[5];
    p->lines = v[6];
    p->is_message = v[7] == 1;
    p->msg_header_len = v[8];
    p->msg_header_len_crlf = v[9];
    if (v[7] > 1 || !ranges_ok(p))
        in->bad = true;
}

static void get_parts(struct in *in, struct mime_summary *s)
{
    s->sent_date = get_i64(in, ' ');
    uint64_t reply = get_u64(in, ' ');
    uint64_t n = get_u64(in, '\n');
    if (in->bad || reply > 1 || n == 0 || n > MIME_MAX_PARTS * 2) {
        in->bad = true;
        return;
    }
    s->subject_reply = (int)reply;
    s->parts = calloc(n, sizeof *s->parts);
    if (!s->parts) {
        in->bad = true;
        return;
    }
    for (s->nparts = 0; s->nparts < n && !in->bad; s->nparts++)
        get_part(in, &s->parts[s->nparts]);
    if (!in->bad && (s->parts[0].section[0] || *in->p))
        in->bad = true; /* parts[0] is the message; nothing may follow */
}

struct mime_summary *mime_summary_parse(const char *text)
{
    if (!text || strncmp(text, CACHE_MAGIC, strlen(CACHE_MAGIC)) != 0)
        return NULL;
    struct mime_summary *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    struct in in = {.p = text + strlen(CACHE_MAGIC)};
    char **strs[MIME_SUMMARY_NSTRINGS];
    mime_summary_strings(s, strs);
    for (size_t i = 0; i < MIME_SUMMARY_NSTRINGS && !in.bad; i++)
        *strs[i] = dup_lstring(&in);
    if (!in.bad)
        get_parts(&in, s);
    if (in.bad) {
        mime_summary_free(s);
        return NULL;
    }
    return s;
}

const char *mime_summary_envelope(const char *text, size_t *len)
{
    if (!text || strncmp(text, CACHE_MAGIC, strlen(CACHE_MAGIC)) != 0)
        return NULL;
    struct in in = {text + strlen(CACHE_MAGIC), false};
    const char *env = get_lstring(&in, len); /* the first string (summary_cache.h) */
    expect(&in, '\n');
    if (in.bad)
        return NULL;
    return env;
}
