/* envelope: the IMAP ENVELOPE (RFC 9051 7.5.2) of a header, from the raw
 * values the scanner kept: date, subject, in-reply-to and message-id are
 * the header's own text (RFC 2047 encoded words left as they are);
 * address lists become (name adl mailbox host) with groups as
 * (NIL NIL "group" NIL) ... (NIL NIL NIL NIL); sender and reply-to default
 * to from (7.5.2: "If the Sender or Reply-To lines are absent in the
 * [RFC-5322] header, or are present but empty, the server sets the
 * corresponding member of the envelope to be the same value as the from
 * member"). Part of portico-mime.so. */
#include "mime/envelope.h"
#include "mime/addr.h"
#include "mime/module.h"

#include <gmime/gmime.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init();
}

void mime_module_start(void)
{
    pthread_once(&gmime_once, gmime_start);
}

static void put_address(GString *out, const struct mime_addr *a)
{
    g_string_append_c(out, '(');
    if (a->kind == MIME_ADDR_GROUP_END) {
        g_string_append(out, "NIL NIL NIL NIL)");
        return;
    }
    if (a->kind == MIME_ADDR_GROUP_START) {
        g_string_append(out, "NIL NIL ");
        mime_put_nstring(out, a->name);
        g_string_append(out, " NIL)");
        return;
    }
    mime_put_nstring(out, a->name);
    g_string_append_c(out, ' ');
    mime_put_nstring(out, a->route);
    g_string_append_c(out, ' ');
    mime_put_nstring(out, a->mailbox);
    g_string_append_c(out, ' ');
    mime_put_nstring(out, a->host);
    g_string_append_c(out, ')');
}

/* An address list, or NIL when it holds no address (groups count: an
 * empty group "undisclosed-recipients:;" is still sent). */
static bool put_addresses(GString *out, const char *value)
{
    struct mime_addr_list l;
    if (!value || mime_addr_parse(value, &l) < 0 || l.n == 0) {
        if (value)
            mime_addr_release(&l);
        return false;
    }
    g_string_append_c(out, '(');
    for (size_t i = 0; i < l.n; i++)
        put_address(out, &l.a[i]);
    g_string_append_c(out, ')');
    mime_addr_release(&l);
    return true;
}

static void put_list(GString *out, const struct mime_entity *e, enum mime_field f,
                     bool from_fallback)
{
    if (put_addresses(out, e->field[f]))
        return;
    if (from_fallback && put_addresses(out, e->field[MF_FROM]))
        return;
    g_string_append(out, "NIL");
}

void mime_put_envelope(GString *out, const struct mime_entity *e)
{
    g_string_append_c(out, '(');
    mime_put_nstring(out, e->field[MF_DATE]);
    g_string_append_c(out, ' ');
    mime_put_nstring(out, e->field[MF_SUBJECT]);
    static const struct {
        enum mime_field f;
        bool fallback;
    } lists[] = {{MF_FROM, false}, {MF_SENDER, true}, {MF_REPLY_TO, true},
                 {MF_TO, false},   {MF_CC, false},    {MF_BCC, false}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        g_string_append_c(out, ' ');
        put_list(out, e, lists[i].f, lists[i].fallback);
    }
    g_string_append_c(out, ' ');
    mime_put_nstring(out, e->field[MF_IN_REPLY_TO]);
    g_string_append_c(out, ' ');
    mime_put_nstring(out, e->field[MF_MESSAGE_ID]);
    g_string_append_c(out, ')');
}

/* The first entry point (kept for store/): only the header is read. */
char *portico_mime_envelope_fd(int fd)
{
    struct mime_scan sc;
    if (mime_scan_fd(fd, 0, true, &sc) < 0)
        return NULL;
    GString *out = g_string_new(NULL);
    mime_put_envelope(out, &sc.ent[0]);
    mime_scan_release(&sc);
    return mime_gstring_steal(out);
}
