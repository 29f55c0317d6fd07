/* queue: the durable writer of the outbound queue, data_dir/queue/ (the
 * scheduler that delivers it is a separate part). One entry is two files:
 *   <id>.msg  the message with LF line ends (prefix + normalised body)
 *   <id>.env  the envelope, written last: "from <sender>\n", then one
 *             "to <recipient>\n" per recipient, then "end\n"
 * Each is written to a tmp name, fsynced, renamed, then queue/ is fsynced:
 * an entry exists for the scheduler only once its .env is there, and the
 * submission is acknowledged only after that. Blocking: pool only. */
#pragma once
#include <stddef.h>

/* Queues the message in srcfd (CRLF form, read from offset 0) after prefix
 * (LF form) for rcpts. id gets the entry name (at least 64 bytes). 0 or -1. */
int queue_write(int datadirfd, const char *prefix, int srcfd, const char *sender,
                const char *const *rcpts, size_t nrcpt, char *id, size_t idlen);
