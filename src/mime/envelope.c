/* envelope: GMime parse -> IMAP ENVELOPE text (RFC 9051 7.5.2). Header
 * values are the raw (still RFC 2047 encoded) text, unfolded, as IMAP sends
 * them; sender and reply-to default to from as the RFC requires.
 * Built as the module portico-mime.so (see loader.c), not into the daemon. */
#include "mime/envelope.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init();
}

/* nstring: NIL, a quoted string, or a literal when it holds 8-bit, CR, LF,
 * NUL or is long (RFC 9051 4.3). */
static void put_nstring(GString *out, const char *s)
{
    if (!s) {
        g_string_append(out, "NIL");
        return;
    }
    bool quoted = strlen(s) < 1000;
    for (const unsigned char *p = (const unsigned char *)s; quoted && *p; p++)
        if (*p >= 0x80 || *p == '\r' || *p == '\n')
            quoted = false;
    if (!quoted) {
        g_string_append_printf(out, "{%zu}\r\n%s", strlen(s), s);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

/* The raw value of a header, unfolded and trimmed; NULL if absent. */
static char *header_raw(GMimeObject *obj, const char *name)
{
    GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
    GMimeHeader *h = hl ? g_mime_header_list_get_header(hl, name) : NULL;
    const char *raw = h ? g_mime_header_get_raw_value(h) : NULL;
    if (!raw)
        return NULL;
    char *v = g_malloc(strlen(raw) + 1), *o = v;
    for (const char *p = raw; *p; p++)
        if (*p != '\r' && *p != '\n')
            *o++ = *p;
    *o = '\0';
    g_strstrip(v);
    return v;
}

static void put_header(GString *out, GMimeObject *obj, const char *name)
{
    char *v = header_raw(obj, name);
    put_nstring(out, v);
    g_free(v);
}

static void put_mailbox(GString *out, InternetAddress *ia)
{
    const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    const char *at = addr ? strrchr(addr, '@') : NULL;
    char *local = addr ? g_strndup(addr, at ? (gsize)(at - addr) : strlen(addr)) : NULL;
    const char *name = internet_address_get_name(ia);
    g_string_append_c(out, '(');
    put_nstring(out, name && *name ? name : NULL);
    g_string_append(out, " NIL ");
    put_nstring(out, local);
    g_string_append_c(out, ' ');
    put_nstring(out, at ? at + 1 : NULL);
    g_string_append_c(out, ')');
    g_free(local);
}

static void put_list_items(GString *out, InternetAddressList *list);

/* RFC 9051 7.5.2: a group is (NIL NIL "name" NIL) members (NIL NIL NIL NIL). */
static void put_group(GString *out, InternetAddress *ia)
{
    g_string_append(out, "(NIL NIL ");
    put_nstring(out, internet_address_get_name(ia));
    g_string_append(out, " NIL)");
    put_list_items(out, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)));
    g_string_append(out, "(NIL NIL NIL NIL)");
}

static void put_list_items(GString *out, InternetAddressList *list)
{
    int n = list ? internet_address_list_length(list) : 0;
    for (int i = 0; i < n; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_GROUP(ia))
            put_group(out, ia);
        else
            put_mailbox(out, ia);
    }
}

static void put_addresses(GString *out, GMimeMessage *msg, GMimeAddressType type,
                          GMimeAddressType fallback)
{
    InternetAddressList *list = g_mime_message_get_addresses(msg, type);
    if (!list || internet_address_list_length(list) == 0)
        list = g_mime_message_get_addresses(msg, fallback);
    if (!list || internet_address_list_length(list) == 0) {
        g_string_append(out, "NIL");
        return;
    }
    g_string_append_c(out, '(');
    put_list_items(out, list);
    g_string_append_c(out, ')');
}

static char *envelope_of(GMimeMessage *msg)
{
    GMimeObject *obj = GMIME_OBJECT(msg);
    GString *out = g_string_new("(");
    put_header(out, obj, "Date");
    g_string_append_c(out, ' ');
    put_header(out, obj, "Subject");
    static const GMimeAddressType types[][2] = {
        {GMIME_ADDRESS_TYPE_FROM, GMIME_ADDRESS_TYPE_FROM},
        {GMIME_ADDRESS_TYPE_SENDER, GMIME_ADDRESS_TYPE_FROM},
        {GMIME_ADDRESS_TYPE_REPLY_TO, GMIME_ADDRESS_TYPE_FROM},
        {GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_TO},
        {GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_CC},
        {GMIME_ADDRESS_TYPE_BCC, GMIME_ADDRESS_TYPE_BCC},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        g_string_append_c(out, ' ');
        put_addresses(out, msg, types[i][0], types[i][1]);
    }
    g_string_append_c(out, ' ');
    put_header(out, obj, "In-Reply-To");
    g_string_append_c(out, ' ');
    put_header(out, obj, "Message-ID");
    g_string_append_c(out, ')');
    char *s = strdup(out->str);
    g_string_free(out, TRUE);
    return s;
}

/* The module's one entry point; loader.c resolves it by this name. */
char *portico_mime_envelope_fd(int fd);

char *portico_mime_envelope_fd(int fd)
{
    pthread_once(&gmime_once, gmime_start);
    int dupfd = dup(fd);
    if (dupfd < 0)
        return NULL;
    GMimeStream *stream = g_mime_stream_fs_new(dupfd); /* owns dupfd */
    g_mime_stream_seek(stream, 0, GMIME_STREAM_SEEK_SET);
    GMimeParser *parser = g_mime_parser_new_with_stream(stream);
    g_object_unref(stream);
    GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);
    g_object_unref(parser);
    if (!msg)
        return NULL;
    char *env = envelope_of(msg);
    g_object_unref(msg);
    return env;
}
