/* downgrade: the 7-bit form of an 8-bit message, for a next hop that does
 * not offer 8BITMIME (RFC 6152 3: "convert the message to 7 bit MIME"
 * rather than send it as is). Leaf parts that are 8bit or binary (or
 * labelled 7bit but carrying 8-bit bytes) get a new transfer encoding: text
 * quoted-printable (RFC 2045 6.7, soft line breaks keep lines at 76), other
 * types what GMime finds best under the 7-bit constraint; containers
 * (multipart, message/rfc822) get "7bit". The rest of the message is
 * written back as GMime parsed it (raw header values, preambles). Part of
 * portico-mime.so. */
#include "mime/module.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#define DOWNGRADE_MAX_DEPTH 32

/* GMime's "best" answer for content that is fine as it is: DEFAULT (plain
 * short ASCII lines) or 7BIT. */
bool mime_encoding_is_7bit(GMimeContentEncoding enc)
{
    return enc == GMIME_CONTENT_ENCODING_DEFAULT || enc == GMIME_CONTENT_ENCODING_7BIT;
}

static bool needs_new_encoding(GMimePart *part)
{
    GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
    if (enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
        enc == GMIME_CONTENT_ENCODING_BASE64 || enc == GMIME_CONTENT_ENCODING_UUENCODE)
        return false;
    if (enc == GMIME_CONTENT_ENCODING_8BIT || enc == GMIME_CONTENT_ENCODING_BINARY)
        return true;
    /* 7bit or none: only if the bytes say otherwise. */
    GMimeContentEncoding best =
        g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT);
    return !mime_encoding_is_7bit(best);
}

static void reencode_leaf(GMimePart *part)
{
    if (!needs_new_encoding(part))
        return;
    GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
    GMimeContentEncoding enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
    if (ct && !g_mime_content_type_is_type(ct, "text", "*"))
        enc = g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT);
    g_mime_part_set_content_encoding(part, enc);
}

/* A container's own Content-Transfer-Encoding may only say 7bit now
 * (RFC 2045 6.4: 8bit would be a lie, anything else is not allowed). */
static void container_7bit(GMimeObject *obj)
{
    const char *cte = g_mime_object_get_header(obj, "Content-Transfer-Encoding");
    if (cte)
        g_mime_object_set_header(obj, "Content-Transfer-Encoding", "7bit", NULL);
}

static void downgrade_object(GMimeObject *obj, int depth)
{
    if (!obj || depth > DOWNGRADE_MAX_DEPTH)
        return;
    if (GMIME_IS_MULTIPART(obj)) {
        container_7bit(obj);
        GMimeMultipart *mp = GMIME_MULTIPART(obj);
        int n = g_mime_multipart_get_count(mp);
        for (int i = 0; i < n; i++)
            downgrade_object(g_mime_multipart_get_part(mp, i), depth + 1);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
        container_7bit(obj);
        GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
        if (inner)
            downgrade_object(g_mime_message_get_mime_part(inner), depth + 1);
    } else if (GMIME_IS_PART(obj)) {
        reencode_leaf(GMIME_PART(obj));
    }
}

char *mime_object_to_text(GMimeObject *obj, size_t *outlen)
{
    GMimeStream *out = g_mime_stream_mem_new();
    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_UNIX);
    char *text = NULL;
    if (g_mime_object_write_to_stream(obj, fo, out) >= 0) {
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
        text = malloc(ba->len + 1);
        if (text) {
            memcpy(text, ba->data, ba->len);
            text[ba->len] = '\0';
            *outlen = ba->len;
        }
    }
    g_mime_format_options_free(fo);
    g_object_unref(out);
    return text;
}

char *portico_mime_downgrade(const char *msg, size_t len, size_t *outlen)
{
    mime_module_start();
    GMimeStream *in = g_mime_stream_mem_new_with_buffer(msg, len);
    GMimeParser *parser = g_mime_parser_new_with_stream(in);
    GMimeMessage *m = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    g_object_unref(in);
    if (!m)
        return NULL;
    GMimeObject *root = g_mime_message_get_mime_part(m);
    downgrade_object(root, 0);
    if (!g_mime_object_get_header(GMIME_OBJECT(m), "MIME-Version"))
        g_mime_object_set_header(GMIME_OBJECT(m), "MIME-Version", "1.0", NULL);
    char *text = mime_object_to_text(GMIME_OBJECT(m), outlen);
    g_object_unref(m);
    return text;
}
