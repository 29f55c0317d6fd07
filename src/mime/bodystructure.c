/* bodystructure: IMAP BODY and BODYSTRUCTURE (RFC 9051 7.5.2, RFC 3501
 * 7.4.2) from the scan. Types, subtypes, encodings and parameter names are
 * upper-cased; parameter values are GMime's decoding (RFC 2231
 * continuations and charsets joined and converted to UTF-8, so they may
 * go out as literals); sizes are the CRLF sizes IMAP sends. Part of
 * portico-mime.so. */
#include "mime/module.h"
#include "mime/params.h"

#include <gmime/gmime.h>
#include <string.h>

static uint64_t body_size_crlf(const struct mime_entity *e)
{
    return (e->end_off - e->body_off) + (e->end_lf - e->body_lf);
}

static uint64_t body_lines(const struct mime_entity *e)
{
    return (e->end_lf - e->body_lf) + (e->end_partial ? 1 : 0);
}

/* A multipart without a boundary is invalid (RFC 2045 5.2: text/plain);
 * a message/rfc822 that is not an encapsulated message (too deep, or a
 * transfer encoding RFC 2046 5.2.1 forbids) would be misread by clients,
 * whose grammar expects an envelope after "MESSAGE" "RFC822": octets. */
void mime_entity_type(const struct mime_entity *e, const char **type,
                      const char **subtype)
{
    *type = "text";
    *subtype = "plain";
    bool message =
        strcmp(e->type, "message") == 0 &&
        (strcmp(e->subtype, "rfc822") == 0 || strcmp(e->subtype, "global") == 0);
    if (e->forced_leaf || (message && e->kind != MIME_MESSAGE)) {
        *type = "application";
        *subtype = "octet-stream";
    } else if (e->type[0] && !e->type_invalid &&
               (strcmp(e->type, "multipart") != 0 || e->kind == MIME_MULTIPART)) {
        *type = e->type;
        *subtype = e->subtype;
    }
}

/* body-fld-param: ("NAME" "value" ...) or NIL. A text part without a
 * charset gets CHARSET us-ascii (RFC 2045 5.2). */
static void put_params(GString *out, const struct mime_params *p, bool text)
{
    bool charset = false;
    if (p->n == 0 && !text) {
        g_string_append(out, "NIL");
        return;
    }
    g_string_append_c(out, '(');
    for (size_t i = 0; i < p->n; i++) {
        if (g_ascii_strcasecmp(p->name[i], "charset") == 0)
            charset = true;
        if (i)
            g_string_append_c(out, ' ');
        mime_put_upper(out, p->name[i]);
        g_string_append_c(out, ' ');
        mime_put_nstring(out, p->value[i]);
    }
    if (text && !charset) {
        if (p->n)
            g_string_append_c(out, ' ');
        g_string_append(out, "\"CHARSET\" \"us-ascii\"");
    }
    g_string_append_c(out, ')');
}

/* The Content-Type parameters of an entity (defaults: none). */
static void put_type_params(GString *out, const struct mime_entity *e, bool text)
{
    const char *ct = e->field[MF_CONTENT_TYPE];
    const char *type, *subtype;
    mime_entity_type(e, &type, &subtype);
    struct mime_params p = {0};
    if (ct && !e->type_invalid &&
        (strcmp(type, e->type) == 0 || strcmp(type, "text") != 0))
        mime_params_read(ct, &p, NULL);
    put_params(out, &p, text);
    mime_params_release(&p);
}

/* body-fld-dsp: ("TYPE" params) or NIL (RFC 2183). */
static void put_disposition(GString *out, const struct mime_entity *e)
{
    const char *v = e->field[MF_CONTENT_DISPOSITION];
    struct mime_params p = {0};
    char *type = NULL;
    if (v && *v)
        mime_params_read(v, &p, &type);
    if (!type || !*type) {
        g_string_append(out, "NIL");
    } else {
        g_string_append_c(out, '(');
        mime_put_upper(out, type);
        g_string_append_c(out, ' ');
        put_params(out, &p, false);
        g_string_append_c(out, ')');
    }
    g_free(type);
    mime_params_release(&p);
}

