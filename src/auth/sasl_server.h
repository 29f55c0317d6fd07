/* sasl_server: the server side of a SASL exchange on a line session
 * (RFC 4422): the PLAIN (RFC 4616) and LOGIN mechanisms, an initial response
 * on the command line ("=" for an empty one), continuation lines, "*" to
 * cancel, then the throttled password check of login_start. A protocol
 * supplies only its reply wording (SMTP 334/501/504, POP3 and IMAP "+"). */
#pragma once
#include "auth/login.h"

struct session;

struct sasl_replies {
    const char *challenge;   /* printf format with one %s: the base64 challenge */
    const char *cancelled;   /* the client sent "*" */
    const char *malformed;   /* undecodable or invalid response */
    const char *unsupported; /* unknown mechanism */
    const char *temporary;   /* the check could not start */
};

/* The mechanisms, for capability lists: "PLAIN LOGIN". */
#define SASL_MECHANISMS "PLAIN LOGIN"

/* Runs "AUTH <mech> [initial]" to its end; done gets the login result (as
 * with login_start) unless the exchange ended earlier with one of the
 * replies above. initial may be NULL; it is wiped after use. */
void sasl_server_start(struct session *s, const struct sasl_replies *r, const char *mech,
                       char *initial, login_done_fn done);
