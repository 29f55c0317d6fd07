/* flags: Maildir info letters <-> MAIL_* bits, and keyword lists. The
 * letters follow the Maildir specification's "2," semantics (D draft,
 * F flagged, P passed, R replied, S seen, T trashed). */
#include "store/flags.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    char letter;
    unsigned bit;
} letters[] = {
    {'D', MAIL_DRAFT},    {'F', MAIL_FLAGGED}, {'P', MAIL_FORWARDED},
    {'R', MAIL_ANSWERED}, {'S', MAIL_SEEN},    {'T', MAIL_DELETED},
};
#define NLETTERS (sizeof letters / sizeof letters[0])

static unsigned letter_bit(char c)
{
    for (size_t i = 0; i < NLETTERS; i++)
        if (letters[i].letter == c)
            return letters[i].bit;
    return 0;
}

unsigned mail_flags_from_info(const char *info)
{
    unsigned f = 0;
    for (const char *p = info; *p; p++)
        f |= letter_bit(*p);
    return f;
}

int mail_flags_to_info(unsigned flags, const char *old, char *out, size_t outlen)
{
    bool have[128] = {false};
    for (size_t i = 0; i < NLETTERS; i++)
        have[(unsigned char)letters[i].letter] = (flags & letters[i].bit) != 0;
    for (const char *p = old ? old : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c > 0x20 && c < 0x7f && !letter_bit((char)c))
            have[c] = true;
    }
    size_t n = 0;
    for (int c = 0x21; c < 0x7f; c++) {
        if (!have[c])
            continue;
        if (n + 1 >= outlen)
            return -1;
        out[n++] = (char)c;
    }
    if (outlen == 0)
        return -1;
    out[n] = '\0';
    return 0;
}

/* RFC 9051 9: atom-specials are ( ) { SP CTL % * " \ ]; 8-bit too. */
static bool atom_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && !strchr("(){%*\"\\]", c);
}

/* Whether the word w (length n) is already in the list (any case). */
static bool list_has(const char *list, const char *w, size_t n)
{
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncasecmp(p, w, n) == 0)
            return true;
        p += len + (e != NULL);
    }
    return false;
}

/* Appends w to the list in out (len bytes used so far). */
static int list_add(char *out, size_t outlen, size_t *len, size_t *count, const char *w,
                    size_t n)
{
    if (list_has(out, w, n))
        return 0;
    size_t need = *len + (*len > 0) + n;
    if (*count + 1 > MAIL_MAX_KEYWORDS || need > MAIL_MAX_KEYWORDS_LEN ||
        need >= outlen) {
        errno = E2BIG;
        return -1;
    }
    if (*len > 0)
        out[(*len)++] = ' ';
    memcpy(out + *len, w, n);
    *len += n;
    out[*len] = '\0';
    (*count)++;
    return 0;
}

int mail_keywords_normalise(const char *in, char *out, size_t outlen, unsigned *extra)
{
    size_t len = 0, count = 0;
    if (outlen == 0)
        return -1;
    out[0] = '\0';
    *extra = 0;
    for (const char *p = in ? in : ""; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        size_t n = 0;
        while (p[n] && p[n] != ' ') {
            if (!atom_char((unsigned char)p[n])) {
                errno = EINVAL;
                return -1;
            }
            n++;
        }
        if (n == 10 && strncasecmp(p, "$Forwarded", 10) == 0)
            *extra |= MAIL_FORWARDED;
        else if (list_add(out, outlen, &len, &count, p, n) < 0)
            return -1;
        p += n;
    }
    return 0;
}

/* out = kw minus every word of remove. */
static void list_remove(const char *kw, const char *remove, char *out, size_t outlen)
{
    size_t len = 0, count = 0;
    out[0] = '\0';
    for (const char *p = kw; *p;) {
        const char *e = strchr(p, ' ');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (!list_has(remove, p, n))
            list_add(out, outlen, &len, &count, p, n); /* never grows */
        p += n + (e != NULL);
    }
}

int mail_flags_apply(enum mailbox_flag_op op, unsigned ch_flags, const char *ch_keywords,
                     unsigned *flags, const char *keywords, char *out, size_t outlen)
{
    unsigned dummy;
    const char *ch = ch_keywords ? ch_keywords : "";
    if (op == MAILBOX_FLAGS_SET) {
        *flags = ch_flags;
        return mail_keywords_normalise(ch, out, outlen, &dummy);
    }
    if (op == MAILBOX_FLAGS_REMOVE) {
        *flags &= ~ch_flags;
        list_remove(keywords, ch, out, outlen);
        return 0;
    }
    *flags |= ch_flags;
    char both[MAIL_MAX_KEYWORDS_LEN * 2 + 2];
    snprintf(both, sizeof both, "%s %s", keywords, ch);
    return mail_keywords_normalise(both, out, outlen, &dummy);
}
