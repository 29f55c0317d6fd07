/* auth: SSH user authentication for an SFTP session (RFC 4252), on the
 * session's own thread. */
#pragma once
#include <libssh/libssh.h>

#include "auth/accounts.h"
#include "sftp/link.h"

/* Runs the authentication exchange; 0 with the account in acct, or -1
 * (gave up, too many tries, or the connection ended). */
int sftp_auth(struct sftp_link *l, ssh_session ss, struct account *acct);
