/* fetch_parse: RFC 9051 9 fetch-att, section, section-spec, partial
 * (number64 since rev2), the ALL/FAST/FULL macros, RFC 3516 BINARY
 * sections and the RFC 7162 fetch modifiers. Pure. */
#include "imap/fetch_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/parse.h"
#include "imap/seqset.h"

static const struct {
    const char *name;
    enum imap_fetch_att att;
} simple_atts[] = {
    {"FLAGS", IMAP_FA_FLAGS},
    {"INTERNALDATE", IMAP_FA_INTERNALDATE},
    {"RFC822.SIZE", IMAP_FA_RFC822_SIZE},
    {"RFC822.HEADER", IMAP_FA_RFC822_HEADER},
    {"RFC822.TEXT", IMAP_FA_RFC822_TEXT},
    {"RFC822", IMAP_FA_RFC822},
    {"ENVELOPE", IMAP_FA_ENVELOPE},
    {"BODYSTRUCTURE", IMAP_FA_BODYSTRUCTURE},
    {"BODY", IMAP_FA_BODY},
    {"UID", IMAP_FA_UID},
    {"MODSEQ", IMAP_FA_MODSEQ},
    {"EMAILID", IMAP_FA_EMAILID},
    {"THREADID", IMAP_FA_THREADID},
};

void imap_fetch_free(struct imap_fetch **f)
{
    if (*f == NULL)
        return;
    imap_seqset_free(&(*f)->set);
    free(*f);
    *f = NULL;
}

static struct imap_fetch_item *add_item(struct imap_parser *p, struct imap_fetch *f,
                                        enum imap_fetch_att att)
{
    if (f->n >= IMAP_MAX_FETCH_ATTS) {
        imap_error(p, "Too many FETCH attributes");
        return NULL;
    }
    struct imap_fetch_item *it = &f->items[f->n++];
    memset(it, 0, sizeof *it);
    it->att = att;
    return it;
}

/* header-list = "(" header-fld-name *(SP header-fld-name) ")" */
static int header_list(struct imap_parser *p, struct imap_fetch *f,
                       struct imap_fetch_item *it)
{
    if (imap_sp(p) < 0 || imap_list_open(p) < 0)
        return -1;
    it->fields = &f->fields[f->nfields];
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        const char *name;
        size_t len;
        if (imap_astring_text(p, &name, &len) < 0)
            return -1;
        /* RFC 5322 3.6.8 field-name: 1*ftext (printable except ":") */
        if (len == 0 || len > IMAP_MAX_ATOM || strchr(name, ':') != NULL)
            return imap_error(p, "Invalid header field name");
        if (f->nfields >= IMAP_MAX_HEADER_FIELDS)
            return imap_error(p, "Too many header field names");
        f->fields[f->nfields++] = name;
        it->nfields++;
    }
    if (r == 0 && it->nfields == 0)
        return imap_error(p, "Empty header list");
    return r;
}

/* section-part = nz-number *("." nz-number); a "." followed by a letter
 * introduces section-text (*more set, the cursor after the "."). */
static int section_part(struct imap_parser *p, struct imap_fetch_item *it, bool *more)
{
    size_t len = 0;
    unsigned depth = 0;
    *more = false;
    while (imap_peek(p) >= '0' && imap_peek(p) <= '9') {
        uint32_t n;
        if (++depth > IMAP_MAX_SECTION_DEPTH)
            return imap_error(p, "Section part nested too deeply");
        if (imap_nz_number(p, &n) < 0)
            return -1;
        const char *dot = "";
        if (len > 0)
            dot = ".";
        len += (size_t)snprintf(it->part + len, sizeof it->part - len, "%s%u", dot, n);
        if (!imap_accept(p, '.'))
            return 0;
        if (imap_peek(p) < '0' || imap_peek(p) > '9') {
            *more = true;
            return 0;
        }
    }
    return 0;
}

/* section-msgtext / "MIME" after an optional part. */
static int section_text(struct imap_parser *p, struct imap_fetch *f,
                        struct imap_fetch_item *it, bool after_part)
{
    const char *name;
    if (imap_chars(p, "", "]", &name) < 0)
        return -1;
    if (strcasecmp(name, "HEADER") == 0) {
        it->text = IMAP_SECT_HEADER;
    } else if (strcasecmp(name, "TEXT") == 0) {
        it->text = IMAP_SECT_TEXT;
    } else if (strcasecmp(name, "MIME") == 0 && after_part) {
        it->text = IMAP_SECT_MIME;
    } else if (strcasecmp(name, "HEADER.FIELDS") == 0) {
        it->text = IMAP_SECT_HEADER_FIELDS;
        return header_list(p, f, it);
    } else if (strcasecmp(name, "HEADER.FIELDS.NOT") == 0) {
        it->text = IMAP_SECT_HEADER_FIELDS_NOT;
        return header_list(p, f, it);
    } else {
        return imap_error(p, "Invalid section \"%s\"", name);
    }
    return 0;
}

