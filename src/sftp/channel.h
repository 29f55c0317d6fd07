/* channel: the SFTP byte stream on an SSH channel: reads it in chunks,
 * frames and decodes packets (packet.h), dispatches them in order
 * (sftp.h) and writes the replies, batched while more requests wait. */
#pragma once
#include <libssh/libssh.h>

#include "auth/accounts.h"
#include "sftp/link.h"

/* Serves until EOF, an error or a protocol violation; takes rootfd. */
void sftp_channel_serve(struct sftp_link *l, ssh_channel ch, int rootfd,
                        const struct account *acct);
