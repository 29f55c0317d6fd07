/* params: parameter lists, plain ones by hand, the rest through GMime
 * (see params.h). GObject construction dominated the cost of a summary,
 * and almost every real parameter list is plain. */
#include "mime/params.h"

#include "mime/module.h"
#include "mime/token.h"

#include <gmime/gmime.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static const char *ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static bool add(struct mime_params *out, const char *name, size_t nlen, const char *value,
                size_t vlen)
{
    if (out->n == MIME_MAX_PARAMS)
        return false;
    out->name[out->n] = g_strndup(name, nlen);
    out->value[out->n] = g_strndup(value, vlen);
    out->n++;
    return true;
}

/* A quoted-string value, unescaped; NULL if unterminated. */
static const char *quoted(const char *p, GString *v)
{
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        g_string_append_c(v, *p);
    }
    return *p == '"' ? p + 1 : NULL;
}

/* false: not plain, leave it to GMime. */
static bool read_plain(const char *p, struct mime_params *out)
{
    GString *v = g_string_new(NULL);
    bool ok = true;
    while (ok && *(p = ws(p))) {
        const char *name = p;
        while (mime_token_char((unsigned char)*p) && *p != '*')
            p++;
        size_t nlen = (size_t)(p - name);
        p = ws(p);
        ok = nlen && *p == '=';
        if (!ok)
            break;
        p = ws(p + 1);
        g_string_truncate(v, 0);
        if (*p == '"') {
            p = quoted(p, v);
        } else {
            const char *s = p;
            while (mime_token_char((unsigned char)*p))
                p++;
            g_string_append_len(v, s, p - s);
        }
        ok = p && !strstr(v->str, "=?") && add(out, name, nlen, v->str, v->len);
        if (ok)
            p = ws(p);
        ok = ok && (*p == ';' || *p == '\0');
        if (ok && *p == ';')
            p++;
    }
    g_string_free(v, TRUE);
    return ok;
}

static bool plain_text(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80 || *p == '(')
            return false;
    return true;
}

static void from_gmime(GMimeParamList *list, struct mime_params *out)
{
    int n = list ? g_mime_param_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        GMimeParam *prm = g_mime_param_list_get_parameter_at(list, i);
        const char *name = g_mime_param_get_name(prm);
        const char *value = g_mime_param_get_value(prm);
        if (!value)
            value = "";
        if (!add(out, name, strlen(name), value, strlen(value)))
            return;
    }
}

static void read_gmime(const char *value, struct mime_params *out, char **type)
{
    if (type) {
        GMimeContentDisposition *d = g_mime_content_disposition_parse(NULL, value);
        if (!d)
            return;
        const char *t = g_mime_content_disposition_get_disposition(d);
        *type = g_strdup(t ? t : "");
        from_gmime(g_mime_content_disposition_get_parameters(d), out);
        g_object_unref(d);
        return;
    }
    GMimeContentType *ct = g_mime_content_type_parse(NULL, value);
    if (!ct)
        return;
    from_gmime(g_mime_content_type_get_parameters(ct), out);
    g_object_unref(ct);
}

int mime_params_read(const char *header_value, struct mime_params *out, char **type)
{
    memset(out, 0, sizeof *out);
    if (type)
        *type = NULL;
    const char *semi = strchr(header_value, ';');
    if (plain_text(header_value) && (!semi || read_plain(semi + 1, out))) {
        if (type) {
            size_t n = semi ? (size_t)(semi - header_value) : strlen(header_value);
            *type = g_strstrip(g_strndup(header_value, n));
        }
        return 0;
    }
    mime_params_release(out);
    read_gmime(header_value, out, type);
    return 0;
}

void mime_params_release(struct mime_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        g_free(p->name[i]);
        g_free(p->value[i]);
    }
    p->n = 0;
}
