/* subject: RFC 5256 2.1 base subject extraction, step by step as the RFC
 * numbers them (see subject.h). Works on byte offsets into one copy. */
#include "mime/subject.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct subj {
    char *s;
    size_t b, e; /* the remaining text is s[b, e) */
    bool reply;
};

static bool wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Step 1: tabs and line breaks become spaces, runs of spaces one space. */
static char *normalise(const char *in)
{
    size_t n = strlen(in), o = 0;
    char *s = malloc(n + 1);
    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '\t' || c == '\r' || c == '\n')
            c = ' ';
        if (c == ' ' && o && s[o - 1] == ' ')
            continue;
        s[o++] = c;
    }
    s[o] = '\0';
    return s;
}

static bool ends_with_ci(const struct subj *j, const char *t)
{
    size_t n = strlen(t);
    return j->e - j->b >= n && strncasecmp(j->s + j->e - n, t, n) == 0;
}

static bool starts_with_ci(const struct subj *j, size_t at, const char *t)
{
    size_t n = strlen(t);
    return j->e - at >= n && strncasecmp(j->s + at, t, n) == 0;
}

/* Step 2: subj-trailer = "(fwd)" / WSP, repeatedly. */
static void strip_trailers(struct subj *j)
{
    for (;;) {
        if (j->e > j->b && wsp(j->s[j->e - 1])) {
            j->e--;
        } else if (ends_with_ci(j, "(fwd)")) {
            j->e -= 5;
            j->reply = true;
        } else {
            return;
        }
    }
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP; the offset after it, or 0. */
static size_t blob_end(const struct subj *j, size_t at)
{
    if (at >= j->e || j->s[at] != '[')
        return 0;
    for (size_t i = at + 1; i < j->e; i++) {
        if (j->s[i] == '[')
            return 0;
        if (j->s[i] == ']') {
            i++;
            while (i < j->e && wsp(j->s[i]))
                i++;
            return i;
        }
    }
    return 0;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; the offset
 * after it, or 0. */
static size_t refwd_end(const struct subj *j, size_t at)
{
    size_t i = at;
    if (starts_with_ci(j, i, "re"))
        i += 2;
    else if (starts_with_ci(j, i, "fwd"))
        i += 3;
    else if (starts_with_ci(j, i, "fw"))
        i += 2;
    else
        return 0;
    while (i < j->e && wsp(j->s[i]))
        i++;
    size_t be = blob_end(j, i);
    if (be)
        i = be;
    if (i < j->e && j->s[i] == ':')
        return i + 1;
    return 0;
}

/* Step 3: subj-leader = (*subj-blob subj-refwd) / WSP. */
static bool strip_leader(struct subj *j)
{
    if (j->b < j->e && wsp(j->s[j->b])) {
        j->b++;
        return true;
    }
    size_t i = j->b, be;
    while ((be = blob_end(j, i)) != 0)
        i = be;
    size_t re = refwd_end(j, i);
    if (!re)
        return false;
    j->b = re;
    j->reply = true;
    return true;
}

/* Step 4: a leading subj-blob goes if something is left after it. */
static bool strip_blob(struct subj *j)
{
    size_t be = blob_end(j, j->b);
    if (!be || be >= j->e)
        return false;
    j->b = be;
    return true;
}

/* Step 6: "[fwd:" ... "]" around the whole subject. */
static bool strip_fwd(struct subj *j)
{
    if (!starts_with_ci(j, j->b, "[fwd:") || !ends_with_ci(j, "]") || j->e - j->b < 6)
        return false;
    j->b += 5;
    j->e -= 1;
    j->reply = true;
    return true;
}

char *mime_base_subject(const char *decoded, bool *is_reply)
{
    struct subj j = {.s = normalise(decoded ? decoded : "")};
    if (!j.s)
        return NULL;
    j.e = strlen(j.s);
    do {
        strip_trailers(&j);
        bool changed;
        do { /* step 5: repeat 3 and 4 */
            changed = false;
            while (strip_leader(&j))
                changed = true;
            if (strip_blob(&j))
                changed = true;
        } while (changed);
    } while (strip_fwd(&j));
    memmove(j.s, j.s + j.b, j.e - j.b);
    j.s[j.e - j.b] = '\0';
    if (is_reply)
        *is_reply = j.reply;
    return j.s;
}
