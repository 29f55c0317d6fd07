/* imap misc: ENABLE (RFC 5161, RFC 9051 6.3.1), ID (RFC 2971), NAMESPACE
 * (RFC 2342, RFC 9051 6.3.10) and COMPRESS (RFC 4978). */
#include "imap/imap.h"

#include "core/log.h"
#include "imap/parse.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *name;
    unsigned bit;
} enablable[] = {
    {"IMAP4rev2", IMAP_ENABLED_REV2},
    {"UTF8=ACCEPT", IMAP_ENABLED_UTF8},
    {"CONDSTORE", IMAP_ENABLED_CONDSTORE},
    {"QRESYNC", IMAP_ENABLED_QRESYNC | IMAP_ENABLED_CONDSTORE},
};

/* The bits of one capability name (0 if it cannot be enabled). */
static unsigned enable_bits(const char *name, const char **canon)
{
    for (size_t i = 0; i < sizeof enablable / sizeof enablable[0]; i++) {
        if (strcasecmp(name, enablable[i].name) == 0) {
            *canon = enablable[i].name;
            return enablable[i].bit;
        }
    }
    return 0;
}

/* RFC 5161 3.1: "* ENABLED" lists what this command newly enabled;
 * unknown names are ignored. */
void imap_cmd_enable(struct session *s, char *args)
{
    struct imap *im = imap_of(s);
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    char line[256] = "* ENABLED";
    size_t used = strlen(line);
    int rc = 0, n = 0;
    while (rc == 0 && (n == 0 || !imap_at_end(p))) {
        const char *name = NULL, *canon = NULL;
        if (n++ > 0)
            rc = imap_sp(p);
        if (rc == 0)
            rc = imap_chars(p, "", "", &name);
        unsigned bits = rc == 0 ? enable_bits(name, &canon) : 0;
        if (bits && (im->enabled & bits) != bits) {
            im->enabled |= bits;
            snprintf(line + used, sizeof line - used, " %s", canon);
            used = strlen(line);
        }
    }
    if (rc == 0)
        rc = imap_end(p);
    imap_parser_free(&p);
    if (rc < 0) {
        imap_bad(s, err);
        return;
    }
    log_info(s->id, "imap enable bits=%u", im->enabled);
    session_reply(s, "%s", line);
    imap_tagged(s, "OK", "ENABLE completed");
}

/* RFC 2971 3.1: "(" *(string SP nstring) ")" or NIL; the values are
 * read and ignored (logged at debug level). */
static int parse_id(struct imap_parser *p)
{
    if (imap_accept_word(p, "NIL"))
        return imap_end(p);
    if (imap_list_open(p) < 0)
        return -1;
    bool first = true;
    int more;
    unsigned pairs = 0;
    while ((more = imap_list_next(p, &first)) == 1) {
        struct imap_string k, v;
        bool nil;
        if (imap_string(p, &k) < 0 || imap_sp(p) < 0 || imap_nstring(p, &v, &nil) < 0)
            return -1;
        if (++pairs > 30) /* RFC 2971 3.3: at most 30 pairs */
            return imap_error(p, "too many ID fields");
    }
    if (more < 0)
        return -1;
    return imap_end(p);
}

void imap_cmd_id(struct session *s, char *args)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    int rc = parse_id(p);
    imap_parser_free(&p);
    if (rc < 0) {
        imap_bad(s, err);
        return;
    }
    session_reply(s, "* ID (\"name\" \"portico\" \"version\" \"%s\")", PORTICO_VERSION);
    imap_tagged(s, "OK", "ID completed");
}

/* RFC 2342 5 / RFC 9051 6.3.10: one personal namespace, "" with "/". */
void imap_cmd_namespace(struct session *s, char *args)
{
    if (*args) {
        imap_bad(s, "NAMESPACE takes no arguments");
        return;
    }
    session_reply(s, "* NAMESPACE ((\"\" \"/\")) NIL NIL");
    imap_tagged(s, "OK", "NAMESPACE completed");
}

/* RFC 4978 3: COMPRESS DEFLATE. The OK leaves uncompressed; both
 * directions are compressed from the byte after it. Once per session
 * ([COMPRESSIONACTIVE]). */
void imap_cmd_compress(struct session *s, char *args)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    const char *mech = NULL;
    int rc = imap_atom(p, &mech);
    if (rc == 0)
        rc = imap_end(p);
    bool deflate = rc == 0 && strcasecmp(mech, "DEFLATE") == 0;
    imap_parser_free(&p);
    if (rc < 0) {
        imap_bad(s, err);
        return;
    }
    if (!deflate) {
        imap_bad(s, "Only DEFLATE is offered");
        return;
    }
    if (session_compressed(s)) {
        imap_tagged(s, "NO", "[COMPRESSIONACTIVE] DEFLATE is already on");
        return;
    }
    imap_tagged(s, "OK", "DEFLATE active");
    if (session_compress(s) < 0)
        session_close(s);
}
