/* mtasts_policy: the MTA-STS record, policy and MX patterns (see
 * mtasts_policy.h), with the RFC 8461 sections beside each rule. */
#include "relay/mtasts_policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* 3.1: sts-text-record = sts-version 1*(sts-field-delim sts-field)
 * [sts-field-delim]; sts-version = "v=STSv1" first; sts-id = 1*32 ALPHA/DIGIT. */
int mtasts_txt_id(const char *txt, size_t len, char *id)
{
    const char *p = txt, *end = txt + len;
    id[0] = '\0';
    if (len < 7 || strncmp(p, "v=STSv1", 7) != 0)
        return -1;
    p += 7;
    bool have_id = false;
    while (p < end) {
        p = skip_ws(p, end);
        if (p >= end)
            break;
        if (*p != ';')
            return -1;
        p = skip_ws(p + 1, end);
        if (p >= end)
            break;
        const char *field = p;
        while (p < end && *p != ';')
            p++;
        const char *fend = p;
        while (fend > field && (fend[-1] == ' ' || fend[-1] == '\t'))
            fend--;
        const char *eq = memchr(field, '=', (size_t)(fend - field));
        if (!eq || eq == field)
            return -1;
        if (eq - field == 2 && strncmp(field, "id", 2) == 0) {
            size_t n = (size_t)(fend - eq - 1);
            if (have_id || n < 1 || n >= MTASTS_ID_MAX)
                return -1;
            for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)eq[1 + i]))
                    return -1;
            memcpy(id, eq + 1, n);
            id[n] = '\0';
            have_id = true;
        } /* other fields (extensions) are ignored */
    }
    return have_id ? 0 : -1;
}

const char *mtasts_mode_name(enum mtasts_mode m)
{
    if (m == MTASTS_ENFORCE)
        return "enforce";
    if (m == MTASTS_TESTING)
        return "testing";
    return "none";
}

static int policy_field(const char *key, size_t klen, const char *val, size_t vlen,
                        struct mtasts_policy *p, bool *have, const char **why)
{
    char v[256];
    if (vlen >= sizeof v) {
        *why = "a value is too long";
        return -1;
    }
    memcpy(v, val, vlen);
    v[vlen] = '\0';
    if (klen == 7 && strncmp(key, "version", 7) == 0) {
        if (strcmp(v, "STSv1") != 0) {
            *why = "version is not STSv1";
            return -1;
        }
        have[0] = true;
    } else if (klen == 4 && strncmp(key, "mode", 4) == 0) {
        if (strcmp(v, "enforce") == 0)
            p->mode = MTASTS_ENFORCE;
        else if (strcmp(v, "testing") == 0)
            p->mode = MTASTS_TESTING;
        else if (strcmp(v, "none") == 0)
            p->mode = MTASTS_NONE;
        else {
            *why = "mode is not enforce, testing or none";
            return -1;
        }
        have[1] = true;
    } else if (klen == 7 && strncmp(key, "max_age", 7) == 0) {
        char *e;
        long long n = strtoll(v, &e, 10);
        if (!v[0] || *e || n < 0 || n > MTASTS_MAX_AGE || strlen(v) > 10) {
            *why = "max_age is not a number from 0 to 31557600";
            return -1;
        }
        p->max_age = n;
        have[2] = true;
    } else if (klen == 2 && strncmp(key, "mx", 2) == 0) {
        if (p->nmx < MTASTS_MAX_MX && vlen > 0)
            snprintf(p->mx[p->nmx++], sizeof p->mx[0], "%s", v);
    } /* 3.2: unknown fields are ignored */
    return 0;
}

/* 3.2: sts-policy-field *WSP CRLF / LF; field = key ":" *WSP value *WSP. */
int mtasts_policy_parse(const char *text, size_t len, struct mtasts_policy *p,
                        const char **why)
{
    memset(p, 0, sizeof *p);
    bool have[3] = {false, false, false}; /* version, mode, max_age */
    const char *s = text, *end = text + len;
    *why = NULL;
    if (len > MTASTS_POLICY_MAX) {
        *why = "the policy is too large";
        return -1;
    }
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *le = nl ? nl : end;
        const char *line_end = le;
        if (line_end > s && line_end[-1] == '\r')
            line_end--;
        while (line_end > s && (line_end[-1] == ' ' || line_end[-1] == '\t'))
            line_end--;
        if (line_end > s) {
            const char *colon = memchr(s, ':', (size_t)(line_end - s));
            if (!colon || colon == s) {
                *why = "a line is not key: value";
                return -1;
            }
            const char *v = skip_ws(colon + 1, line_end);
            if (policy_field(s, (size_t)(colon - s), v, (size_t)(line_end - v), p, have,
                             why) < 0)
                return -1;
        }
        s = nl ? nl + 1 : end;
    }
    if (!have[0] || !have[1] || !have[2]) {
        *why = "version, mode or max_age is missing";
        return -1;
    }
    if (p->mode != MTASTS_NONE && p->nmx == 0) {
        *why = "no mx pattern";
        return -1;
    }
    return 0;
}

/* host and pattern compared without case and without a trailing dot. */
static bool name_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    if (alen && a[alen - 1] == '.')
        alen--;
    if (blen && b[blen - 1] == '.')
        blen--;
    return alen == blen && strncasecmp(a, b, alen) == 0;
}

bool mtasts_mx_matches(const struct mtasts_policy *p, const char *host)
{
    size_t hl = strlen(host);
    for (size_t i = 0; i < p->nmx; i++) {
        const char *pat = p->mx[i];
        size_t pl = strlen(pat);
        if (pl > 2 && pat[0] == '*' && pat[1] == '.') {
            /* 4.1: the wildcard stands for exactly one leftmost label. */
            const char *dot = memchr(host, '.', hl);
            if (dot && dot > host &&
                name_equal(dot + 1, hl - (size_t)(dot + 1 - host), pat + 2, pl - 2))
                return true;
        } else if (name_equal(host, hl, pat, pl)) {
            return true;
        }
    }
    return false;
}
