/* parse: the grammar of RFC 5321 4.1.2 (Path, Mailbox, Local-part,
 * Dot-string, Quoted-string, Domain, address-literal, esmtp-param) as
 * extended by RFC 6531 3.3 (UTF-8 in atext, qtext and U-labels). Pure: no
 * I/O, no allocation; every length checked against limits.h. */
#include "smtp/parse.h"

#include "core/utf8.h"

#include <string.h>
#include <strings.h>

static bool is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5322 3.2.3 atext; RFC 6531 3.3 adds UTF8-non-ascii. */
static bool is_atext(unsigned char c)
{
    return is_alnum(c) || c >= 0x80 || strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Reads the local part at s[*i..end) into out (unquoted); 0 or error. */
static enum smtp_parse_error parse_local(const char *s, size_t *i, size_t end, char *out,
                                         size_t outlen)
{
    size_t o = 0, p = *i;
    if (p < end && s[p] == '"') { /* Quoted-string: qtextSMTP / quoted-pairSMTP */
        for (p++; p < end && s[p] != '"'; p++) {
            unsigned char c = (unsigned char)s[p];
            if (c == '\\' && p + 1 < end)
                c = (unsigned char)s[++p];
            else if (c == '\\' || c < 32 || c == 127)
                return SMTP_PARSE_SYNTAX;
            if (c < 32 || c == 127 || o + 1 >= outlen)
                return c < 32 || c == 127 ? SMTP_PARSE_SYNTAX : SMTP_PARSE_TOO_LONG;
            out[o++] = (char)c;
        }
        if (p >= end)
            return SMTP_PARSE_SYNTAX;
        p++;
    } else { /* Dot-string = Atom *("." Atom) */
        bool dot_ok = false;
        for (; p < end && s[p] != '@'; p++) {
            unsigned char c = (unsigned char)s[p];
            if (c == '.' ? !dot_ok : !is_atext(c))
                return SMTP_PARSE_SYNTAX;
            dot_ok = c != '.';
            if (o + 1 >= outlen)
                return SMTP_PARSE_TOO_LONG;
            out[o++] = (char)c;
        }
        if (o == 0 || !dot_ok)
            return SMTP_PARSE_SYNTAX;
    }
    out[o] = '\0';
    if (p - *i > SMTP_MAX_LOCAL) /* 4.5.3.1.1, counted as written */
        return SMTP_PARSE_TOO_LONG;
    *i = p;
    return SMTP_PARSE_OK;
}

/* address-literal "[...]": printable ASCII without "[", "]" or "\". */
static enum smtp_parse_error parse_literal(const char *s, size_t n, char *out)
{
    if (n < 3 || s[n - 1] != ']')
        return SMTP_PARSE_SYNTAX;
    for (size_t k = 1; k + 1 < n; k++) {
        unsigned char c = (unsigned char)s[k];
        if (c < 33 || c > 126 || c == '[' || c == ']' || c == '\\')
            return SMTP_PARSE_SYNTAX;
    }
    memcpy(out, s, n);
    out[n] = '\0';
    return SMTP_PARSE_OK;
}

/* Domain = sub-domain *("." sub-domain), Let-dig [Ldh-str]; U-labels may
 * hold UTF-8. Lower-cases ASCII into out. */
static enum smtp_parse_error parse_domain(const char *s, size_t n, char *out)
{
    if (n == 0)
        return SMTP_PARSE_SYNTAX;
    if (n > SMTP_MAX_DOMAIN)
        return SMTP_PARSE_TOO_LONG;
    if (s[0] == '[')
        return parse_literal(s, n, out);
    size_t label = 0;
    for (size_t k = 0; k <= n; k++) {
        unsigned char c = k < n ? (unsigned char)s[k] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || s[k - 1] == '-')
                return SMTP_PARSE_SYNTAX;
            label = 0;
        } else if (is_alnum(c) || c >= 0x80 || (c == '-' && label > 0)) {
            label++;
        } else {
            return SMTP_PARSE_SYNTAX;
        }
        if (k < n)
            out[k] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    out[n] = '\0';
    return SMTP_PARSE_OK;
}

