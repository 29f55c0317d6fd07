/* scan: finds the MIME entities of a stored message in one pass (see
 * scan.h). A boundary delimiter line is "--" boundary, "--" for the close
 * delimiter, then only transport padding (RFC 2046 5.1.1); the LF before
 * it belongs to the delimiter, not to the part. A boundary of any
 * enclosing multipart ends the current entity, as GMime and Dovecot do
 * with truncated or malformed nesting. */
#include "mime/scan.h"

#include "mime/limits.h"
#include "mime/reader.h"
#include "mime/token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct scanner {
    struct mime_reader r;
    struct mime_scan *out;
    size_t cap;
    const char *bound[MIME_MAX_DEPTH + 1];
    size_t blen[MIME_MAX_DEPTH + 1];
    int nbound;
    bool nomem;
};

#define FIELD(f, s) [f] = {s, sizeof s - 1}
static const struct {
    const char *name;
    size_t len;
} field_names[MF_COUNT] = {
    FIELD(MF_CONTENT_TYPE, "content-type"),
    FIELD(MF_CTE, "content-transfer-encoding"),
    FIELD(MF_CONTENT_ID, "content-id"),
    FIELD(MF_CONTENT_DESCRIPTION, "content-description"),
    FIELD(MF_CONTENT_DISPOSITION, "content-disposition"),
    FIELD(MF_CONTENT_LANGUAGE, "content-language"),
    FIELD(MF_CONTENT_LOCATION, "content-location"),
    FIELD(MF_CONTENT_MD5, "content-md5"),
    FIELD(MF_DATE, "date"),
    FIELD(MF_SUBJECT, "subject"),
    FIELD(MF_FROM, "from"),
    FIELD(MF_SENDER, "sender"),
    FIELD(MF_REPLY_TO, "reply-to"),
    FIELD(MF_TO, "to"),
    FIELD(MF_CC, "cc"),
    FIELD(MF_BCC, "bcc"),
    FIELD(MF_IN_REPLY_TO, "in-reply-to"),
    FIELD(MF_MESSAGE_ID, "message-id"),
    FIELD(MF_REFERENCES, "references"),
};

const char *mime_entity_field(const struct mime_entity *e, enum mime_field f)
{
    if (f < 0 || f >= MF_COUNT)
        return NULL;
    return e->field[f];
}

/* ---- Content-Type (RFC 2045 5.1) ---- */

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    return p;
}

/* Copies a token lower-cased; returns the end, or NULL if empty/too long. */
static const char *take_token(const char *p, char *dst, size_t dlen)
{
    size_t n = 0;
    while (mime_token_char((unsigned char)p[n])) {
        if (n + 1 >= dlen)
            return NULL;
        dst[n] = (char)((p[n] >= 'A' && p[n] <= 'Z') ? p[n] + 32 : p[n]);
        n++;
    }
    dst[n] = '\0';
    return n ? p + n : NULL;
}

/* A parameter value: a token or a quoted-string (backslash escapes). */
static const char *take_value(const char *p, char *dst, size_t dlen)
{
    size_t n = 0;
    if (*p != '"') {
        while (mime_token_char((unsigned char)*p) && n + 1 < dlen)
            dst[n++] = *p++;
        dst[n] = '\0';
        return p;
    }
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (n + 1 < dlen)
            dst[n++] = *p;
    }
    dst[n] = '\0';
    return *p == '"' ? p + 1 : p;
}

static void find_boundary(const char *p, char *boundary, size_t blen)
{
    char name[32], value[MIME_MAX_BOUNDARY + 2];
    while ((p = strchr(p, ';')) != NULL) {
        p = skip_ws(p + 1);
        const char *q = take_token(p, name, sizeof name);
        if (!q)
            continue;
        q = skip_ws(q);
        if (*q != '=')
            continue;
        p = take_value(skip_ws(q + 1), value, sizeof value);
        if (strcmp(name, "boundary") == 0 && strlen(value) < blen) {
            memcpy(boundary, value, strlen(value) + 1);
            return;
        }
    }
}

bool mime_parse_ctype(const char *value, char *type, size_t tlen, char *subtype,
                      size_t slen, char *boundary, size_t blen)
{
    if (blen)
        boundary[0] = '\0';
    const char *p = take_token(skip_ws(value), type, tlen);
    if (!p || *(p = skip_ws(p)) != '/')
        return false;
    p = take_token(skip_ws(p + 1), subtype, slen);
    if (!p)
        return false;
    if (blen)
        find_boundary(p, boundary, blen);
    return true;
}

/* ---- Header fields ---- */

static int field_of(const unsigned char *name, size_t n)
{
    for (int f = 0; f < MF_COUNT; f++)
        if (field_names[f].len == n &&
            strncasecmp((const char *)name, field_names[f].name, n) == 0)
            return f;
    return -1;
}

