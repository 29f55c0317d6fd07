/* dsn: delivery status notifications (RFC 3464 multipart/report;
 * report-type=delivery-status) for the queue's sender: a human part that
 * quotes the remote reply, the machine-readable message/delivery-status
 * part, and the original headers (RET=HDRS or by default) or the whole
 * message (RET=FULL, up to DSN_MAX_RETURN). The texts are made here, the
 * MIME structure by mime/ (compose.h, GMime): NULL without the module. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "queue/queue.h"

#define DSN_MAX_RETURN (1u << 20) /* a bigger original is returned as headers */

enum dsn_action { DSN_FAILED, DSN_DELAYED, DSN_DELIVERED };

/* The DSN for the recipients of env whose index is in which (n of them),
 * all with action. orig is the queued message (LF form), origlen its
 * length. hostname names the reporting MTA. A malloc'd message (LF form)
 * with its length, or NULL. */
char *dsn_compose(const struct queue_env *env, const size_t *which, size_t n,
                  enum dsn_action action, const char *orig, size_t origlen,
                  const char *hostname, size_t *outlen);
/* The RFC 3463 status code in a reply ("5.1.1"), or a default from the
 * reply's class into buf (at least 16 bytes). */
void dsn_status_of(const char *reply, enum dsn_action action, char *buf, size_t len);
/* "failed", "delayed", "delivered" (RFC 3464 2.3.3). */
const char *dsn_action_name(enum dsn_action a);
