/* fuzz_imap_args: the IMAP command argument parsers (FETCH, STORE, LIST,
 * SELECT, STATUS, APPEND-style flags and date, any value) over text and
 * literals; the first byte picks the parser. Also resolves and walks what
 * was parsed, and writes it back as a compact set. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "imap/args_parse.h"
#include "imap/fetch_parse.h"
#include "imap/parse.h"
#include "imap/pattern.h"
#include "imap/seqset.h"

static void walk_set(struct imap_seqset *s)
{
    if (s == NULL || s->saved || imap_seqset_resolve(s, 1000) < 0)
        return;
    uint32_t v, vals[64];
    size_t n = 0;
    struct imap_seqset_iter it = {0};
    while (n < 64 && imap_seqset_next(s, &it, &v))
        vals[n++] = v;
    char buf[256];
    imap_seqset_format(vals, n, buf, sizeof buf);
    size_t idx[64];
    imap_seqset_filter(s, vals, n, idx);
    imap_seqset_contains(s, 500);
}

static void fetch(struct imap_parser *p)
{
    struct imap_fetch *f;
    if (imap_fetch_parse(p, true, &f) < 0)
        return;
    char name[512];
    for (size_t i = 0; i < f->n; i++)
        imap_fetch_item_name(&f->items[i], name, sizeof name);
    walk_set(f->set);
    imap_fetch_free(&f);
}

static void store(struct imap_parser *p)
{
    struct imap_store *s;
    if (imap_store_parse(p, &s) == 0) {
        walk_set(s->set);
        imap_store_free(&s);
    }
}

static void list(struct imap_parser *p)
{
    struct imap_list l;
    if (imap_list_parse(p, &l) < 0)
        return;
    for (size_t i = 0; i < l.npatterns; i++)
        imap_pattern_match(l.patterns[i], "INBOX/Sent/2024", '/');
}

static void other(struct imap_parser *p, int which)
{
    struct imap_select sel;
    const char *mbox;
    unsigned items;
    struct imap_flags fl;
    int64_t t;
    int zone;
    if (which == 3 && imap_select_parse(p, &sel) == 0)
        imap_select_clear(&sel);
    if (which == 4)
        imap_status_parse(p, &mbox, &items);
    if (which == 5 && imap_flag_list(p, &fl) == 0 && imap_sp(p) == 0)
        imap_date_time(p, &t, &zone);
    if (which == 6)
        while (imap_skip_value(p) == 0 && imap_accept(p, ' '))
            ;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct fuzz_cmd c;
    fuzz_cmd_make(&c, data + 1, size - 1);
    char err[256];
    unsigned flags = (data[0] >> 4) & 3;
    struct imap_parser *p =
        imap_parser_new(c.text, c.lits, c.nlits, flags, err, sizeof err);
    int which = data[0] % 7;
    if (which == 0)
        fetch(p);
    else if (which == 1)
        store(p);
    else if (which == 2)
        list(p);
    else
        other(p, which);
    imap_parser_free(&p);
    fuzz_cmd_free(&c);
    return 0;
}
