/* downgrade: the copy of a queued 8-bit message that is sent to a next hop
 * without 8BITMIME (RFC 6152 3), converted to 7-bit MIME by mime/ (GMime)
 * and, when the queued file was DKIM-signed, signed again after the
 * conversion (RFC 6376 5.3: a signer converts before signing, because the
 * conversion changes the body). The queued file itself is not changed (the
 * next attempt may reach a host that takes 8 bits). Blocking: pool only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "queue/queue.h"

/* An unnamed file in queue/ (O_TMPFILE, at offset 0) holding the 7-bit
 * form of the message in msgfd, or -1 with why set (a 451 reply line). */
int relay_downgrade_fd(int qfd, int msgfd, const struct queue_env *env, char *why,
                       size_t whylen);
/* The length of the DKIM-Signature fields at the start of msg (LF form):
 * the ones relay/load.c prepended. Pure. */
size_t relay_leading_dkim_len(const char *msg, size_t len);
