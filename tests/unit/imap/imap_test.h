/* imap_test: helpers shared by the IMAP syntax tests: a parser over a
 * text and in-memory literals, and a "truncated at every byte" driver. */
#pragma once
#include <stdlib.h>
#include <string.h>

#include "core/session.h"
#include "imap/parse.h"

struct t_cmd {
    char err[256];
    struct session_literal lits[8];
    size_t nlits;
    struct imap_parser *p;
};

/* A parser over text and the NULL-terminated literal strings lits. */
static inline struct imap_parser *t_parser(struct t_cmd *c, const char *text,
                                           const char *const *lits, unsigned flags)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; lits != NULL && lits[i] != NULL && i < 8; i++) {
        c->lits[i] = (struct session_literal){
            .len = strlen(lits[i]), .data = (char *)lits[i], .fd = -1};
        c->nlits++;
    }
    c->p = imap_parser_new(text, c->lits, c->nlits, flags, c->err, sizeof c->err);
    return c->p;
}

/* Runs fn over every prefix of text (as a separate heap copy, so that
 * ASan sees any read past its end); fn must not crash. Returns how many
 * prefixes parsed successfully. */
static inline size_t t_truncations(const char *text, int (*fn)(struct imap_parser *p))
{
    size_t n = strlen(text), ok = 0;
    for (size_t i = 0; i <= n; i++) {
        char *copy = malloc(i + 1);
        memcpy(copy, text, i);
        copy[i] = '\0';
        char err[128];
        struct imap_parser *p =
            imap_parser_new(copy, NULL, 0, IMAP_PARSE_UTF8, err, sizeof err);
        if (fn(p) == 0)
            ok++;
        imap_parser_free(&p);
        free(copy);
    }
    return ok;
}