/* Appends bytes to a kept value (NULs dropped: IMAP strings cannot hold
 * them), within the entity's budget. */
static void keep_append(struct scanner *sc, struct mime_entity *e, int f,
                        const unsigned char *p, size_t n)
{
    size_t room = MIME_MAX_HEADER_KEEP - e->kept;
    if (n > room)
        n = room;
    size_t old = e->field[f] ? strlen(e->field[f]) : 0;
    char *v = realloc(e->field[f], old + n + 1);
    if (!v) {
        sc->nomem = true;
        return;
    }
    size_t o = old;
    for (size_t i = 0; i < n; i++)
        if (p[i])
            v[o++] = (char)p[i];
    v[o] = '\0';
    e->field[f] = v;
    e->kept += o - old;
}

static void trim_field(char *v)
{
    size_t n = strlen(v), s = 0;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
        n--;
    while (s < n && (v[s] == ' ' || v[s] == '\t'))
        s++;
    memmove(v, v + s, n - s);
    v[n - s] = '\0';
}

/* One header line: a new field ("name:" value) or a continuation (RFC 5322
 * 2.2.3 unfolding keeps the whitespace, drops the line break). Returns the
 * field now being kept, or -1. */
static int header_line(struct scanner *sc, struct mime_entity *e,
                       const struct mime_line *l, int current)
{
    if (l->len && (l->p[0] == ' ' || l->p[0] == '\t')) {
        if (current >= 0)
            keep_append(sc, e, current, l->p, l->len);
        return current;
    }
    const unsigned char *colon = memchr(l->p, ':', l->len);
    if (!colon)
        return -1;
    size_t n = (size_t)(colon - l->p);
    while (n && (l->p[n - 1] == ' ' || l->p[n - 1] == '\t'))
        n--; /* RFC 5322 4.5.3 obs-optional: WSP before the colon */
    int f = field_of(l->p, n);
    if (f < 0 || e->field[f])
        return -1;
    keep_append(sc, e, f, (const unsigned char *)"", 0);
    colon++;
    keep_append(sc, e, f, colon, l->len - (size_t)(colon - l->p));
    return f;
}

/* ---- Boundaries ---- */

