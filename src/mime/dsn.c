/* dsn: delivery status notifications composed with GMime (RFC 3464 as a
 * multipart/report, RFC 6522 3): the human-readable text/plain part, the
 * message/delivery-status part the relay wrote, and the original as
 * text/rfc822-headers (RFC 6522 4) or message/rfc822 (RET=FULL, RFC 3461
 * 4.3). Text parts get quoted-printable when they carry 8-bit text; the
 * returned message is kept byte for byte (8bit when it has 8-bit bytes,
 * which the relay downgrades for a next hop without 8BITMIME). Part of
 * portico-mime.so. */
#include "mime/compose.h"
#include "mime/module.h"

#include <gmime/gmime.h>
#include <string.h>

/* A leaf of type/subtype holding text (len bytes), encoded for 7-bit
 * transport when text_encode, else labelled 8bit when it needs it. */
static GMimePart *leaf(const char *type, const char *subtype, const char *text,
                       size_t len, bool text_encode)
{
    GMimePart *part = g_mime_part_new_with_type(type, subtype);
    GMimeStream *st = g_mime_stream_mem_new_with_buffer(text, len);
    GMimeDataWrapper *w =
        g_mime_data_wrapper_new_with_stream(st, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(part, w);
    g_object_unref(w);
    g_object_unref(st);
    GMimeContentEncoding best =
        g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT);
    if (!mime_encoding_is_7bit(best)) {
        if (text_encode)
            g_mime_part_set_content_encoding(part,
                                             GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
        else
            g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_8BIT);
    }
    return part;
}

static GMimePart *human_part(const char *text)
{
    GMimePart *p = leaf("text", "plain", text, strlen(text), true);
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(p), "charset", "utf-8");
    return p;
}

static void set_headers(GMimeMessage *m, const struct mime_dsn *d)
{
    GMimeObject *o = GMIME_OBJECT(m);
    g_mime_object_set_header(o, "From", d->from, NULL);
    char *to = g_strdup_printf("<%s>", d->to);
    g_mime_object_set_header(o, "To", to, NULL);
    g_free(to);
    g_mime_message_set_subject(m, d->subject, "utf-8");
    GDateTime *now = g_date_time_new_now_local();
    g_mime_message_set_date(m, now);
    g_date_time_unref(now);
    g_mime_message_set_message_id(m, d->message_id);
    /* RFC 3834 5: a DSN is an automatic reply; nobody should answer it. */
    g_mime_object_set_header(o, "Auto-Submitted", "auto-replied", NULL);
    g_mime_object_set_header(o, "MIME-Version", "1.0", NULL);
}

char *portico_mime_dsn_compose(const struct mime_dsn *d, size_t *outlen)
{
    mime_module_start();
    GMimeMultipart *report = g_mime_multipart_new_with_subtype("report");
    g_mime_object_set_content_type_parameter(GMIME_OBJECT(report), "report-type",
                                             "delivery-status");
    g_mime_multipart_set_prologue(report, "This is a MIME-encapsulated message.");
    GMimePart *parts[3];
    parts[0] = human_part(d->human);
    parts[1] = leaf("message", "delivery-status", d->status, strlen(d->status), false);
    if (d->full)
        parts[2] = leaf("message", "rfc822", d->original, d->original_len, false);
    else
        parts[2] = leaf("text", "rfc822-headers", d->original, d->original_len, false);
    for (int i = 0; i < 3; i++) {
        g_mime_multipart_add(report, GMIME_OBJECT(parts[i]));
        g_object_unref(parts[i]);
    }
    GMimeMessage *m = g_mime_message_new(TRUE);
    set_headers(m, d);
    g_mime_message_set_mime_part(m, GMIME_OBJECT(report));
    g_object_unref(report);
    char *text = mime_object_to_text(GMIME_OBJECT(m), outlen);
    g_object_unref(m);
    return text;
}
