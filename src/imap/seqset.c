/* seqset: RFC 9051 9 sequence-set (seq-number = nz-number / "*",
 * seq-range = seq-number ":" seq-number, either order, 6.4.1 note) and
 * RFC 5182 "$"; resolution, membership, iteration, and the compact
 * writer. Pure. */
#include "imap/seqset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"
#include "imap/parse.h"

struct imap_seqset *imap_seqset_new(void)
{
    return calloc(1, sizeof(struct imap_seqset));
}

void imap_seqset_free(struct imap_seqset **s)
{
    if (*s == NULL)
        return;
    free((*s)->r);
    free(*s);
    *s = NULL;
}

int imap_seqset_add(struct imap_seqset *s, uint32_t lo, uint32_t hi)
{
    if (s->n >= IMAP_MAX_SEQ_RANGES)
        return -1;
    if (s->n == s->cap) {
        size_t cap = 8;
        if (s->cap > 0)
            cap = 2 * s->cap;
        struct imap_range *r = realloc(s->r, cap * sizeof *r);
        if (r == NULL)
            return -1;
        s->r = r;
        s->cap = cap;
    }
    s->r[s->n++] = (struct imap_range){lo, hi};
    if (lo == 0 || hi == 0)
        s->star = true;
    s->resolved = false;
    return 0;
}

/* seq-number: nz-number / "*" (0 for "*"). */
static int seq_number(struct imap_parser *p, unsigned flags, uint32_t *v)
{
    if (imap_accept(p, '*')) {
        if (flags & IMAP_SEQ_NO_STAR)
            return imap_error(p, "'*' is not allowed here");
        *v = 0;
        return 0;
    }
    if (imap_peek(p) < '0' || imap_peek(p) > '9')
        return imap_error(p, "Invalid sequence set");
    return imap_nz_number(p, v);
}

static int parse_ranges(struct imap_parser *p, unsigned flags, struct imap_seqset *s)
{
    do {
        uint32_t lo, hi;
        if (seq_number(p, flags, &lo) < 0)
            return -1;
        hi = lo;
        if (imap_accept(p, ':') && seq_number(p, flags, &hi) < 0)
            return -1;
        if (imap_seqset_add(s, lo, hi) < 0)
            return imap_error(p, "Too many ranges in sequence set");
    } while (imap_accept(p, ','));
    return 0;
}

int imap_seqset_parse(struct imap_parser *p, unsigned flags, struct imap_seqset **out)
{
    struct imap_seqset *s = imap_seqset_new();
    if (s == NULL)
        return imap_error(p, "Out of memory");
    if (imap_accept(p, '$')) {
        /* RFC 5182 2.1: "$" stands alone as the whole set */
        s->saved = true;
        if (!(flags & IMAP_SEQ_ALLOW_SAVED)) {
            imap_seqset_free(&s);
            return imap_error(p, "'$' is not allowed here");
        }
    } else if (parse_ranges(p, flags, s) < 0) {
        imap_seqset_free(&s);
        return -1;
    }
    *out = s;
    return 0;
}

static int range_cmp(const void *a, const void *b)
{
    const struct imap_range *x = a, *y = b;
    if (x->lo < y->lo)
        return -1;
    if (x->lo > y->lo)
        return 1;
    return 0;
}

int imap_seqset_resolve(struct imap_seqset *s, uint32_t star)
{
    if (s->saved)
        return -1;
    for (size_t i = 0; i < s->n; i++) {
        struct imap_range *r = &s->r[i];
        if (r->lo == 0)
            r->lo = star;
        if (r->hi == 0)
            r->hi = star;
        if (r->lo > r->hi) {
            uint32_t t = r->lo;
            r->lo = r->hi;
            r->hi = t;
        }
    }
    if (s->n > 1)
        qsort(s->r, s->n, sizeof *s->r, range_cmp);
    size_t o = 0;
    for (size_t i = 0; i < s->n; i++) {
        /* merge overlapping or adjacent ranges (hi + 1 without overflow) */
        if (o > 0 && (uint64_t)s->r[i].lo <= (uint64_t)s->r[o - 1].hi + 1) {
            if (s->r[i].hi > s->r[o - 1].hi)
                s->r[o - 1].hi = s->r[i].hi;
        } else {
            s->r[o++] = s->r[i];
        }
    }
    s->n = o;
    s->star = false;
    s->resolved = true;
    return 0;
}

