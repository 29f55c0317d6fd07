/* cache_control: Cache-Control parsing (RFC 9111 5.2). The field is a list
 * of `token [ "=" ( token / quoted-string ) ]` (5.2); commas inside a
 * quoted-string do not split it. */
#include "http/cache/cache_control.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* delta-seconds = 1*DIGIT (1.2.2); -1 if not all digits. */
static int64_t delta_seconds(struct http_str s)
{
    if (s.n == 0)
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return -1;
        if (v < CACHE_DELTA_MAX)
            v = v * 10 + (s.p[i] - '0');
    }
    if (v > CACHE_DELTA_MAX)
        v = CACHE_DELTA_MAX;
    return v;
}

/* max-age and s-maxage: invalid or conflicting means stale (4.2.1). */
static void set_lifetime(int64_t *slot, struct http_str arg, bool has_arg)
{
    int64_t v = has_arg ? delta_seconds(arg) : -1;
    if (v < 0)
        v = 0;
    if (*slot == CACHE_CC_ABSENT)
        *slot = v;
    else if (*slot != v)
        *slot = 0;
}

/* Other delta-seconds directives: the first valid occurrence wins. */
static void set_first(int64_t *slot, struct http_str arg, bool has_arg)
{
    int64_t v = has_arg ? delta_seconds(arg) : -1;
    if (v >= 0 && *slot == CACHE_CC_ABSENT)
        *slot = v;
}

static void add_list(struct http_str *lists, size_t *n, struct http_str arg)
{
    if (*n < CACHE_CC_MAX_LISTS)
        lists[(*n)++] = arg;
}

enum directive_kind { D_FLAG, D_LIFETIME, D_FIRST, D_MAX_STALE, D_NO_CACHE, D_PRIVATE };

struct directive {
    const char *name;
    size_t len;
    enum directive_kind kind;
    unsigned flag; /* D_FLAG */
    size_t slot;   /* D_LIFETIME, D_FIRST: offset of the int64_t */
};

#define FLAG(n, f)                                                                       \
    {                                                                                    \
        n, sizeof n - 1, D_FLAG, f, 0                                                    \
    }
#define SLOT(n, k, field)                                                                \
    {                                                                                    \
        n, sizeof n - 1, k, 0, offsetof(struct cache_control, field)                     \
    }
#define OTHER(n, k)                                                                      \
    {                                                                                    \
        n, sizeof n - 1, k, 0, 0                                                         \
    }

static const struct directive table[] = {
    SLOT("max-age", D_LIFETIME, max_age),
    SLOT("s-maxage", D_LIFETIME, s_maxage),
    FLAG("public", CC_PUBLIC),
    OTHER("private", D_PRIVATE),
    OTHER("no-cache", D_NO_CACHE),
    FLAG("no-store", CC_NO_STORE),
    FLAG("must-revalidate", CC_MUST_REVALIDATE),
    FLAG("proxy-revalidate", CC_PROXY_REVALIDATE),
    FLAG("no-transform", CC_NO_TRANSFORM),
    FLAG("must-understand", CC_MUST_UNDERSTAND),
    FLAG("immutable", CC_IMMUTABLE),
    OTHER("max-stale", D_MAX_STALE),
    SLOT("min-fresh", D_FIRST, min_fresh),
    FLAG("only-if-cached", CC_ONLY_IF_CACHED),
    SLOT("stale-while-revalidate", D_FIRST, stale_while_revalidate),
    SLOT("stale-if-error", D_FIRST, stale_if_error),
};

static const struct directive *directive_of(struct http_str name)
{
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (table[i].len == name.n && strncasecmp(table[i].name, name.p, name.n) == 0)
            return &table[i];
    return NULL; /* 5.2.3: unknown directives are ignored */
}