/* A-d-l ":" (a source route, 4.1.1.3: accepted and ignored). */
static size_t skip_route(const char *s, size_t i, size_t end)
{
    if (i >= end || s[i] != '@')
        return i;
    const char *colon = memchr(s + i, ':', end - i);
    return colon ? (size_t)(colon - s) + 1 : end + 1;
}

static enum smtp_parse_error parse_mailbox(const char *s, size_t i, size_t end,
                                           struct smtp_addr *out)
{
    size_t start = i;
    enum smtp_parse_error e = parse_local(s, &i, end, out->local, sizeof out->local);
    if (e != SMTP_PARSE_OK)
        return e;
    if (i >= end || s[i] != '@')
        return SMTP_PARSE_SYNTAX;
    e = parse_domain(s + i + 1, end - i - 1, out->domain);
    if (e != SMTP_PARSE_OK)
        return e;
    memcpy(out->address, s + start, i - start);
    out->address[i - start] = '@';
    memcpy(out->address + (i - start) + 1, out->domain, strlen(out->domain) + 1);
    return SMTP_PARSE_OK;
}

enum smtp_parse_error smtp_parse_path(const char *s, size_t len, bool utf8_ok,
                                      struct smtp_addr *out)
{
    memset(out, 0, sizeof *out);
    if (len < 2 || s[0] != '<' || s[len - 1] != '>')
        return SMTP_PARSE_SYNTAX;
    if (len > SMTP_MAX_PATH) /* 4.5.3.1.3, with the brackets */
        return SMTP_PARSE_TOO_LONG;
    if (memchr(s, '\0', len))
        return SMTP_PARSE_SYNTAX;
    for (size_t k = 0; k < len; k++)
        out->utf8 |= (unsigned char)s[k] >= 0x80;
    if (out->utf8 && !utf8_valid((const unsigned char *)s, len))
        return SMTP_PARSE_SYNTAX;
    size_t end = len - 1, i = skip_route(s, 1, end);
    if (i > end)
        return SMTP_PARSE_SYNTAX;
    if (i == end) {
        out->null = i == 1;
        return out->null ? SMTP_PARSE_OK : SMTP_PARSE_SYNTAX;
    }
    if (end - i == 10 && strncasecmp(s + i, "postmaster", 10) == 0) {
        out->postmaster = true;
        memcpy(out->local, "postmaster", 11);
        return SMTP_PARSE_OK;
    }
    enum smtp_parse_error e = parse_mailbox(s, i, end, out);
    if (e == SMTP_PARSE_OK && out->utf8 && !utf8_ok)
        return SMTP_PARSE_UTF8;
    return e;
}

/* The index just past the path's closing '>' (quotes may hide a '>'). */
static size_t path_end(const char *s)
{
    bool quoted = false;
    if (s[0] != '<')
        return 0;
    for (size_t i = 1; s[i]; i++) {
        if (quoted && s[i] == '\\' && s[i + 1])
            i++;
        else if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && s[i] == '>')
            return i + 1;
    }
    return 0;
}

/* esmtp-keyword ["=" esmtp-value] (4.1.2; RFC 6531 3.3 allows UTF-8 values). */
static int parse_param(char *tok, struct smtp_param *p)
{
    char *eq = strchr(tok, '=');
    size_t klen = eq ? (size_t)(eq - tok) : strlen(tok);
    if (klen == 0 || klen >= sizeof p->key || !is_alnum((unsigned char)tok[0]))
        return -1;
    for (size_t k = 0; k < klen; k++) {
        unsigned char c = (unsigned char)tok[k];
        if (!is_alnum(c) && c != '-')
            return -1;
        p->key[k] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
    }
    p->key[klen] = '\0';
    p->value = eq ? eq + 1 : NULL;
    if (eq && eq[1] == '\0')
        return -1;
    for (const char *v = p->value; v && *v; v++)
        if ((unsigned char)*v < 33 || *v == '=' || *v == 127)
            return -1;
    return 0;
}

