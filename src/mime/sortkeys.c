/* sortkeys: the SORT and THREAD keys of a message from its root header
 * (RFC 5256 2.1 base subject, 3 sort keys; RFC 5957 DISPLAY; the message
 * ids THREAD=REFERENCES links by). Part of portico-mime.so. */
#include "mime/addr.h"
#include "mime/module.h"
#include "mime/subject.h"

#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
    return strdup(s ? s : "");
}

/* RFC 5256 3 (DATE): the sent date; 0 when missing or unparsable. */
static int64_t sent_date(const char *value)
{
    if (!value)
        return 0;
    GDateTime *dt = g_mime_utils_header_decode_date(value);
    if (!dt)
        return 0;
    int64_t t = g_date_time_to_unix(dt);
    g_date_time_unref(dt);
    return t;
}

static const struct mime_addr *first_mailbox(const struct mime_addr_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->a[i].kind == MIME_ADDR_MAILBOX)
            return &l->a[i];
    return NULL;
}

/* RFC 5256 3: the addr-mailbox (local part) of the first address, lower
 * case; "" when there is none. */
static char *sort_address(const struct mime_addr *a)
{
    if (!a || strcmp(a->mailbox, "MISSING_MAILBOX") == 0)
        return dup_str("");
    char *low = g_ascii_strdown(a->mailbox, -1);
    char *s = dup_str(low);
    g_free(low);
    return s;
}

/* RFC 2047 decoding only where there is an encoded word or 8-bit text
 * (GMime's decoder allocates even for plain ASCII). */
static bool needs_decoding(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0x80 || (p[0] == '=' && p[1] == '?'))
            return true;
    return false;
}

/* RFC 5957 2: the decoded display name, else the addr-spec. */
static char *display_address(const struct mime_addr *a)
{
    if (!a)
        return dup_str("");
    if (a->name && *a->name) {
        char *dec = NULL;
        if (needs_decoding(a->name))
            dec = g_mime_utils_header_decode_phrase(NULL, a->name);
        char *s = dup_str(dec && *dec ? dec : a->name);
        g_free(dec);
        return s;
    }
    char *spec = g_strdup_printf("%s@%s", a->mailbox, a->host);
    char *s = dup_str(spec);
    g_free(spec);
    return s;
}

static int address_keys(const char *value, char **sort, char **display)
{
    struct mime_addr_list l;
    if (mime_addr_parse(value, &l) < 0)
        return -1;
    const struct mime_addr *a = first_mailbox(&l);
    *sort = sort_address(a);
    if (display)
        *display = display_address(a);
    mime_addr_release(&l);
    if (!*sort || (display && !*display))
        return -1;
    return 0;
}

/* Every "<...>" msg-id in value (RFC 5322 3.6.4), space-separated, at
 * most `max` of them (0: all). */
static char *message_ids(const char *value, size_t max)
{
    GString *out = g_string_new(NULL);
    size_t found = 0;
    for (const char *p = value ? strchr(value, '<') : NULL; p; p = strchr(p, '<')) {
        size_t n = strcspn(p + 1, "<> \t\r\n");
        if (p[1 + n] != '>' || n == 0) {
            p++;
            continue;
        }
        if (out->len)
            g_string_append_c(out, ' ');
        g_string_append_len(out, p, (gssize)n + 2);
        p += n + 2;
        if (max && ++found == max)
            break;
    }
    return mime_gstring_steal(out);
}

static int subject_key(const char *raw, struct mime_summary *s)
{
    if (!raw)
        raw = "";
    char *dec;
    if (needs_decoding(raw))
        dec = g_mime_utils_header_decode_text(NULL, raw);
    else
        dec = g_strdup(raw);
    char *valid = g_utf8_make_valid(dec ? dec : "", -1);
    bool reply = false;
    s->sort_subject = mime_base_subject(valid, &reply);
    s->subject_reply = reply;
    g_free(valid);
    g_free(dec);
    return s->sort_subject ? 0 : -1;
}

int mime_sort_keys(const struct mime_entity *root, struct mime_summary *s)
{
    s->sent_date = sent_date(root->field[MF_DATE]);
    if (subject_key(root->field[MF_SUBJECT], s) < 0 ||
        address_keys(root->field[MF_FROM], &s->sort_from, &s->display_from) < 0 ||
        address_keys(root->field[MF_TO], &s->sort_to, &s->display_to) < 0 ||
        address_keys(root->field[MF_CC], &s->sort_cc, NULL) < 0)
        return -1;
    s->message_id = message_ids(root->field[MF_MESSAGE_ID], 1);
    s->in_reply_to = message_ids(root->field[MF_IN_REPLY_TO], 1);
    s->references = message_ids(root->field[MF_REFERENCES], 0);
    if (!s->message_id || !s->in_reply_to || !s->references)
        return -1;
    return 0;
}
