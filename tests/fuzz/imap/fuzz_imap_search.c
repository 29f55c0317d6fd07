/* fuzz_imap_search: the SEARCH program, SORT and THREAD arguments over
 * text and literals; the first byte picks the command and the flags. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "imap/parse.h"
#include "imap/search_parse.h"
#include "imap/seqset.h"

/* Visits every node (as the server's evaluator would). */
static size_t walk(const struct imap_search_node *n, unsigned depth)
{
    size_t count = 0;
    for (; n != NULL; n = n->next) {
        count++;
        if (depth > 1000)
            abort(); /* nesting must be bounded by the parser */
        if (n->set != NULL && !n->set->saved)
            imap_seqset_resolve(n->set, 42);
        imap_search_key_name(n->key);
        count += walk(n->child, depth + 1);
    }
    return count;
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
    struct imap_search *s = NULL;
    struct imap_sort sort;
    enum imap_thread_alg alg;
    int which = data[0] % 3, r;
    if (which == 0)
        r = imap_search_parse(p, &s);
    else if (which == 1)
        r = imap_sort_parse(p, &sort, &s);
    else
        r = imap_thread_parse(p, &alg, &s);
    if (r == 0 && walk(s->root, 0) != s->nodes)
        abort(); /* every node allocated is in the tree */
    if (r != 0 && s != NULL)
        abort();
    imap_search_free(&s);
    imap_parser_free(&p);
    fuzz_cmd_free(&c);
    return 0;
}