static enum smtp_parse_error parse_params(char *rest, struct smtp_args *out)
{
    char *save = NULL;
    for (char *tok = strtok_r(rest, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (out->nparams == SMTP_MAX_PARAMS)
            return SMTP_PARSE_TOO_LONG;
        if (parse_param(tok, &out->params[out->nparams++]) < 0)
            return SMTP_PARSE_SYNTAX;
    }
    return SMTP_PARSE_OK;
}

const struct smtp_param *smtp_param_find(const struct smtp_args *a, const char *key)
{
    for (int i = 0; i < a->nparams; i++)
        if (strcmp(a->params[i].key, key) == 0)
            return &a->params[i];
    return NULL;
}

enum smtp_parse_error smtp_parse_mail_rcpt(char *line, const char *keyword, bool utf8_ok,
                                           struct smtp_args *out)
{
    memset(out, 0, sizeof *out);
    size_t kl = strlen(keyword);
    if (strncasecmp(line, keyword, kl) != 0 || line[kl] != ':')
        return SMTP_PARSE_SYNTAX;
    char *p = line + kl + 1;
    while (*p == ' ') /* not in the grammar, but widely sent */
        p++;
    size_t n = path_end(p);
    if (p[0] != '<' || n == 0 || (p[n] != '\0' && p[n] != ' '))
        return SMTP_PARSE_SYNTAX;
    char *rest = p + n;
    if (*rest)
        *rest++ = '\0';
    enum smtp_parse_error e = parse_params(rest, out);
    if (e != SMTP_PARSE_OK)
        return e;
    bool utf8 = utf8_ok || smtp_param_find(out, "SMTPUTF8") != NULL;
    return smtp_parse_path(p, n, utf8, &out->addr);
}

int smtp_parse_u64(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;
    size_t n = 0;
    for (; s[n] >= '0' && s[n] <= '9'; n++) {
        if (n == 20 || v > (~0ULL - 9) / 10)
            return -1;
        v = v * 10 + (unsigned)(s[n] - '0');
    }
    if (n == 0 || s[n] != '\0')
        return -1;
    *out = v;
    return 0;
}

int smtp_parse_bdat(const char *args, unsigned long long *size, bool *last)
{
    char num[24];
    const char *sp = strchr(args, ' ');
    size_t n = sp ? (size_t)(sp - args) : strlen(args);
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, args, n);
    num[n] = '\0';
    *last = false;
    if (sp && strcasecmp(sp + 1, "LAST") != 0)
        return -1;
    *last = sp != NULL;
    return smtp_parse_u64(num, size);
}

static bool hex_upper(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

bool smtp_xtext_valid(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            if (i + 2 >= n || !hex_upper(s[i + 1]) || !hex_upper(s[i + 2]))
                return false;
            i += 2;
        } else if (c < 0x21 || c > 0x7e || c == '=') {
            return false;
        }
    }
    return true;
}

static unsigned notify_word(const char *s, size_t n)
{
    static const struct {
        const char *w;
        unsigned bit;
    } words[] = {{"NEVER", 1}, {"SUCCESS", 2}, {"FAILURE", 4}, {"DELAY", 8}};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strlen(words[i].w) == n && strncasecmp(words[i].w, s, n) == 0)
            return words[i].bit;
    return 0;
}

unsigned smtp_parse_notify(const char *s)
{
    unsigned bits = 0;
    for (int guard = 0; guard < 8; guard++) {
        const char *comma = strchr(s, ',');
        size_t n = strlen(s);
        if (comma)
            n = (size_t)(comma - s);
        unsigned b = notify_word(s, n);
        if (b == 0 || (bits & b))
            return 0;
        bits |= b;
        if (!comma)
            break;
        s = comma + 1;
    }
    if ((bits & 1) && bits != 1) /* NEVER stands alone */
        return 0;
    return bits;
}
