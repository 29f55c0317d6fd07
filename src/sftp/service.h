/* service: the SFTP (SSH) service of the runtime's table, and what serve
 * does for it before the loops start (host keys) and after they stop. */
#pragma once
#include <stddef.h>

#include "core/config.h"
#include "core/loop.h"

extern const struct service_impl sftp_service;

/* Loads or generates the host keys in data_dir/ssh/ and prints their
 * fingerprints. 0, or -1 with err. */
int sftp_prepare(const struct config *cfg, char *err, size_t errlen);
/* After the loops have stopped: waits (bounded) for session threads. */
void sftp_shutdown(void);
