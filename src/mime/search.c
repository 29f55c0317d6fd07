/* search: the decoded, case-folded text SEARCH matches against (RFC 9051
 * 6.4.4: HEADER, SUBJECT, FROM ... on RFC 2047-decoded values; BODY and
 * TEXT on the text of text/... parts with the transfer encoding undone and
 * the charset converted to UTF-8). Bodies are read in bounded chunks
 * through GMime's filters, never whole. Part of portico-mime.so. */
#include "mime/limits.h"
#include "mime/module.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bytes read from the file per filter pass. */
#define SEARCH_CHUNK (16 * 1024)

/* Case-folds UTF-8 (invalid bytes replaced), cut at max bytes (0: no cut)
 * on a character boundary; malloc'd. */
static char *fold(const char *s, gssize len, size_t max)
{
    char *valid = g_utf8_make_valid(s, len);
    char *folded = g_utf8_casefold(valid, -1);
    g_free(valid);
    size_t n = strlen(folded);
    if (max && n > max) {
        const char *end = g_utf8_find_prev_char(folded, folded + max + 1);
        n = end ? (size_t)(end - folded) : 0;
    }
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, folded, n);
        out[n] = '\0';
    }
    g_free(folded);
    return out;
}

char *portico_mime_casefold(const char *utf8)
{
    mime_module_start();
    return fold(utf8 ? utf8 : "", -1, 0);
}

static void add_header_value(const char *value, size_t len, void *arg)
{
    GString *out = arg;
    char *raw = g_strndup(value, len);
    g_strstrip(raw);
    char *dec = g_mime_utils_header_decode_text(NULL, raw);
    if (out->len)
        g_string_append_c(out, '\n');
    g_string_append(out, dec ? dec : raw);
    g_free(dec);
    g_free(raw);
}

char *portico_mime_search_header(int fd, const char *name)
{
    mime_module_start();
    GString *out = g_string_new(NULL);
    if (!name || mime_scan_header_values(fd, name, add_header_value, out) < 0) {
        g_string_free(out, TRUE);
        return NULL;
    }
    char *s = fold(out->str, (gssize)out->len, 0);
    g_string_free(out, TRUE);
    return s;
}

/* ---- bodies ---- */

struct decoder {
    GMimeFilter *basic, *charset; /* either may be NULL */
};

static const char *charset_of(const struct mime_entity *e, GMimeContentType **ct)
{
    *ct = NULL;
    if (!e->field[MF_CONTENT_TYPE] || e->type_invalid)
        return NULL;
    *ct = g_mime_content_type_parse(NULL, e->field[MF_CONTENT_TYPE]);
    return *ct ? g_mime_content_type_get_parameter(*ct, "charset") : NULL;
}

static void decoder_init(struct decoder *d, const struct mime_entity *e)
{
    memset(d, 0, sizeof *d);
    GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_DEFAULT;
    if (e->field[MF_CTE])
        enc = g_mime_content_encoding_from_string(e->field[MF_CTE]);
    if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
        enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
        enc == GMIME_CONTENT_ENCODING_UUENCODE)
        d->basic = g_mime_filter_basic_new(enc, FALSE);
    GMimeContentType *ct;
    const char *cs = charset_of(e, &ct);
    if (cs && g_ascii_strcasecmp(cs, "utf-8") != 0 &&
        g_ascii_strcasecmp(cs, "us-ascii") != 0)
        d->charset = g_mime_filter_charset_new(cs, "UTF-8"); /* NULL if unknown */
    if (ct)
        g_object_unref(ct);
}

static void decoder_release(struct decoder *d)
{
    if (d->basic)
        g_object_unref(d->basic);
    if (d->charset)
        g_object_unref(d->charset);
}

/* Runs one chunk through the filters (complete: the last one). */
static void decode_chunk(struct decoder *d, char *in, size_t len, bool complete,
                         GString *out)
{
    char *p = in;
    size_t n = len, prespace = 0;
    GMimeFilter *chain[2] = {d->basic, d->charset};
    for (int i = 0; i < 2; i++) {
        if (!chain[i])
            continue;
        if (complete)
            g_mime_filter_complete(chain[i], p, n, prespace, &p, &n, &prespace);
        else
            g_mime_filter_filter(chain[i], p, n, prespace, &p, &n, &prespace);
    }
    g_string_append_len(out, p, (gssize)n);
}

static int read_part(int fd, const struct mime_entity *e, size_t max, GString *out)
{
    struct decoder d;
    decoder_init(&d, e);
    char *buf = g_malloc(SEARCH_CHUNK);
    uint64_t off = e->body_off;
    int rc = 0;
    while (out->len < max) {
        size_t want = SEARCH_CHUNK;
        if (e->end_off - off < want)
            want = (size_t)(e->end_off - off);
        ssize_t n = want ? pread(fd, buf, want, (off_t)off) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -1;
        if (n <= 0) {
            decode_chunk(&d, buf, 0, true, out);
            break;
        }
        off += (uint64_t)n;
        decode_chunk(&d, buf, (size_t)n, false, out);
    }
    g_free(buf);
    decoder_release(&d);
    return rc;
}

static bool is_text(const struct mime_entity *e)
{
    const char *type, *subtype;
    mime_entity_type(e, &type, &subtype);
    return e->kind == MIME_LEAF && strcmp(type, "text") == 0;
}

char *portico_mime_search_body(int fd, size_t max)
{
    mime_module_start();
    struct mime_scan sc;
    if (mime_scan_fd(fd, 0, false, &sc) < 0)
        return NULL;
    GString *out = g_string_new(NULL);
    int rc = 0;
    for (size_t i = 0; i < sc.nent && rc == 0 && out->len < max; i++) {
        if (!is_text(&sc.ent[i]))
            continue;
        if (out->len)
            g_string_append_c(out, '\n');
        rc = read_part(fd, &sc.ent[i], max, out);
    }
    mime_scan_release(&sc);
    char *s = NULL;
    if (rc == 0)
        s = fold(out->str, (gssize)out->len, max);
    g_string_free(out, TRUE);
    return s;
}
