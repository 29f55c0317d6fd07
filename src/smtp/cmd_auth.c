/* cmd_auth: SMTP AUTH (RFC 4954) for the submission role: the exchange is
 * auth/sasl_server's; this file holds SMTP's wording and the policy that a
 * password is sent only over TLS (RFC 4954 4, RFC 3207). */
#include "auth/sasl_server.h"
#include "smtp/smtp.h"

#include <string.h>

static const struct sasl_replies smtp_sasl_replies = {
    .challenge = "334 %s",
    .cancelled = "501 5.7.0 Authentication cancelled",
    .malformed = "501 5.5.2 Cannot decode the response",
    .unsupported = "504 5.5.4 Unrecognized authentication type",
    .temporary = "454 4.7.0 Temporary authentication failure",
};

static void auth_done(struct session *s, enum login_result r, const struct account *acct)
{
    switch (r) {
    case LOGIN_OK:
        session_reply(s, "235 2.7.0 Authentication successful");
        break;
    case LOGIN_FAIL: /* RFC 4954 6 */
        session_reply(s, "535 5.7.8 Authentication credentials invalid");
        break;
    case LOGIN_LOCKED:
    case LOGIN_ERROR:
        session_reply(s, "454 4.7.0 Temporary authentication failure");
        break;
    }
}

void smtp_cmd_auth(struct session *s, char *args)
{
    if (!session_plaintext_auth_ok(s, false)) {
        session_reply(s, "538 5.7.11 Encryption required for requested authentication "
                         "mechanism");
        return;
    }
    char *initial = strchr(args, ' ');
    if (initial)
        *initial++ = '\0';
    sasl_server_start(s, &smtp_sasl_replies, args, initial, auth_done);
}
