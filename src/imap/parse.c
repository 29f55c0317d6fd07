/* parse: the reader's core (RFC 9051 9): the cursor, SP and end checks,
 * atoms, quoted strings, literals, astrings, numbers and lists. Flags,
 * dates and mailbox names are in parse_value.c. Pure. */
#include "imap/parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/session.h"
#include "core/utf8.h"

/* Scratch is allocated in blocks so that handed-out strings never move. */
#define SCRATCH_BLOCK 4096

struct imap_scratch_block {
    struct imap_scratch_block *next;
    size_t cap, used;
    char data[];
};

struct imap_parser *imap_parser_new(const char *args, const struct session_literal *lits,
                                    size_t nlits, unsigned flags, char *err,
                                    size_t errlen)
{
    struct imap_parser *p = calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    p->s = args;
    p->len = strlen(args);
    p->lits = lits;
    p->nlits = nlits;
    p->flags = flags;
    p->err = err;
    p->errlen = errlen;
    if (errlen > 0)
        err[0] = '\0';
    return p;
}

void imap_parser_free(struct imap_parser **p)
{
    if (*p == NULL)
        return;
    struct imap_scratch_block *b = (*p)->scratch;
    while (b != NULL) {
        struct imap_scratch_block *next = b->next;
        free(b);
        b = next;
    }
    free(*p);
    *p = NULL;
}

int imap_error(struct imap_parser *p, const char *fmt, ...)
{
    if (p->errlen == 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, p->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

char *imap_scratch_reserve(struct imap_parser *p, size_t n)
{
    struct imap_scratch_block *b = p->scratch;
    if (b == NULL || b->cap - b->used < n) {
        size_t cap = SCRATCH_BLOCK;
        if (n > cap)
            cap = n;
        b = malloc(sizeof *b + cap);
        if (b == NULL)
            return NULL;
        b->cap = cap;
        b->used = 0;
        b->next = p->scratch;
        p->scratch = b;
    }
    return b->data + b->used;
}

void imap_scratch_commit(struct imap_parser *p, size_t n)
{
    p->scratch->used += n;
}

char *imap_scratch_put(struct imap_parser *p, const char *s, size_t n)
{
    char *out = imap_scratch_reserve(p, n + 1);
    if (out == NULL)
        return NULL;
    memcpy(out, s, n);
    out[n] = '\0';
    imap_scratch_commit(p, n + 1);
    return out;
}

int imap_peek(const struct imap_parser *p)
{
    if (p->pos >= p->len)
        return -1;
    return (unsigned char)p->s[p->pos];
}

bool imap_accept(struct imap_parser *p, char c)
{
    if (p->pos < p->len && p->s[p->pos] == c) {
        p->pos++;
        return true;
    }
    return false;
}

int imap_expect(struct imap_parser *p, char c)
{
    if (imap_accept(p, c))
        return 0;
    if (imap_at_end(p))
        return imap_error(p, "Expected '%c' at end of arguments", c);
    return imap_error(p, "Expected '%c' at offset %zu", c, p->pos);
}

int imap_sp(struct imap_parser *p)
{
    if (imap_accept(p, ' '))
        return 0;
    if (imap_at_end(p))
        return imap_error(p, "Missing arguments");
    return imap_error(p, "Expected a space at offset %zu", p->pos);
}

bool imap_at_end(const struct imap_parser *p)
{
    return p->pos >= p->len;
}

int imap_end(struct imap_parser *p)
{
    if (!imap_at_end(p))
        return imap_error(p, "Unexpected text at offset %zu", p->pos);
    if (p->lit_next != p->nlits)
        return imap_error(p, "Unused literal");
    return 0;
}

/* RFC 9051 9 ATOM-CHAR: any CHAR except atom-specials ("(" ")" "{" SP CTL
 * list-wildcards quoted-specials resp-specials). */
static bool is_atom_char(unsigned char c)
{
    if (c <= 0x1f || c >= 0x7f)
        return false;
    return strchr("(){ %*\"\\]", c) == NULL;
}

/* The characters that may end a word accepted by imap_accept_word. */
static bool is_word_end(int c)
{
    return c == -1 || c == ' ' || c == '(' || c == ')' || c == '[' || c == ']';
}

bool imap_accept_word(struct imap_parser *p, const char *word)
{
    size_t n = strlen(word);
    if (n > p->len - p->pos || strncasecmp(p->s + p->pos, word, n) != 0)
        return false;
    int next = -1;
    if (p->pos + n < p->len)
        next = (unsigned char)p->s[p->pos + n];
    if (!is_word_end(next))
        return false;
    p->pos += n;
    return true;
}

int imap_chars(struct imap_parser *p, const char *extra, const char *stop,
               const char **out)
{
    size_t start = p->pos;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        bool ok = is_atom_char(c) || (c != 0 && strchr(extra, c) != NULL);
        if (!ok || strchr(stop, c) != NULL)
            break;
        p->pos++;
    }
    if (p->pos == start) {
        if (imap_at_end(p))
            return imap_error(p, "Missing argument");
        return imap_error(p, "Invalid character at offset %zu", p->pos);
    }
    *out = imap_scratch_put(p, p->s + start, p->pos - start);
    if (*out == NULL)
        return imap_error(p, "Out of memory");
    return 0;
}

int imap_atom(struct imap_parser *p, const char **out)
{
    return imap_chars(p, "", "", out);
}

/* RFC 9051 9 quoted: DQUOTE *QUOTED-CHAR DQUOTE; QUOTED-CHAR is any TEXT-CHAR
 * but quoted-specials, or "\" quoted-specials, or (rev2/UTF8=ACCEPT)
 * UTF8-2/3/4. */
static int quoted(struct imap_parser *p, struct imap_string *out)
{
    size_t start = ++p->pos;                 /* the opening DQUOTE */
    size_t room = p->len - start + 1, n = 0; /* the unescaped text is shorter */
    char *dst = imap_scratch_reserve(p, room);
    if (dst == NULL)
        return imap_error(p, "Out of memory");
    bool eight = false;
    for (;;) {
        if (p->pos >= p->len)
            return imap_error(p, "Unterminated quoted string");
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c == '"')
            break;
        if (c == '\\') {
            if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\\'))
                return imap_error(p, "Invalid escape in quoted string");
            c = (unsigned char)p->s[p->pos++];
        } else if (c == '\r' || c == '\n' || c == 0) {
            return imap_error(p, "Control character in quoted string");
        } else if (c >= 0x80) {
            if (!(p->flags & IMAP_PARSE_UTF8))
                return imap_error(p, "8-bit data in quoted string");
            eight = true;
        }
        if (n + 1 >= room)
            return imap_error(p, "Command too complex");
        dst[n++] = (char)c;
    }
    dst[n] = '\0';
    if (eight && !utf8_valid((const unsigned char *)dst, n)) {
        p->pos = start - 1;
        return imap_error(p, "Invalid UTF-8 in quoted string");
    }
    imap_scratch_commit(p, n + 1);
    *out = (struct imap_string){.data = dst, .len = n, .fd = -1};
    return 0;
}