struct imap_seqset *imap_seqset_from_array(const uint32_t *sorted, size_t n)
{
    struct imap_seqset *s = imap_seqset_new();
    if (s == NULL)
        return NULL;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j + 1 < n &&
               (sorted[j + 1] == sorted[j] || sorted[j + 1] == sorted[j] + 1))
            j++;
        /* from_array keeps no range limit: results may be large */
        if (s->n == s->cap) {
            size_t cap = 8;
            if (s->cap > 0)
                cap = 2 * s->cap;
            struct imap_range *r = realloc(s->r, cap * sizeof *r);
            if (r == NULL) {
                imap_seqset_free(&s);
                return NULL;
            }
            s->r = r;
            s->cap = cap;
        }
        s->r[s->n++] = (struct imap_range){sorted[i], sorted[j]};
        i = j + 1;
    }
    s->resolved = true;
    return s;
}

/* The first range whose hi >= v (binary search), or s->n. */
static size_t lower_range(const struct imap_seqset *s, uint32_t v)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->r[mid].hi < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool imap_seqset_contains(const struct imap_seqset *s, uint32_t v)
{
    size_t i = lower_range(s, v);
    return i < s->n && s->r[i].lo <= v;
}

uint64_t imap_seqset_count(const struct imap_seqset *s)
{
    uint64_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
    return n;
}

uint32_t imap_seqset_max(const struct imap_seqset *s)
{
    if (s->n == 0)
        return 0;
    return s->r[s->n - 1].hi;
}

bool imap_seqset_next(const struct imap_seqset *s, struct imap_seqset_iter *it,
                      uint32_t *v)
{
    while (it->i < s->n) {
        const struct imap_range *r = &s->r[it->i];
        if (it->next < r->lo)
            it->next = r->lo;
        if (it->next <= r->hi) {
            *v = (uint32_t)it->next++;
            return true;
        }
        it->i++;
    }
    return false;
}

/* The first index of sorted[from..n) with a value >= v. */
static size_t lower_value(const uint32_t *sorted, size_t from, size_t n, uint32_t v)
{
    size_t lo = from, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sorted[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t imap_seqset_filter(const struct imap_seqset *s, const uint32_t *sorted, size_t n,
                          size_t *idx)
{
    size_t k = 0, j = 0;
    for (size_t i = 0; i < s->n && j < n; i++) {
        j = lower_value(sorted, j, n, s->r[i].lo);
        while (j < n && sorted[j] <= s->r[i].hi)
            idx[k++] = j++;
    }
    return k;
}

/* Appends text to out at *len, keeping snprintf semantics. */
static void emit(char *out, size_t outlen, size_t *len, const char *text)
{
    size_t n = strlen(text);
    if (*len < outlen) {
        size_t room = outlen - *len - 1;
        size_t c = n;
        if (c > room)
            c = room;
        memcpy(out + *len, text, c);
        out[*len + c] = '\0';
    }
    *len += n;
}

size_t imap_seqset_format(const uint32_t *sorted, size_t n, char *out, size_t outlen)
{
    size_t len = 0;
    if (outlen > 0)
        out[0] = '\0';
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j + 1 < n &&
               (sorted[j + 1] == sorted[j] || sorted[j + 1] == sorted[j] + 1))
            j++;
        char buf[32];
        const char *sep = "";
        if (len > 0)
            sep = ",";
        if (sorted[j] != sorted[i])
            snprintf(buf, sizeof buf, "%s%u:%u", sep, sorted[i], sorted[j]);
        else
            snprintf(buf, sizeof buf, "%s%u", sep, sorted[i]);
        emit(out, outlen, &len, buf);
        i = j + 1;
    }
    return len;
}
