/* compose: messages mime/ writes or rewrites for the relay, through the
 * GMime module (loader.c): the 7-bit downgrade of an 8-bit message for a
 * server without 8BITMIME (RFC 6152 3) and delivery status notifications
 * (RFC 3464, RFC 6522). The daemon's side of the interface: plain C in,
 * malloc'd LF-form text out; NULL when the module is missing or the input
 * cannot be handled (the caller must then not send the original). Blocking
 * (CPU, no I/O): the work pool only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define MIME_COMPOSE_MAX (64u << 20) /* larger inputs are refused */

/* The message msg (LF form, len bytes, headers 7-bit) with every 8-bit or
 * binary leaf part re-encoded (text quoted-printable, RFC 2045 6.7, lines
 * of at most 76 characters; other types base64 when they need it) and
 * every container's Content-Transfer-Encoding made 7bit. Headers are kept
 * as GMime parsed them except the changed Content-Transfer-Encoding fields
 * and a MIME-Version added when missing. *outlen gets the length. */
char *mime_to_7bit(const char *msg, size_t len, size_t *outlen);

/* The parts of a DSN; each text is UTF-8, LF form. */
struct mime_dsn {
    const char *from;       /* "Mail Delivery System <MAILER-DAEMON@host>" */
    const char *to;         /* the envelope sender, bare address */
    const char *subject;    /* UTF-8 */
    const char *message_id; /* without <> */
    const char *human;      /* the text/plain part */
    const char *status;     /* the message/delivery-status body (RFC 3464 2) */
    const char *original;   /* the returned message or its header block */
    size_t original_len;
    bool full; /* original is the whole message (message/rfc822, RET=FULL) */
};

/* multipart/report; report-type=delivery-status (RFC 6522 3) with the human
 * part, message/delivery-status and text/rfc822-headers or message/rfc822.
 * *outlen gets the length. */
char *mime_dsn_compose(const struct mime_dsn *d, size_t *outlen);