/* Reads a decimal of at most max into *out; "Number expected" otherwise. */
static int decimal(struct imap_parser *p, uint64_t max, uint64_t *out)
{
    size_t start = p->pos;
    uint64_t v = 0;
    *out = 0; /* gcc -O2 cannot see that imap_error() returns -1 */
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = (unsigned)(p->s[p->pos] - '0');
        if (v > (max - d) / 10) {
            p->pos = start;
            return imap_error(p, "Number too big at offset %zu", start);
        }
        v = v * 10 + d;
        p->pos++;
    }
    if (p->pos == start)
        return imap_error(p, "Number expected at offset %zu", start);
    *out = v;
    return 0;
}

/* RFC 9051 9 literal / literal8 marker "{" number64 ["+"] "}" (RFC 7888
 * "+"; the session also passes "-"): maps to the next literal. */
static int literal_marker(struct imap_parser *p, struct imap_string *out)
{
    bool binary = imap_accept(p, '~');
    uint64_t n = 0;
    if (imap_expect(p, '{') < 0 || decimal(p, INT64_MAX, &n) < 0)
        return -1;
    if (!imap_accept(p, '+'))
        imap_accept(p, '-');
    if (imap_expect(p, '}') < 0)
        return -1;
    if (p->lit_next >= p->nlits)
        return imap_error(p, "Literal announced but not sent");
    const struct session_literal *l = &p->lits[p->lit_next++];
    if (l->len != n)
        return imap_error(p, "Literal length mismatch");
    *out = (struct imap_string){
        .data = l->data, .len = l->len, .fd = l->fd, .literal = true, .binary = binary};
    if (l->data == NULL && l->fd < 0)
        return imap_error(p, "Literal not available");
    return 0;
}