static bool only_padding(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* The level (index into sc->bound) whose delimiter this line is, innermost
 * first, or -1. *close is set for a close delimiter. */
static int boundary_level(const struct scanner *sc, const struct mime_line *l,
                          bool *close)
{
    if (l->truncated || l->len < 3 || l->p[0] != '-' || l->p[1] != '-')
        return -1;
    for (int i = sc->nbound - 1; i >= 0; i--) {
        size_t bl = sc->blen[i];
        if (l->len < 2 + bl || memcmp(l->p + 2, sc->bound[i], bl) != 0)
            continue;
        const unsigned char *rest = l->p + 2 + bl;
        size_t n = l->len - 2 - bl;
        *close = n >= 2 && rest[0] == '-' && rest[1] == '-';
        if (*close && only_padding(rest + 2, n - 2))
            return i;
        *close = false;
        if (only_padding(rest, n))
            return i;
    }
    return -1;
}

static bool at_boundary(struct scanner *sc, const struct mime_line *l)
{
    bool close;
    return boundary_level(sc, l, &close) >= 0;
}

/* ---- Entities ---- */

static int entity_new(struct scanner *sc, int parent)
{
    struct mime_scan *o = sc->out;
    if (o->nent >= MIME_MAX_PARTS)
        return -1;
    if (o->nent == sc->cap) {
        size_t cap = sc->cap ? sc->cap * 2 : 8;
        struct mime_entity *n = realloc(o->ent, cap * sizeof *n);
        if (!n) {
            sc->nomem = true;
            return -1;
        }
        o->ent = n;
        sc->cap = cap;
    }
    int i = (int)o->nent++;
    struct mime_entity *e = &o->ent[i];
    memset(e, 0, sizeof *e);
    e->parent = parent;
    e->first_child = e->next_sibling = -1;
    if (parent >= 0) {
        struct mime_entity *p = &o->ent[parent];
        int *link = &p->first_child;
        while (*link >= 0)
            link = &o->ent[*link].next_sibling;
        *link = i;
        p->nchildren++;
    }
    return i;
}

static void read_header(struct scanner *sc, int idx)
{
    const struct mime_line *l;
    int current = -1;
    while ((l = mime_reader_peek(&sc->r)) != NULL) {
        if (l->len == 0 && !l->truncated) {
            mime_reader_next(&sc->r); /* the blank line ends the header */
            break;
        }
        if (sc->nbound && at_boundary(sc, l))
            break;
        current = header_line(sc, &sc->out->ent[idx], l, current);
        mime_reader_next(&sc->r);
    }
    struct mime_entity *e = &sc->out->ent[idx];
    for (int f = 0; f < MF_COUNT; f++)
        if (e->field[f])
            trim_field(e->field[f]);
}

/* RFC 2046 5.2.1: only 7bit, 8bit or binary encodings make a message/rfc822
 * body an encapsulated message; anything else is opaque octets. */
static bool identity_encoding(const char *cte)
{
    char tok[32];
    if (!cte)
        return true;
    if (!take_token(skip_ws(cte), tok, sizeof tok))
        return false;
    return strcmp(tok, "7bit") == 0 || strcmp(tok, "8bit") == 0 ||
           strcmp(tok, "binary") == 0;
}

/* Sets kind and type; returns the boundary of a multipart in `boundary`. */
static void classify(struct mime_entity *e, bool digest_child, int depth, char *boundary,
                     size_t blen)
{
    const char *ct = e->field[MF_CONTENT_TYPE];
    boundary[0] = '\0';
    if (ct && !mime_parse_ctype(ct, e->type, sizeof e->type, e->subtype,
                                sizeof e->subtype, boundary, blen)) {
        e->type_invalid = true;
        e->type[0] = e->subtype[0] = '\0';
    }
    if (!ct && digest_child) { /* RFC 2046 5.1.5 */
        snprintf(e->type, sizeof e->type, "message");
        snprintf(e->subtype, sizeof e->subtype, "rfc822");
    }
    e->kind = MIME_LEAF;
    if (strcmp(e->type, "multipart") == 0 && boundary[0])
        e->kind = MIME_MULTIPART;
    if (strcmp(e->type, "message") == 0 &&
        (strcmp(e->subtype, "rfc822") == 0 || strcmp(e->subtype, "global") == 0) &&
        identity_encoding(e->field[MF_CTE]))
        e->kind = MIME_MESSAGE;
    if (e->kind != MIME_LEAF && depth >= MIME_MAX_DEPTH) {
        e->kind = MIME_LEAF;
        e->forced_leaf = true;
    }
}

/* Skips lines up to a delimiter of any open multipart (left unconsumed)
 * or the end; levels at or above `ignore_from` do not count. */
static void skip_to_boundary(struct scanner *sc, int ignore_from)
{
    const struct mime_line *l;
    bool close;
    while ((l = mime_reader_peek(&sc->r)) != NULL) {
        int lv = boundary_level(sc, l, &close);
        if (lv >= 0 && lv < ignore_from)
            return;
        mime_reader_next(&sc->r);
    }
}

static void parse_entity(struct scanner *sc, int idx, bool digest_child, int depth);

static void parse_multipart(struct scanner *sc, int idx, const char *boundary, int depth)
{
    int level = sc->nbound++;
    sc->bound[level] = boundary;
    sc->blen[level] = strlen(boundary);
    bool digest = strcmp(sc->out->ent[idx].subtype, "digest") == 0;
    const struct mime_line *l;
    bool close;
    skip_to_boundary(sc, sc->nbound); /* the preamble */
    while ((l = mime_reader_peek(&sc->r)) != NULL) {
        if (boundary_level(sc, l, &close) != level)
            break; /* an enclosing delimiter: this multipart is over */
        mime_reader_next(&sc->r);
        if (close) {
            skip_to_boundary(sc, level); /* the epilogue */
            break;
        }
        int child = entity_new(sc, idx);
        if (child < 0) {
            skip_to_boundary(sc, level); /* parts past the limit go unlisted */
            break;
        }
        parse_entity(sc, child, digest, depth + 1);
    }
    sc->nbound--;
}

/* Where entity e ends: before the LF of the delimiter line l, or at the
 * end of the file (l NULL). */
static void set_end(struct scanner *sc, struct mime_entity *e, const struct mime_line *l)
{
    bool prev_empty = sc->r.last_empty;
    if (!l) {
        e->end_off = mime_reader_tell(&sc->r);
        e->end_lf = mime_reader_lfs(&sc->r);
        e->end_partial = e->end_off > e->body_off && !sc->r.last_has_lf;
        return;
    }
    e->end_off = e->body_off;
    e->end_lf = e->body_lf;
    e->end_partial = false;
    if (l->off > e->body_off) { /* the LF before the delimiter is not ours */
        e->end_off = l->off - 1;
        e->end_lf = l->lf_before - 1;
        e->end_partial = e->end_off > e->body_off && !prev_empty;
    }
}

static void parse_entity(struct scanner *sc, int idx, bool digest_child, int depth)
{
    char boundary[MIME_MAX_BOUNDARY + 1];
    struct mime_entity *e = &sc->out->ent[idx];
    e->header_off = mime_reader_tell(&sc->r);
    e->header_lf = mime_reader_lfs(&sc->r);
    read_header(sc, idx);
    e = &sc->out->ent[idx];
    e->body_off = mime_reader_tell(&sc->r);
    e->body_lf = mime_reader_lfs(&sc->r);
    const struct mime_line *l = mime_reader_peek(&sc->r);
    if (l && l->off > e->header_off && sc->nbound && at_boundary(sc, l)) {
        /* A header cut short by a delimiter: the LF before it is the
         * delimiter's, as for a body (GMime: part without content). */
        e->body_off = l->off - 1;
        e->body_lf = l->lf_before - 1;
    }
    classify(e, digest_child, depth, boundary, sizeof boundary);
    if (e->kind == MIME_MULTIPART) {
        parse_multipart(sc, idx, boundary, depth);
    } else if (e->kind == MIME_MESSAGE) {
        int child = entity_new(sc, idx);
        if (child >= 0) {
            parse_entity(sc, child, false, depth + 1);
        } else {
            sc->out->ent[idx].kind = MIME_LEAF;
            sc->out->ent[idx].forced_leaf = true;
        }
    }
    skip_to_boundary(sc, sc->nbound);
    set_end(sc, &sc->out->ent[idx], mime_reader_peek(&sc->r));
}

int mime_scan_fd(int fd, size_t max_read, bool header_only, struct mime_scan *out)
{
    struct scanner sc = {.out = out};
    memset(out, 0, sizeof *out);
    if (mime_reader_init(&sc.r, fd, max_read) < 0)
        return -1;
    int root = entity_new(&sc, -1);
    if (root == 0 && header_only) {
        read_header(&sc, root);
        out->ent[0].body_off = out->ent[0].end_off = mime_reader_tell(&sc.r);
        out->ent[0].body_lf = out->ent[0].end_lf = mime_reader_lfs(&sc.r);
    } else if (root == 0) {
        parse_entity(&sc, root, false, 0);
        out->size = out->ent[0].end_off;
        out->lfs = out->ent[0].end_lf;
    }
    bool failed = root != 0 || sc.nomem || sc.r.error;
    mime_reader_release(&sc.r);
    if (failed) {
        mime_scan_release(out);
        return -1;
    }
    return 0;
}

void mime_scan_release(struct mime_scan *s)
{
    for (size_t i = 0; s->ent && i < s->nent; i++)
        for (int f = 0; f < MF_COUNT; f++)
            free(s->ent[i].field[f]);
    free(s->ent);
    memset(s, 0, sizeof *s);
}

/* Is l the first line of field `name`? Then *value is where its value starts. */
static bool starts_field(const struct mime_line *l, const char *name,
                         const unsigned char **value)
{
    const unsigned char *colon = memchr(l->p, ':', l->len);
    if (!colon)
        return false;
    size_t k = (size_t)(colon - l->p);
    while (k && (l->p[k - 1] == ' ' || l->p[k - 1] == '\t'))
        k--;
    *value = colon + 1;
    return k == strlen(name) && strncasecmp((const char *)l->p, name, k) == 0;
}

static void append_capped(char *buf, size_t *len, const unsigned char *p, size_t n)
{
    if (n > MIME_MAX_HEADER_KEEP - *len)
        n = MIME_MAX_HEADER_KEEP - *len;
    memcpy(buf + *len, p, n);
    *len += n;
    buf[*len] = '\0';
}

/* Every occurrence of one field in the root header, unfolded; each value
 * is cut at MIME_MAX_HEADER_KEEP bytes. */
int mime_scan_header_values(int fd, const char *name,
                            void (*fn)(const char *value, size_t len, void *arg),
                            void *arg)
{
    struct mime_reader r;
    char *val = malloc(MIME_MAX_HEADER_KEEP + 1);
    if (!val || mime_reader_init(&r, fd, 0) < 0) {
        free(val);
        return -1;
    }
    size_t vlen = 0;
    bool in = false;
    const struct mime_line *l;
    while ((l = mime_reader_peek(&r)) != NULL && (l->len || l->truncated)) {
        const unsigned char *v = l->p;
        bool cont = l->p[0] == ' ' || l->p[0] == '\t';
        if (in && !cont)
            fn(val, vlen, arg);
        if (!cont) {
            in = starts_field(l, name, &v);
            vlen = 0;
        }
        if (in)
            append_capped(val, &vlen, v, l->len - (size_t)(v - l->p));
        mime_reader_next(&r);
    }
    if (in)
        fn(val, vlen, arg);
    bool failed = r.error;
    free(val);
    mime_reader_release(&r);
    if (failed)
        return -1;
    return 0;
}
