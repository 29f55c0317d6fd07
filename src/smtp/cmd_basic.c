/* cmd_basic: the SMTP commands that touch no mail: EHLO/HELO (RFC 5321
 * 4.1.1.1, with the extension list), RSET, NOOP, QUIT, VRFY, HELP and
 * STARTTLS (RFC 3207). */
#include "auth/sasl_server.h"
#include "core/log.h"
#include "smtp/smtp.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The EHLO/HELO argument: a domain or address literal; we keep any
 * printable ASCII word (it only goes into Received, 4.4) but nothing else. */
static int helo_arg(struct session *s, const char *args)
{
    struct smtp *m = smtp_of(s);
    size_t n = strlen(args);
    if (n == 0 || n > SMTP_MAX_HELO) {
        session_reply(s, "501 5.5.4 Syntax: EHLO hostname");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)args[i];
        if (c < 33 || c > 126 || c == '(' || c == ')') {
            session_reply(s, "501 5.5.4 Invalid domain name");
            return -1;
        }
    }
    memcpy(m->helo, args, n + 1);
    return 0;
}

/* RFC 4954 4 / RFC 6409 4.3: AUTH only on submission, and only once a
 * password may cross the wire (TLS, or allow_plaintext_auth). */
static bool auth_offered(struct session *s)
{
    return smtp_of(s)->role == SMTP_ROLE_SUBMISSION && !s->authenticated &&
           session_plaintext_auth_ok(s, false);
}

void smtp_cmd_ehlo(struct session *s, char *args)
{
    struct smtp *m = smtp_of(s);
    if (helo_arg(s, args) < 0)
        return;
    m->esmtp = true;
    smtp_txn_reset(s); /* 4.1.4: EHLO resets the transaction */
    session_printf(s, "250-%s greets %s\r\n",
                   runtime ? runtime->cfg->hostname : "localhost", m->helo);
    session_printf(s, "250-PIPELINING\r\n250-SIZE %" PRIu64 "\r\n", smtp_max_size());
    session_printf(
        s, "250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n");
    if (!session_tls(s))
        session_printf(s, "250-STARTTLS\r\n");
    if (auth_offered(s))
        session_printf(s, "250-AUTH " SASL_MECHANISMS "\r\n");
    session_reply(s, "250 CHUNKING");
}

void smtp_cmd_helo(struct session *s, char *args)
{
    if (helo_arg(s, args) < 0)
        return;
    smtp_of(s)->esmtp = false;
    smtp_txn_reset(s);
    session_reply(s, "250 %s", runtime ? runtime->cfg->hostname : "localhost");
}

void smtp_cmd_rset(struct session *s, char *args)
{
    smtp_txn_reset(s); /* 4.1.1.5 */
    session_reply(s, "250 2.0.0 OK");
}

void smtp_cmd_noop(struct session *s, char *args)
{
    session_reply(s, "250 2.0.0 OK"); /* 4.1.1.9 */
}

void smtp_cmd_quit(struct session *s, char *args)
{
    session_reply(s, "221 2.0.0 Bye"); /* 4.1.1.10 */
    session_close(s);
}

void smtp_cmd_vrfy(struct session *s, char *args)
{
    /* 3.5.3: no address harvesting; 252 says "try sending". */
    session_reply(s,
                  "252 2.5.0 Cannot VRFY user, but will accept message for local users");
}

void smtp_cmd_help(struct session *s, char *args)
{
    session_reply(s,
                  "214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY "
                  "HELP STARTTLS%s",
                  smtp_of(s)->role == SMTP_ROLE_SUBMISSION ? " AUTH" : "");
}

void smtp_cmd_starttls(struct session *s, char *args)
{
    struct smtp *m = smtp_of(s);
    if (args[0]) {
        session_reply(s, "501 5.5.4 Syntax: STARTTLS");
        return;
    }
    session_reply(s, "220 2.0.0 Ready to start TLS");
    /* RFC 3207 4.2: everything learnt before TLS is forgotten; the client
     * must EHLO again. Buffered plaintext is discarded by the core. */
    m->helo[0] = '\0';
    m->esmtp = false;
    smtp_txn_reset(s);
    if (session_starttls(s) < 0) {
        log_warn(s->id, "smtp starttls_failed");
        session_close(s);
    }
}
