/* addr: RFC 5322 3.4 address-list parsing for ENVELOPE and the sort keys
 * (see addr.h). A tokenizer (atoms, quoted strings, comments, domain
 * literals, specials) and a small recursive reader over it. Whatever does
 * not parse is skipped up to the next comma, never fatal. */
#include "mime/addr.h"

#include "mime/limits.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum tok_kind { T_END, T_WORD, T_QUOTED, T_SPECIAL, T_LITERAL };

struct tok {
    enum tok_kind kind;
    char c;     /* T_SPECIAL */
    char *text; /* T_WORD, T_QUOTED (unquoted), T_LITERAL ("[...]") */
    bool space_before;
};

struct lexer {
    const char *p;
    char *comment; /* the last comment seen, unquoted (name fallback) */
    bool nomem;
};

struct reader {
    struct lexer lx;
    struct tok t; /* the current token */
    struct mime_addr_list *out;
};

static bool is_special(char c)
{
    switch (c) {
    case '(':
    case ')':
    case '<':
    case '>':
    case '[':
    case ']':
    case ':':
    case ';':
    case '@':
    case '\\':
    case ',':
    case '.':
    case '"':
        return true;
    default:
        return false;
    }
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char *dup_n(struct lexer *lx, const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) {
        lx->nomem = true;
        return NULL;
    }
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

/* A quoted string or a comment body: the closing char ends it, backslash
 * quotes the next char; comments nest (RFC 5322 3.2.2). */
static char *unquote(struct lexer *lx, char open, char close)
{
    size_t cap = strlen(lx->p) + 1, n = 0;
    char *d = malloc(cap);
    int depth = 1;
    if (!d) {
        lx->nomem = true;
        return NULL;
    }
    for (lx->p++; *lx->p; lx->p++) {
        if (*lx->p == '\\' && lx->p[1]) {
            d[n++] = *++lx->p;
            continue;
        }
        if (*lx->p == open && open != close)
            depth++;
        if (*lx->p == close && --depth == 0) {
            lx->p++;
            break;
        }
        if (*lx->p != '\r' && *lx->p != '\n')
            d[n++] = *lx->p;
    }
    d[n] = '\0';
    return d;
}

/* Whitespace and comments (CFWS) before a token. */
static bool skip_cfws(struct lexer *lx)
{
    bool space = false;
    for (;;) {
        while (is_ws(*lx->p)) {
            lx->p++;
            space = true;
        }
        if (*lx->p != '(')
            return space;
        free(lx->comment);
        lx->comment = unquote(lx, '(', ')');
        space = true;
    }
}

static void tok_clear(struct tok *t)
{
    free(t->text);
    memset(t, 0, sizeof *t);
}

static void lex(struct lexer *lx, struct tok *t)
{
    tok_clear(t);
    t->space_before = skip_cfws(lx);
    const char *s = lx->p;
    if (!*s) {
        t->kind = T_END;
    } else if (*s == '"') {
        t->kind = T_QUOTED;
        t->text = unquote(lx, '"', '"');
    } else if (*s == '[') {
        const char *e = strchr(s, ']');
        size_t n = e ? (size_t)(e - s) + 1 : strlen(s);
        t->kind = T_LITERAL;
        t->text = dup_n(lx, s, n);
        lx->p += n;
    } else if (is_special(*s)) {
        t->kind = T_SPECIAL;
        t->c = *s;
        lx->p++;
    } else {
        size_t n = 0;
        while (s[n] && !is_special(s[n]) && !is_ws(s[n]))
            n++;
        t->kind = T_WORD;
        t->text = dup_n(lx, s, n);
        lx->p += n;
    }
}

static void next(struct reader *r)
{
    lex(&r->lx, &r->t);
}

static bool is(const struct reader *r, char c)
{
    return r->t.kind == T_SPECIAL && r->t.c == c;
}

/* ---- a growable string ---- */

struct sbuf {
    char *s;
    size_t n, cap;
    bool nomem;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = (b->n + n + 1) * 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->nomem = true;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

/* ---- the grammar ---- */

/* A phrase (display name, group name): words and quoted strings joined
 * by single spaces; dots are kept (obs-phrase). Stops at a special. */
static void read_phrase(struct reader *r, struct sbuf *b)
{
    while (r->t.kind == T_WORD || r->t.kind == T_QUOTED || is(r, '.')) {
        if (b->n && r->t.space_before)
            sb_str(b, " ");
        if (is(r, '.'))
            sb_str(b, ".");
        else
            sb_str(b, r->t.text);
        next(r);
    }
}

/* A local part or domain: words, quoted strings, literals and dots,
 * concatenated (CFWS between them dropped). */
static void read_dotted(struct reader *r, struct sbuf *b)
{
    while (r->t.kind == T_WORD || r->t.kind == T_QUOTED || r->t.kind == T_LITERAL ||
           is(r, '.')) {
        if (is(r, '.'))
            sb_str(b, ".");
        else
            sb_str(b, r->t.text);
        next(r);
    }
}

static char *take(struct sbuf *b)
{
    char *s = b->s;
    memset(b, 0, sizeof *b);
    return s;
}

static int push(struct reader *r, enum mime_addr_kind kind, char *name, char *route,
                char *mailbox, char *host)
{
    struct mime_addr_list *l = r->out;
    if (l->n >= MIME_MAX_ADDRESSES || r->lx.nomem)
        goto drop;
    struct mime_addr *na = realloc(l->a, (l->n + 1) * sizeof *na);
    if (!na) {
        r->lx.nomem = true;
        goto drop;
    }
    l->a = na;
    na[l->n++] = (struct mime_addr){kind, name, route, mailbox, host};
    return 0;
drop:
    free(name);
    free(route);
    free(mailbox);
    free(host);
    return -1;
}

static char *dup_or(struct reader *r, char *s, const char *fallback)
{
    if (s && *s)
        return s;
    free(s);
    return dup_n(&r->lx, fallback, strlen(fallback));
}

/* "<" [obs-route] addr-spec ">" after the display name. */
static void read_angle(struct reader *r, char *name)
{
    struct sbuf route = {0}, local = {0}, domain = {0};
    next(r);
    while (is(r, '@') || is(r, ',')) { /* RFC 5322 4.4 obs-route */
        if (is(r, '@') && route.n)
            sb_str(&route, ",");
        if (is(r, '@'))
            sb_str(&route, "@");
        next(r);
        read_dotted(r, &route);
    }
    if (is(r, ':'))
        next(r);
    read_dotted(r, &local);
    if (is(r, '@')) {
        next(r);
        read_dotted(r, &domain);
    }
    while (r->t.kind != T_END && !is(r, '>'))
        next(r);
    if (is(r, '>'))
        next(r);
    push(r, MIME_ADDR_MAILBOX, name, take(&route),
         dup_or(r, take(&local), "MISSING_MAILBOX"),
         dup_or(r, take(&domain), "MISSING_DOMAIN"));
}

/* One mailbox (name-addr or addr-spec) whose leading phrase is in b. */
static void read_mailbox_rest(struct reader *r, struct sbuf *phrase)
{
    if (is(r, '<')) {
        char *name = take(phrase);
        read_angle(r, name);
        return;
    }
    /* addr-spec: the words read as a phrase were the local part. */
    struct sbuf local = {0}, domain = {0};
    char *words = take(phrase);
    if (words)
        sb_str(&local, words);
    free(words);
    read_dotted(r, &local);
    if (is(r, '@')) {
        next(r);
        read_dotted(r, &domain);
    }
    char *name = NULL;
    if (r->lx.comment && *r->lx.comment)
        name = dup_n(&r->lx, r->lx.comment, strlen(r->lx.comment));
    push(r, MIME_ADDR_MAILBOX, name, NULL, dup_or(r, take(&local), "MISSING_MAILBOX"),
         dup_or(r, take(&domain), "MISSING_DOMAIN"));
}

/* Skips to the end of a broken address: the next ',' / ';' or the end. */
static void recover(struct reader *r)
{
    while (r->t.kind != T_END && !is(r, ',') && !is(r, ';'))
        next(r);
}

static void read_address(struct reader *r, bool in_group)
{
    struct sbuf phrase = {0};
    free(r->lx.comment);
    r->lx.comment = NULL;
    read_phrase(r, &phrase);
    if (is(r, ':') && !in_group) {
        next(r);
        push(r, MIME_ADDR_GROUP_START, dup_or(r, take(&phrase), ""), NULL, NULL, NULL);
        while (r->t.kind != T_END && !is(r, ';') && !r->lx.nomem) {
            if (is(r, ','))
                next(r);
            else
                read_address(r, true);
        }
        if (is(r, ';'))
            next(r);
        push(r, MIME_ADDR_GROUP_END, NULL, NULL, NULL, NULL);
        return;
    }
    if (phrase.n || is(r, '<') || is(r, '@') || r->t.kind == T_LITERAL)
        read_mailbox_rest(r, &phrase);
    free(phrase.s);
    recover(r);
}

int mime_addr_parse(const char *value, struct mime_addr_list *out)
{
    memset(out, 0, sizeof *out);
    struct reader r = {.lx = {.p = value ? value : ""}, .out = out};
    next(&r);
    while (r.t.kind != T_END && !r.lx.nomem) {
        if (is(&r, ',') || is(&r, ';') || is(&r, '>') || is(&r, ':'))
            next(&r);
        else
            read_address(&r, false);
    }
    tok_clear(&r.t);
    free(r.lx.comment);
    if (r.lx.nomem) {
        mime_addr_release(out);
        return -1;
    }
    return 0;
}

void mime_addr_release(struct mime_addr_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->a[i].name);
        free(l->a[i].route);
        free(l->a[i].mailbox);
        free(l->a[i].host);
    }
    free(l->a);
    memset(l, 0, sizeof *l);
}

size_t mime_addr_mailboxes(const struct mime_addr_list *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->a[i].kind == MIME_ADDR_MAILBOX)
            n++;
    return n;
}