/* "[" [section-spec] "]", or for BINARY "[" [section-part] "]". */
static int section(struct imap_parser *p, struct imap_fetch *f,
                   struct imap_fetch_item *it, bool binary)
{
    if (imap_expect(p, '[') < 0)
        return -1;
    if (imap_accept(p, ']'))
        return 0;
    bool more = false;
    if (section_part(p, it, &more) < 0)
        return -1;
    bool after_part = it->part[0] != '\0';
    if ((more || !after_part) && binary)
        return imap_error(p, "BINARY takes part numbers only");
    if ((more || !after_part) && section_text(p, f, it, after_part) < 0)
        return -1;
    return imap_expect(p, ']');
}

/* partial = "<" number64 "." nz-number64 ">" (RFC 9051 9). */
static int partial(struct imap_parser *p, struct imap_fetch_item *it)
{
    if (!imap_accept(p, '<'))
        return 0;
    it->partial = true;
    if (imap_number64(p, &it->offset) < 0 || imap_expect(p, '.') < 0 ||
        imap_number64(p, &it->length) < 0)
        return -1;
    if (it->length == 0)
        return imap_error(p, "Partial length must not be zero");
    return imap_expect(p, '>');
}

static int section_att(struct imap_parser *p, struct imap_fetch *f, const char *name)
{
    static const struct {
        const char *name;
        enum imap_fetch_att att;
        bool peek, binary, may_partial;
    } forms[] = {
        {"BODY", IMAP_FA_BODY_SECTION, false, false, true},
        {"BODY.PEEK", IMAP_FA_BODY_SECTION, true, false, true},
        {"BINARY", IMAP_FA_BINARY, false, true, true},
        {"BINARY.PEEK", IMAP_FA_BINARY, true, true, true},
        {"BINARY.SIZE", IMAP_FA_BINARY_SIZE, true, true, false},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        if (strcasecmp(name, forms[i].name) != 0)
            continue;
        struct imap_fetch_item *it = add_item(p, f, forms[i].att);
        if (it == NULL)
            return -1;
        it->peek = forms[i].peek;
        if (section(p, f, it, forms[i].binary) < 0)
            return -1;
        if (forms[i].may_partial)
            return partial(p, it);
        return 0;
    }
    return imap_error(p, "Unknown FETCH attribute \"%s\"", name);
}

static int fetch_att(struct imap_parser *p, struct imap_fetch *f)
{
    const char *name;
    if (imap_chars(p, "", "[<", &name) < 0)
        return -1;
    if (imap_peek(p) == '[')
        return section_att(p, f, name);
    for (size_t i = 0; i < sizeof simple_atts / sizeof simple_atts[0]; i++) {
        if (strcasecmp(name, simple_atts[i].name) != 0)
            continue;
        if (add_item(p, f, simple_atts[i].att) == NULL)
            return -1;
        return 0;
    }
    return imap_error(p, "Unknown FETCH attribute \"%s\"", name);
}

/* RFC 9051 6.4.5: ALL, FAST and FULL stand for fixed lists. */
static int macro(struct imap_parser *p, struct imap_fetch *f, bool *done)
{
    static const enum imap_fetch_att fast[] = {IMAP_FA_FLAGS, IMAP_FA_INTERNALDATE,
                                               IMAP_FA_RFC822_SIZE, IMAP_FA_ENVELOPE,
                                               IMAP_FA_BODY};
    size_t n = 0;
    if (imap_accept_word(p, "FAST"))
        n = 3;
    else if (imap_accept_word(p, "ALL"))
        n = 4;
    else if (imap_accept_word(p, "FULL"))
        n = 5;
    *done = n > 0;
    for (size_t i = 0; i < n; i++)
        if (add_item(p, f, fast[i]) == NULL)
            return -1;
    return 0;
}

static int atts(struct imap_parser *p, struct imap_fetch *f)
{
    bool done;
    if (macro(p, f, &done) < 0)
        return -1;
    if (done)
        return 0;
    if (imap_peek(p) != '(')
        return fetch_att(p, f);
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0)
        if (fetch_att(p, f) < 0)
            return -1;
    if (r == 0 && f->n == 0)
        return imap_error(p, "Empty FETCH attribute list");
    return r;
}

