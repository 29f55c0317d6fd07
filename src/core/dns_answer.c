/* dns_answer: walks a DNS response (RFC 1035 4.1: header, question,
 * answer RRs) and keeps the records of the asked type with the smallest
 * TTL. Names are expanded with c-ares (compression pointers, loops and
 * bounds are its job). */
#include "core/dns_answer.h"

#include <ares.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define DNS_HEADER_LEN 12

static const uint16_t rr_types[] = {
    [DNS_A] = 1, [DNS_AAAA] = 28, [DNS_MX] = 15, [DNS_TXT] = 16, [DNS_TLSA] = 52};

static size_t rec_size(enum dns_type t)
{
    switch (t) {
    case DNS_A:
        return sizeof(struct in_addr);
    case DNS_AAAA:
        return sizeof(struct in6_addr);
    case DNS_MX:
        return sizeof(struct dns_mx);
    case DNS_TXT:
        return sizeof(char *);
    case DNS_TLSA:
        return sizeof(struct dns_tlsa);
    }
    return 0;
}

static uint16_t get16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Skips the name at p; the bytes it takes in place, or -1. */
static long name_len(const unsigned char *p, const unsigned char *msg, size_t len)
{
    char *name = NULL;
    long enc = 0;
    if (ares_expand_name(p, msg, (int)len, &name, &enc) != ARES_SUCCESS)
        return -1;
    ares_free_string(name);
    return enc;
}

static void lower_copy(char *dst, size_t dlen, const char *src)
{
    size_t n = strlen(src);
    while (n > 0 && src[n - 1] == '.')
        n--;
    if (n >= dlen)
        n = dlen - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[n] = '\0';
}

static int parse_mx(struct dns_mx *mx, const unsigned char *rd, size_t rdlen,
                    const unsigned char *msg, size_t len)
{
    if (rdlen < 3)
        return -1;
    mx->preference = get16(rd);
    char *name = NULL;
    long enc = 0;
    if (ares_expand_name(rd + 2, msg, (int)len, &name, &enc) != ARES_SUCCESS)
        return -1;
    lower_copy(mx->host, sizeof mx->host, name);
    ares_free_string(name);
    return 0;
}

/* RFC 1035 3.3.14: one or more <character-string>s, joined (RFC 7208 3.3). */
static char *parse_txt(const unsigned char *rd, size_t rdlen)
{
    char *s = malloc(rdlen + 1);
    if (!s)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < rdlen;) {
        size_t n = rd[i++];
        if (n > rdlen - i) {
            free(s);
            return NULL;
        }
        memcpy(s + o, rd + i, n);
        o += n;
        i += n;
    }
    s[o] = '\0';
    return s;
}

static int parse_tlsa(struct dns_tlsa *t, const unsigned char *rd, size_t rdlen)
{
    if (rdlen < 4)
        return -1;
    t->usage = rd[0];
    t->selector = rd[1];
    t->mtype = rd[2];
    t->len = rdlen - 3;
    unsigned char *d = malloc(t->len);
    if (!d)
        return -1;
    memcpy(d, rd + 3, t->len);
    t->data = d;
    return 0;
}

/* Adds one record's rdata to a (room for DNS_MAX_RECORDS is there). */
static int add_record(struct dns_answer *a, enum dns_type type, const unsigned char *rd,
                      size_t rdlen, const unsigned char *msg, size_t len)
{
    char *rec = (char *)a->recs + a->n * rec_size(type);
    switch (type) {
    case DNS_A:
    case DNS_AAAA:
        if (rdlen != rec_size(type))
            return -1;
        memcpy(rec, rd, rdlen);
        break;
    case DNS_MX:
        if (parse_mx((struct dns_mx *)rec, rd, rdlen, msg, len) < 0)
            return -1;
        break;
    case DNS_TXT:
        a->strs[a->n] = parse_txt(rd, rdlen);
        if (!a->strs[a->n])
            return -1;
        break;
    case DNS_TLSA:
        if (parse_tlsa((struct dns_tlsa *)rec, rd, rdlen) < 0)
            return -1;
        break;
    }
    a->n++;
    return 0;
}

static int cmp_mx(const void *x, const void *y)
{
    const struct dns_mx *a = x, *b = y;
    if (a->preference != b->preference)
        return a->preference < b->preference ? -1 : 1;
    return 0;
}

/* qsort is not stable; insertion sort is, and n <= DNS_MAX_RECORDS. */
static void sort_mx(struct dns_mx *mx, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct dns_mx cur = mx[i];
        size_t j = i;
        while (j > 0 && cmp_mx(&mx[j - 1], &cur) > 0) {
            mx[j] = mx[j - 1];
            j--;
        }
        mx[j] = cur;
    }
}

static int walk_answers(const unsigned char *msg, size_t len, enum dns_type type,
                        struct dns_answer *out)
{
    size_t qd = get16(msg + 4), an = get16(msg + 6);
    size_t at = DNS_HEADER_LEN;
    for (size_t i = 0; i < qd; i++) {
        long n = name_len(msg + at, msg, len);
        if (n < 0 || at + (size_t)n + 4 > len)
            return -1;
        at += (size_t)n + 4;
    }
    out->ttl = DNS_MAX_TTL;
    for (size_t i = 0; i < an; i++) {
        long n = name_len(msg + at, msg, len);
        if (n < 0 || at + (size_t)n + 10 > len)
            return -1;
        at += (size_t)n;
        uint16_t rtype = get16(msg + at), rclass = get16(msg + at + 2);
        uint32_t ttl = get32(msg + at + 4);
        size_t rdlen = get16(msg + at + 8);
        at += 10;
        if (at + rdlen > len)
            return -1;
        if (rtype == rr_types[type] && rclass == 1 && out->n < DNS_MAX_RECORDS) {
            if (add_record(out, type, msg + at, rdlen, msg, len) < 0)
                return -1;
            if (ttl < out->ttl)
                out->ttl = ttl;
        }
        at += rdlen;
    }
    return 0;
}

int dns_answer_parse(const unsigned char *msg, size_t len, enum dns_type type,
                     struct dns_answer *out)
{
    memset(out, 0, sizeof *out);
    out->type = type;
    if (len < DNS_HEADER_LEN)
        return -1;
    out->recs = calloc(DNS_MAX_RECORDS, rec_size(type));
    if (!out->recs)
        return -1;
    if (type == DNS_TXT)
        out->strs = out->recs;
    if (walk_answers(msg, len, type, out) < 0) {
        dns_answer_clear(out);
        return -1;
    }
    if (type == DNS_MX)
        sort_mx(out->recs, out->n);
    out->status = DNS_OK;
    if (out->n == 0) {
        out->status = DNS_NODATA;
        out->ttl = DNS_NEGATIVE_TTL;
    }
    return 0;
}

void dns_answer_clear(struct dns_answer *a)
{
    for (size_t i = 0; a->strs && i < a->n; i++)
        free(a->strs[i]);
    struct dns_tlsa *t = a->recs;
    for (size_t i = 0; a->type == DNS_TLSA && i < a->n; i++)
        free((void *)t[i].data);
    free(a->recs);
    memset(a, 0, sizeof *a);
}

void dns_answer_view(const struct dns_answer *a, struct dns_result *r)
{
    r->status = a->status;
    r->ttl = a->ttl;
    r->n = a->n;
    r->u.a = a->recs;
}