int imap_string(struct imap_parser *p, struct imap_string *out)
{
    int c = imap_peek(p);
    if (c == '"')
        return quoted(p, out);
    if (c == '{')
        return literal_marker(p, out);
    if (c == '~')
        return imap_error(p, "literal8 not allowed here");
    if (c == -1)
        return imap_error(p, "Missing string");
    return imap_error(p, "String expected at offset %zu", p->pos);
}

int imap_literal(struct imap_parser *p, struct imap_string *out)
{
    int c = imap_peek(p);
    if (c != '{' && c != '~')
        return imap_error(p, "Literal expected");
    return literal_marker(p, out);
}

int imap_astring(struct imap_parser *p, struct imap_string *out)
{
    int c = imap_peek(p);
    if (c == '"' || c == '{')
        return imap_string(p, out);
    const char *s;
    if (imap_chars(p, "]", "", &s) < 0)
        return -1;
    *out = (struct imap_string){.data = s, .len = strlen(s), .fd = -1};
    return 0;
}

int imap_nstring(struct imap_parser *p, struct imap_string *out, bool *nil)
{
    *nil = imap_accept_word(p, "NIL");
    if (*nil) {
        *out = (struct imap_string){.data = "", .len = 0, .fd = -1};
        return 0;
    }
    return imap_string(p, out);
}

/* A string usable as C text: in memory, without NUL, UTF-8 when 8-bit
 * (RFC 9051 4.3: a literal of text may carry 8-bit data). */
static int as_text(struct imap_parser *p, const struct imap_string *s, const char **out,
                   size_t *len)
{
    if (s->data == NULL)
        return imap_error(p, "Literal too big for this argument");
    if (s->literal && memchr(s->data, '\0', s->len) != NULL)
        return imap_error(p, "NUL in string");
    *out = s->data;
    if (len != NULL)
        *len = s->len;
    return 0;
}

int imap_astring_text(struct imap_parser *p, const char **out, size_t *len)
{
    struct imap_string s;
    if (imap_astring(p, &s) < 0)
        return -1;
    return as_text(p, &s, out, len);
}

int imap_string_text(struct imap_parser *p, const char **out, size_t *len)
{
    struct imap_string s;
    if (imap_string(p, &s) < 0)
        return -1;
    return as_text(p, &s, out, len);
}

int imap_number(struct imap_parser *p, uint32_t *out)
{
    uint64_t v = 0;
    if (decimal(p, UINT32_MAX, &v) < 0)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

int imap_nz_number(struct imap_parser *p, uint32_t *out)
{
    size_t start = p->pos;
    if (imap_number(p, out) < 0)
        return -1;
    if (*out == 0) {
        p->pos = start;
        return imap_error(p, "Zero is not allowed at offset %zu", start);
    }
    return 0;
}

int imap_number64(struct imap_parser *p, uint64_t *out)
{
    return decimal(p, INT64_MAX, out);
}

int imap_modseq_valzer(struct imap_parser *p, uint64_t *out)
{
    return decimal(p, INT64_MAX, out);
}

int imap_modseq(struct imap_parser *p, uint64_t *out)
{
    size_t start = p->pos;
    if (decimal(p, INT64_MAX, out) < 0)
        return -1;
    if (*out == 0) {
        p->pos = start;
        return imap_error(p, "Mod-sequence must be positive");
    }
    return 0;
}

int imap_list_open(struct imap_parser *p)
{
    if (imap_expect(p, '(') < 0)
        return -1;
    if (p->depth >= IMAP_MAX_LIST_DEPTH)
        return imap_error(p, "Too deeply nested parentheses");
    p->depth++;
    return 0;
}

int imap_list_next(struct imap_parser *p, bool *first)
{
    if (imap_accept(p, ')')) {
        p->depth--;
        return 0;
    }
    if (*first) {
        *first = false;
        if (imap_at_end(p))
            return imap_error(p, "Missing ')'");
        return 1;
    }
    if (imap_accept(p, ' ') && imap_peek(p) != ')' && !imap_at_end(p))
        return 1;
    if (imap_at_end(p))
        return imap_error(p, "Missing ')'");
    return imap_error(p, "Expected a space or ')' at offset %zu", p->pos);
}

int imap_skip_value(struct imap_parser *p)
{
    int c = imap_peek(p);
    if (c == '(') {
        if (imap_list_open(p) < 0)
            return -1;
        bool first = true;
        int r;
        while ((r = imap_list_next(p, &first)) > 0)
            if (imap_skip_value(p) < 0)
                return -1;
        return r;
    }
    struct imap_string s;
    if (c == '~')
        return literal_marker(p, &s);
    if (c == '"' || c == '{')
        return imap_string(p, &s);
    return imap_astring(p, &s);
}
