/* test_imap_search: SEARCH programs (every key, nested OR/NOT, groups,
 * CHARSET, RETURN), the node and nesting limits, SORT and THREAD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "imap/search_parse.h"
#include "imap/seqset.h"
#include "imap_test.h"

/* The tree written back as text: "AND(SEEN,OR(FROM=x,NOT(DELETED)))". */
static void dump(const struct imap_search_node *n, char *out, size_t len)
{
    for (; n != NULL; n = n->next) {
        size_t l = strlen(out);
        snprintf(out + l, len - l, "%s", imap_search_key_name(n->key));
        l = strlen(out);
        if (n->field != NULL)
            snprintf(out + l, len - l, ":%s", n->field);
        l = strlen(out);
        if (n->str != NULL)
            snprintf(out + l, len - l, "=%s", n->str);
        l = strlen(out);
        if (n->child != NULL) {
            snprintf(out + l, len - l, "(");
            dump(n->child, out, len);
            l = strlen(out);
            snprintf(out + l, len - l, ")");
        }
        l = strlen(out);
        if (n->next != NULL)
            snprintf(out + l, len - l, ",");
    }
}

static int search(const char *text, const char *const *lits, char *tree, size_t len,
                  struct imap_search **out)
{
    /* strings live in the parser: keep it until the next call */
    static struct t_cmd c;
    imap_parser_free(&c.p);
    struct imap_parser *p = t_parser(&c, text, lits, 0);
    struct imap_search *s = NULL;
    int r = imap_search_parse(p, &s);
    if (r == 0) {
        tree[0] = '\0';
        dump(s->root, tree, len);
    }
    if (out != NULL)
        *out = s;
    else
        imap_search_free(&s);
    return r;
}

static void test_keys(void **state)
{
    char t[1024];
    assert_int_equal(search("ALL", NULL, t, sizeof t, NULL), 0);
    assert_string_equal(t, "AND(ALL)");
    assert_int_equal(search("OR (FROM \"a b\" NOT SEEN) OR TO c NOT NOT DELETED", NULL, t,
                            sizeof t, NULL),
                     0);
    assert_string_equal(t, "AND(OR(AND(FROM=a b,NOT(SEEN)),OR(TO=c,NOT(NOT(DELETED)))))");
    assert_int_equal(search("HEADER Message-ID {4} unseen keyword $Junk",
                            (const char *[]){"<x@>", NULL}, t, sizeof t, NULL),
                     0);
    assert_string_equal(t, "AND(HEADER:Message-ID=<x@>,UNSEEN,KEYWORD=$Junk)");
    const char *every =
        "ANSWERED BCC x BEFORE 1-Jan-2024 BODY y CC z DELETED DRAFT FLAGGED "
        "FROM a HEADER b c KEYWORD k LARGER 10 NOT ALL ON 2-Feb-2020 OR ALL ALL "
        "SEEN SENTBEFORE 1-Jan-2000 SENTON 1-Jan-2000 SENTSINCE 1-Jan-2000 "
        "SINCE 1-Jan-2000 SMALLER 5 SUBJECT s TEXT t TO u UID 1:* UNANSWERED "
        "UNDELETED UNDRAFT UNFLAGGED UNKEYWORD k UNSEEN 1,2:3 (ALL) NEW OLD "
        "RECENT UNRECENT EMAILID M1 THREADID T-1 $ UID $";
    struct imap_search *s;
    assert_int_equal(search(every, NULL, t, sizeof t, &s), 0);
    size_t n = 0;
    for (const struct imap_search_node *k = s->root->child; k; k = k->next)
        n++;
    assert_int_equal(n, 41);
    imap_search_free(&s);
}

static void test_args(void **state)
{
    char t[256];
    struct imap_search *s;
    assert_int_equal(
        search("LARGER 4294967296 SINCE \"1-Feb-2024\"", NULL, t, sizeof t, &s), 0);
    assert_int_equal(s->root->child->num, 4294967296ull);
    assert_int_equal(s->root->child->next->date, 19754);
    imap_search_free(&s);
    assert_int_equal(
        search("MODSEQ \"/flags/\\\\Draft\" all 620162338", NULL, t, sizeof t, &s), 0);
    assert_true(s->modseq);
    assert_string_equal(s->root->child->entry, "\\Draft");
    assert_int_equal(s->root->child->num, 620162338);
    imap_search_free(&s);
    assert_int_equal(search("MODSEQ 5", NULL, t, sizeof t, &s), 0);
    assert_null(s->root->child->entry);
    imap_search_free(&s);
    assert_int_equal(search("UID 5:*,7", NULL, t, sizeof t, &s), 0);
    assert_int_equal(imap_seqset_resolve(s->root->child->set, 6), 0);
    assert_true(imap_seqset_contains(s->root->child->set, 7));
    assert_false(imap_seqset_contains(s->root->child->set, 8));
    imap_search_free(&s);
}

static void test_charset_return(void **state)
{
    char t[256];
    struct imap_search *s;
    assert_int_equal(search("CHARSET utf-8 ALL", NULL, t, sizeof t, NULL), 0);
    assert_int_equal(search("CHARSET \"US-ASCII\" ALL", NULL, t, sizeof t, NULL), 0);
    assert_int_equal(search("CHARSET KOI8-R ALL", NULL, t, sizeof t, NULL),
                     IMAP_SEARCH_BADCHARSET);
    assert_int_equal(search("RETURN (MIN COUNT) ALL", NULL, t, sizeof t, &s), 0);
    assert_true(s->esearch);
    assert_int_equal(s->ret, IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_COUNT);
    imap_search_free(&s);
    assert_int_equal(search("RETURN () CHARSET UTF-8 SEEN", NULL, t, sizeof t, &s), 0);
    assert_int_equal(s->ret, IMAP_SEARCH_RET_ALL);
    imap_search_free(&s);
    assert_int_equal(search("RETURN (SAVE MAX ALL) 1:*", NULL, t, sizeof t, &s), 0);
    assert_int_equal(s->ret,
                     IMAP_SEARCH_RET_SAVE | IMAP_SEARCH_RET_MAX | IMAP_SEARCH_RET_ALL);
    imap_search_free(&s);
}