/* RFC 7162 3.1.4.1 "CHANGEDSINCE" SP mod-sequence-value, 3.2.6 VANISHED. */
static int modifiers(struct imap_parser *p, struct imap_fetch *f, bool uid)
{
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int r;
    while ((r = imap_list_next(p, &first)) > 0) {
        if (imap_accept_word(p, "CHANGEDSINCE")) {
            /* mod-sequence-valzer: clients send 0 for "everything" */
            if (imap_sp(p) < 0 || imap_modseq_valzer(p, &f->modseq) < 0)
                return -1;
            f->changedsince = true;
        } else if (imap_accept_word(p, "VANISHED")) {
            f->vanished = true;
        } else {
            return imap_error(p, "Unknown FETCH modifier");
        }
    }
    if (r < 0)
        return -1;
    if (!f->changedsince && !f->vanished)
        return imap_error(p, "Empty FETCH modifier list");
    if (f->vanished && (!uid || !f->changedsince))
        return imap_error(p, "VANISHED needs UID FETCH and CHANGEDSINCE");
    return 0;
}

int imap_fetch_parse(struct imap_parser *p, bool uid, struct imap_fetch **out)
{
    *out = NULL;
    struct imap_fetch *f = calloc(1, sizeof *f);
    if (f == NULL)
        return imap_error(p, "Out of memory");
    int r = imap_seqset_parse(p, IMAP_SEQ_ALLOW_SAVED, &f->set);
    if (r == 0)
        r = imap_sp(p);
    if (r == 0)
        r = atts(p, f);
    if (r == 0 && imap_accept(p, ' '))
        r = modifiers(p, f, uid);
    if (r == 0)
        r = imap_end(p);
    if (r != 0) {
        imap_fetch_free(&f);
        return -1;
    }
    *out = f;
    return 0;
}

bool imap_fetch_sets_seen(const struct imap_fetch *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const struct imap_fetch_item *it = &f->items[i];
        if (it->att == IMAP_FA_RFC822 || it->att == IMAP_FA_RFC822_TEXT)
            return true;
        if ((it->att == IMAP_FA_BODY_SECTION || it->att == IMAP_FA_BINARY) && !it->peek)
            return true;
    }
    return false;
}

/* Appends text keeping snprintf semantics. */
static void emit(char *out, size_t outlen, size_t *len, const char *text)
{
    size_t n = strlen(text);
    if (*len < outlen) {
        size_t c = n;
        if (c > outlen - *len - 1)
            c = outlen - *len - 1;
        memcpy(out + *len, text, c);
        out[*len + c] = '\0';
    }
    *len += n;
}

static const char *const text_names[] = {
    [IMAP_SECT_ALL] = "",
    [IMAP_SECT_HEADER] = "HEADER",
    [IMAP_SECT_HEADER_FIELDS] = "HEADER.FIELDS",
    [IMAP_SECT_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
    [IMAP_SECT_TEXT] = "TEXT",
    [IMAP_SECT_MIME] = "MIME",
};

/* section-spec as the client wrote it, field names as given. */
static void section_spec(const struct imap_fetch_item *it, char *out, size_t outlen,
                         size_t *len)
{
    emit(out, outlen, len, it->part);
    if (it->part[0] != '\0' && it->text != IMAP_SECT_ALL)
        emit(out, outlen, len, ".");
    emit(out, outlen, len, text_names[it->text]);
    if (it->nfields == 0)
        return;
    emit(out, outlen, len, " (");
    for (size_t i = 0; i < it->nfields; i++) {
        if (i > 0)
            emit(out, outlen, len, " ");
        emit(out, outlen, len, it->fields[i]);
    }
    emit(out, outlen, len, ")");
}

size_t imap_fetch_item_name(const struct imap_fetch_item *it, char *out, size_t outlen)
{
    size_t len = 0;
    if (outlen > 0)
        out[0] = '\0';
    for (size_t i = 0; i < sizeof simple_atts / sizeof simple_atts[0]; i++)
        if (simple_atts[i].att == it->att)
            emit(out, outlen, &len, simple_atts[i].name);
    if (len > 0)
        return len;
    /* RFC 9051 7.5.2: BODY[section]<origin>, never ".PEEK"; RFC 3516 4.2 */
    if (it->att == IMAP_FA_BODY_SECTION)
        emit(out, outlen, &len, "BODY[");
    else if (it->att == IMAP_FA_BINARY)
        emit(out, outlen, &len, "BINARY[");
    else
        emit(out, outlen, &len, "BINARY.SIZE[");
    section_spec(it, out, outlen, &len);
    emit(out, outlen, &len, "]");
    if (it->partial) {
        char buf[32];
        snprintf(buf, sizeof buf, "<%llu>", (unsigned long long)it->offset);
        emit(out, outlen, &len, buf);
    }
    return len;
}