static void apply(struct cache_control *cc, struct http_str name, struct http_str arg,
                  bool has_arg)
{
    const struct directive *d = directive_of(name);
    if (!d)
        return;
    int64_t *slot = (int64_t *)((char *)cc + d->slot);
    switch (d->kind) {
    case D_FLAG:
        cc->flags |= d->flag;
        break;
    case D_LIFETIME:
        set_lifetime(slot, arg, has_arg);
        break;
    case D_FIRST:
        set_first(slot, arg, has_arg);
        break;
    case D_MAX_STALE: /* 5.2.1.2: without a value, any staleness is accepted */
        if (!has_arg)
            cc->flags |= CC_MAX_STALE_ANY;
        else
            set_first(&cc->max_stale, arg, has_arg);
        break;
    case D_NO_CACHE:
        if (has_arg && arg.n)
            add_list(cc->no_cache_fields, &cc->n_no_cache_fields, arg);
        else
            cc->flags |= CC_NO_CACHE;
        break;
    case D_PRIVATE:
        if (has_arg && arg.n)
            add_list(cc->private_fields, &cc->n_private_fields, arg);
        else
            cc->flags |= CC_PRIVATE;
        break;
    }
}

/* Reads a quoted-string starting at v.p[*i] == '"'; its contents (with any
 * quoted-pair left as it is) go to arg. Returns false if unterminated. */
static bool quoted(struct http_str v, size_t *i, struct http_str *arg)
{
    size_t start = ++*i;
    while (*i < v.n && v.p[*i] != '"') {
        if (v.p[*i] == '\\')
            ++*i;
        ++*i;
    }
    if (*i >= v.n)
        return false;
    *arg = (struct http_str){v.p + start, *i - start};
    ++*i;
    return true;
}

/* Skips to just past the next comma outside a quoted-string. */
static void skip_element(struct http_str v, size_t *i)
{
    bool inq = false;
    for (; *i < v.n; ++*i) {
        char c = v.p[*i];
        if (inq && c == '\\')
            ++*i;
        else if (c == '"')
            inq = !inq;
        else if (c == ',' && !inq) {
            ++*i;
            return;
        }
    }
}

/* One directive at v.p[*i]; leaves *i past its comma. */
static void one_directive(struct http_str v, size_t *i, struct cache_control *cc)
{
    size_t start = *i;
    while (*i < v.n && is_tchar((unsigned char)v.p[*i]))
        ++*i;
    struct http_str name = {v.p + start, *i - start}, arg = {NULL, 0};
    bool has_arg = false, ok = name.n > 0;
    if (ok && *i < v.n && v.p[*i] == '=') {
        ++*i;
        has_arg = true;
        if (*i < v.n && v.p[*i] == '"') {
            ok = quoted(v, i, &arg);
        } else {
            size_t a = *i;
            while (*i < v.n && is_tchar((unsigned char)v.p[*i]))
                ++*i;
            arg = (struct http_str){v.p + a, *i - a};
        }
    }
    while (*i < v.n && is_ows(v.p[*i]))
        ++*i;
    if (ok && (*i == v.n || v.p[*i] == ','))
        apply(cc, name, arg, has_arg);
    skip_element(v, i); /* a malformed element is ignored whole */
}

void cache_control_parse_value(struct http_str v, struct cache_control *cc)
{
    size_t i = 0;
    while (i < v.n) {
        while (i < v.n && (is_ows(v.p[i]) || v.p[i] == ','))
            i++;
        if (i < v.n)
            one_directive(v, &i, cc);
    }
}

void cache_control_parse(const struct http_header *h, size_t n, struct cache_control *cc)
{
    memset(cc, 0, sizeof *cc);
    cc->max_age = cc->s_maxage = cc->max_stale = cc->min_fresh = CACHE_CC_ABSENT;
    cc->stale_while_revalidate = cc->stale_if_error = CACHE_CC_ABSENT;
    for (size_t k = 0; k < n; k++)
        if (h[k].name.n == 13 && strncasecmp(h[k].name.p, "cache-control", 13) == 0)
            cache_control_parse_value(h[k].value, cc);
}

struct name_match {
    struct http_str name;
    bool found;
};

static int match_name(struct http_str item, void *arg)
{
    struct name_match *m = arg;
    if (item.n == m->name.n && strncasecmp(item.p, m->name.p, item.n) == 0) {
        m->found = true;
        return 1;
    }
    return 0;
}

bool cache_control_lists_name(const struct http_str *lists, size_t n,
                              struct http_str name)
{
    struct name_match m = {name, false};
    for (size_t i = 0; i < n && !m.found; i++)
        http_list_each(lists[i], match_name, &m);
    return m.found;
}