/* body-fld-lang: the Content-Language tags (RFC 3282) as a list, or NIL. */
static void put_language(GString *out, const struct mime_entity *e)
{
    const char *v = e->field[MF_CONTENT_LANGUAGE];
    char **tags = g_strsplit(v ? v : "", ",", -1);
    int n = 0;
    for (char **t = tags; *t; t++) {
        g_strstrip(*t);
        if (!**t)
            continue;
        g_string_append(out, n++ ? " " : "(");
        mime_put_nstring(out, *t);
    }
    g_string_append(out, n ? ")" : "NIL");
    g_strfreev(tags);
}

/* body-ext-1part / body-ext-mpart after the first field: dsp lang loc. */
static void put_ext_tail(GString *out, const struct mime_entity *e)
{
    g_string_append_c(out, ' ');
    put_disposition(out, e);
    g_string_append_c(out, ' ');
    put_language(out, e);
    g_string_append_c(out, ' ');
    mime_put_nstring(out, e->field[MF_CONTENT_LOCATION]);
}

/* RFC 3501 grammar needs 1*body: a multipart without parts gets an empty
 * text part, as Dovecot sends. */
static void put_empty_part(GString *out, bool extended)
{
    g_string_append(
        out, "(\"TEXT\" \"PLAIN\" (\"CHARSET\" \"us-ascii\") NIL NIL \"7BIT\" 0 0");
    if (extended)
        g_string_append(out, " NIL NIL NIL NIL");
    g_string_append_c(out, ')');
}

static void put_multipart(GString *out, const struct mime_scan *sc, int idx,
                          bool extended)
{
    const struct mime_entity *e = &sc->ent[idx];
    g_string_append_c(out, '(');
    for (int c = e->first_child; c >= 0; c = sc->ent[c].next_sibling)
        mime_put_body(out, sc, c, extended);
    if (e->first_child < 0)
        put_empty_part(out, extended);
    g_string_append_c(out, ' ');
    mime_put_upper(out, e->subtype);
    if (extended) {
        g_string_append_c(out, ' ');
        put_type_params(out, e, false);
        put_ext_tail(out, e);
    }
    g_string_append_c(out, ')');
}

/* body-fields: params id description encoding octets. */
static void put_fields(GString *out, const struct mime_entity *e, bool text)
{
    put_type_params(out, e, text);
    g_string_append_c(out, ' ');
    mime_put_nstring(out, e->field[MF_CONTENT_ID]);
    g_string_append_c(out, ' ');
    mime_put_nstring(out, e->field[MF_CONTENT_DESCRIPTION]);
    g_string_append_c(out, ' ');
    const char *cte = e->field[MF_CTE];
    char *enc = g_strdup(cte && *cte ? cte : "7bit");
    g_strstrip(enc);
    mime_put_upper(out, enc);
    g_free(enc);
    g_string_append_c(out, ' ');
    mime_put_number(out, body_size_crlf(e));
}

static void put_single(GString *out, const struct mime_scan *sc, int idx, bool extended)
{
    const struct mime_entity *e = &sc->ent[idx];
    const char *type, *subtype;
    mime_entity_type(e, &type, &subtype);
    bool text = strcmp(type, "text") == 0;
    g_string_append_c(out, '(');
    mime_put_upper(out, type);
    g_string_append_c(out, ' ');
    mime_put_upper(out, subtype);
    g_string_append_c(out, ' ');
    put_fields(out, e, text);
    if (e->kind == MIME_MESSAGE) { /* body-type-msg: envelope body lines */
        g_string_append_c(out, ' ');
        mime_put_envelope(out, &sc->ent[e->first_child]);
        g_string_append_c(out, ' ');
        mime_put_body(out, sc, e->first_child, extended);
    }
    if (text || e->kind == MIME_MESSAGE) {
        g_string_append_c(out, ' ');
        mime_put_number(out, body_lines(e));
    }
    if (extended) {
        g_string_append_c(out, ' ');
        mime_put_nstring(out, e->field[MF_CONTENT_MD5]);
        put_ext_tail(out, e);
    }
    g_string_append_c(out, ')');
}

void mime_put_body(GString *out, const struct mime_scan *sc, int idx, bool extended)
{
    if (sc->ent[idx].kind == MIME_MULTIPART)
        put_multipart(out, sc, idx, extended);
    else
        put_single(out, sc, idx, extended);
}
