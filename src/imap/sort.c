/* sort: RFC 5256 section 3 SORT over arrays of keys (see sort.h). */
#include "imap/sort.h"

#include <stdlib.h>

struct sort_ctx {
    const struct sort_criterion *crit;
    size_t ncrit;
};

int sort_strcmp(const char *a, const char *b)
{
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    for (;; x++, y++) {
        unsigned cx = *x, cy = *y;
        if (cx >= 'A' && cx <= 'Z')
            cx += 'a' - 'A';
        if (cy >= 'A' && cy <= 'Z')
            cy += 'a' - 'A';
        if (cx != cy)
            return (cx > cy) - (cx < cy);
        if (cx == 0)
            return 0;
    }
}

/* RFC 5256 2.2: "If the sent date cannot be determined ... the
 * INTERNALDATE for that message is used as the sent date." */
int64_t sort_sent_date(const struct sort_item *it)
{
    if (it->date != 0)
        return it->date;
    return it->arrival;
}

static int cmp_num(int64_t a, int64_t b)
{
    if (a < b)
        return -1;
    if (a > b)
        return 1;
    return 0;
}

static int cmp_key(const struct sort_item *a, const struct sort_item *b, enum sort_key k)
{
    switch (k) {
    case SORT_ARRIVAL:
        return cmp_num(a->arrival, b->arrival);
    case SORT_DATE:
        return cmp_num(sort_sent_date(a), sort_sent_date(b));
    case SORT_SIZE:
        return (a->size > b->size) - (a->size < b->size);
    case SORT_CC:
        return sort_strcmp(a->cc, b->cc);
    case SORT_FROM:
        return sort_strcmp(a->from, b->from);
    case SORT_TO:
        return sort_strcmp(a->to, b->to);
    case SORT_SUBJECT:
        return sort_strcmp(a->subject, b->subject);
    case SORT_DISPLAYFROM:
        return sort_strcmp(a->display_from, b->display_from);
    case SORT_DISPLAYTO:
        return sort_strcmp(a->display_to, b->display_to);
    }
    return 0;
}

static int cmp_items(const void *pa, const void *pb, void *arg)
{
    const struct sort_item *a = pa, *b = pb;
    const struct sort_ctx *ctx = arg;
    for (size_t i = 0; i < ctx->ncrit; i++) {
        int c = cmp_key(a, b, ctx->crit[i].key);
        if (ctx->crit[i].reverse)
            c = -c;
        if (c != 0)
            return c;
    }
    /* RFC 5256 3: exact matches keep the order of the mailbox. */
    return cmp_num(a->seq, b->seq);
}

void sort_items(struct sort_item *items, size_t n, const struct sort_criterion *crit,
                size_t ncrit)
{
    struct sort_ctx ctx = {crit, ncrit};
    if (n > 1)
        qsort_r(items, n, sizeof *items, cmp_items, &ctx);
}