static void test_refused(void **state)
{
    char t[256];
    const char *bad[] = {"",
                         "FOO",
                         "ALL ",
                         " ALL",
                         "ALL  SEEN",
                         "FROM",
                         "NOT",
                         "OR ALL",
                         "()",
                         "(ALL",
                         "ALL)",
                         "SINCE 30-Feb-2024",
                         "LARGER x",
                         "LARGER 9223372036854775808",
                         "UID 0",
                         "UID *:0",
                         "0",
                         "KEYWORD \"a\"",
                         "HEADER x",
                         "MODSEQ \"/flags/\\\\Seen\" bad 5",
                         "MODSEQ \"x\" all 5",
                         "EMAILID a.b",
                         "RETURN (FOO) ALL",
                         "RETURN ALL",
                         "CHARSET",
                         "SEEN\"",
                         "ALL {3}",
                         NULL};
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(search(bad[i], NULL, t, sizeof t, NULL), -1);
}

static void test_limits(void **state)
{
    char t[64];
    /* more than IMAP_MAX_SEARCH_NODES keys */
    size_t n = IMAP_MAX_SEARCH_NODES + 1;
    char *text = malloc(n * 5 + 1);
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, 6, "%sSEEN", i ? " " : "");
    assert_int_equal(search(text, NULL, t, sizeof t, NULL), -1);
    free(text);
    /* 10,000 nested parentheses and 10,000 NOTs */
    size_t d = 10000;
    text = malloc(d * 4 + 8);
    memset(text, '(', d);
    memcpy(text + d, "ALL", 3);
    memset(text + d + 3, ')', d);
    text[2 * d + 3] = '\0';
    assert_int_equal(search(text, NULL, t, sizeof t, NULL), -1);
    len = 0;
    for (size_t i = 0; i < d; i++)
        memcpy(text + 4 * i, "NOT ", 4);
    memcpy(text + 4 * d, "ALL", 4);
    assert_int_equal(search(text, NULL, t, sizeof t, NULL), -1);
    free(text);
}

static void test_sort_thread(void **state)
{
    struct t_cmd c;
    struct imap_sort sort;
    struct imap_search *s;
    struct imap_parser *p =
        t_parser(&c, "(REVERSE DATE subject REVERSE DISPLAYFROM) UTF-8 UNSEEN", NULL, 0);
    assert_int_equal(imap_sort_parse(p, &sort, &s), 0);
    assert_int_equal(sort.n, 3);
    assert_true(sort.keys[0].reverse);
    assert_int_equal(sort.keys[0].key, IMAP_SORT_DATE);
    assert_false(sort.keys[1].reverse);
    assert_int_equal(sort.keys[2].key, IMAP_SORT_DISPLAYFROM);
    assert_int_equal(s->root->child->key, IMAP_SK_UNSEEN);
    imap_search_free(&s);
    imap_parser_free(&p);
    p = t_parser(&c, "RETURN (COUNT) (ARRIVAL) US-ASCII ALL", NULL, 0);
    assert_int_equal(imap_sort_parse(p, &sort, &s), 0);
    assert_true(s->esearch);
    imap_search_free(&s);
    imap_parser_free(&p);
    const char *bad[] = {"() UTF-8 ALL",    "(DATE) ALL",        "(REVERSE) UTF-8 ALL",
                         "(FOO) UTF-8 ALL", "(DATE) KOI8-R ALL", NULL};
    for (size_t i = 0; bad[i]; i++) {
        p = t_parser(&c, bad[i], NULL, 0);
        assert_int_not_equal(imap_sort_parse(p, &sort, &s), 0);
        assert_null(s);
        imap_parser_free(&p);
    }
    enum imap_thread_alg alg;
    p = t_parser(&c, "REFERENCES UTF-8 SINCE 1-Feb-1994", NULL, 0);
    assert_int_equal(imap_thread_parse(p, &alg, &s), 0);
    assert_int_equal(alg, IMAP_THREAD_REFERENCES);
    imap_search_free(&s);
    imap_parser_free(&p);
    p = t_parser(&c, "orderedsubject UTF-8 ALL", NULL, 0);
    assert_int_equal(imap_thread_parse(p, &alg, &s), 0);
    assert_int_equal(alg, IMAP_THREAD_ORDEREDSUBJECT);
    imap_search_free(&s);
    imap_parser_free(&p);
    p = t_parser(&c, "THREADS UTF-8 ALL", NULL, 0);
    assert_int_equal(imap_thread_parse(p, &alg, &s), -1);
    imap_parser_free(&p);
}

static int parse_search(struct imap_parser *p)
{
    struct imap_search *s;
    int r = imap_search_parse(p, &s);
    imap_search_free(&s);
    return r;
}

static void test_truncations(void **state)
{
    size_t ok =
        t_truncations("RETURN (MIN) CHARSET UTF-8 OR (FROM \"x\" NOT SEEN) UID 1:5 "
                      "SINCE 1-Feb-2024 HEADER Subject \"hi\" LARGER 100",
                      parse_search);
    assert_true(ok >= 1 && ok < 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),           cmocka_unit_test(test_args),
        cmocka_unit_test(test_charset_return), cmocka_unit_test(test_refused),
        cmocka_unit_test(test_limits),         cmocka_unit_test(test_sort_thread),
        cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
