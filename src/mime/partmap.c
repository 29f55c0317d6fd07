/* partmap: IMAP section numbers (RFC 9051 6.4.5) for the scanned
 * entities, with their byte ranges. parts[0] is the message (""); a
 * message whose body is not multipart has that body as part "1" (its
 * header being the message header); the parts of a multipart are
 * numbered from 1 under the multipart's own number; a message/rfc822
 * part's body is numbered like a message, under the part's number. A
 * part whose number would not fit in struct mime_part is left out (only
 * reachable past MIME_MAX_DEPTH-like nesting). Part of portico-mime.so. */
#include "mime/module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct map {
    const struct mime_scan *sc;
    struct mime_part *parts;
    size_t n, cap;
    bool nomem;
};

static struct mime_part *add(struct map *m, const char *section,
                             const struct mime_entity *e)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        struct mime_part *np = realloc(m->parts, cap * sizeof *np);
        if (!np) {
            m->nomem = true;
            return NULL;
        }
        m->parts = np;
        m->cap = cap;
    }
    struct mime_part *p = &m->parts[m->n++];
    memset(p, 0, sizeof *p);
    snprintf(p->section, sizeof p->section, "%s", section);
    p->header_off = e->header_off;
    p->header_len = e->body_off - e->header_off;
    p->header_len_crlf = p->header_len + (e->body_lf - e->header_lf);
    p->body_off = e->body_off;
    p->body_len = e->end_off - e->body_off;
    p->body_len_crlf = p->body_len + (e->end_lf - e->body_lf);
    p->lines = (e->end_lf - e->body_lf) + (e->end_partial ? 1 : 0);
    return p;
}

/* "prefix.n" (or "n" at the top); false if it does not fit. */
static bool child_section(char *out, size_t len, const char *prefix, int n)
{
    int w;
    if (prefix[0])
        w = snprintf(out, len, "%s.%d", prefix, n);
    else
        w = snprintf(out, len, "%d", n);
    return w > 0 && (size_t)w < len;
}

static void map_entity(struct map *m, const char *section, int idx);

/* The body of a message (root or message/rfc822) numbered under prefix. */
static void map_message_body(struct map *m, const char *prefix, int idx)
{
    const struct mime_entity *e = &m->sc->ent[idx];
    char sec[sizeof m->parts->section];
    if (e->kind != MIME_MULTIPART) {
        if (child_section(sec, sizeof sec, prefix, 1))
            map_entity(m, sec, idx);
        return;
    }
    int n = 1;
    for (int c = e->first_child; c >= 0 && !m->nomem; c = m->sc->ent[c].next_sibling)
        if (child_section(sec, sizeof sec, prefix, n++))
            map_entity(m, sec, c);
}

static void map_empty_child(struct map *m, const char *section,
                            const struct mime_entity *e)
{
    char sec[sizeof m->parts->section];
    struct mime_entity empty = *e;
    empty.header_off = empty.body_off = e->end_off;
    empty.header_lf = empty.body_lf = e->end_lf;
    empty.end_partial = false;
    if (child_section(sec, sizeof sec, section, 1))
        add(m, sec, &empty);
}

/* A numbered part and what is inside it. */
static void map_entity(struct map *m, const char *section, int idx)
{
    const struct mime_entity *e = &m->sc->ent[idx];
    struct mime_part *p = add(m, section, e);
    if (!p)
        return;
    if (e->kind == MIME_MESSAGE) {
        const struct mime_entity *c = &m->sc->ent[e->first_child];
        p->is_message = 1;
        p->msg_header_len = c->body_off - c->header_off;
        p->msg_header_len_crlf = p->msg_header_len + (c->body_lf - c->header_lf);
        char sec[sizeof p->section];
        snprintf(sec, sizeof sec, "%s", section); /* p may move */
        map_message_body(m, sec, e->first_child);
    } else if (e->kind == MIME_MULTIPART && e->first_child < 0) {
        map_empty_child(m, section, e);
    } else if (e->kind == MIME_MULTIPART) {
        char sec[sizeof p->section];
        snprintf(sec, sizeof sec, "%s", section);
        map_message_body(m, sec, idx);
    }
}

int mime_part_map(const struct mime_scan *sc, struct mime_part **parts, size_t *nparts)
{
    struct map m = {.sc = sc};
    add(&m, "", &sc->ent[0]);
    if (!m.nomem) {
        if (sc->ent[0].kind == MIME_MULTIPART && sc->ent[0].first_child < 0)
            map_empty_child(&m, "", &sc->ent[0]);
        else
            map_message_body(&m, "", 0);
    }
    if (m.nomem) {
        free(m.parts);
        return -1;
    }
    *parts = m.parts;
    *nparts = m.n;
    return 0;
}
