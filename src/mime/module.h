/* module: what the files of portico-mime.so (the GMime side) share, and
 * the entry points loader.c resolves by name. Not for the daemon. */
#pragma once
#include "mime/compose.h"
#include "mime/scan.h"
#include "mime/summary.h"

#include <glib.h>
#include <gmime/gmime.h>
#include <stdbool.h>

#define MIME_EXPORT __attribute__((visibility("default")))

/* GMime's one-time start (g_mime_init), safe from any thread. */
void mime_module_start(void);

/* imapstr.c: IMAP strings (RFC 9051 4.3). NIL for NULL; a literal for
 * 8-bit, CR, LF or long text; else a quoted string. */
void mime_put_nstring(GString *out, const char *s);
/* The same, upper-cased (ASCII): types, subtypes, encodings. */
void mime_put_upper(GString *out, const char *s);
/* A decimal number, without printf. */
void mime_put_number(GString *out, uint64_t v);
/* A malloc'd copy of a GString's text (the summary is freed with free()). */
char *mime_gstring_steal(GString *g);

/* envelope.c: "(date subject from sender reply-to to cc bcc in-reply-to
 * message-id)" of an entity's header (the root or an encapsulated message). */
void mime_put_envelope(GString *out, const struct mime_entity *e);

/* bodystructure.c: BODY (extended false) or BODYSTRUCTURE of entity idx,
 * the body of a message (RFC 9051 7.5.2). */
void mime_put_body(GString *out, const struct mime_scan *sc, int idx, bool extended);
/* The entity's media type as IMAP reports it (defaults applied), lower
 * case: text/plain when absent or invalid (RFC 2045 5.2). */
void mime_entity_type(const struct mime_entity *e, const char **type,
                      const char **subtype);

/* partmap.c: the part list of summary.h from the scan. 0 or -1. */
int mime_part_map(const struct mime_scan *sc, struct mime_part **parts, size_t *nparts);

/* sortkeys.c: sent_date, sort and display keys, message ids of s from the
 * root header. 0 or -1 (out of memory). */
int mime_sort_keys(const struct mime_entity *root, struct mime_summary *s);

/* downgrade.c: obj written out in LF form, malloc'd, length in *outlen;
 * NULL on failure. */
char *mime_object_to_text(GMimeObject *obj, size_t *outlen);
/* True for the "best encoding" GMime gives content that needs no change. */
bool mime_encoding_is_7bit(GMimeContentEncoding enc);

/* Entry points (loader.c). */
MIME_EXPORT char *portico_mime_envelope_fd(int fd);
MIME_EXPORT struct mime_summary *portico_mime_summary_fd(int fd);
MIME_EXPORT char *portico_mime_search_header(int fd, const char *name);
MIME_EXPORT char *portico_mime_search_body(int fd, size_t max);
MIME_EXPORT char *portico_mime_casefold(const char *utf8);
MIME_EXPORT char *portico_mime_downgrade(const char *msg, size_t len, size_t *outlen);
MIME_EXPORT char *portico_mime_dsn_compose(const struct mime_dsn *d, size_t *outlen);
