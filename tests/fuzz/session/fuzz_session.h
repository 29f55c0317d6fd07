/* fuzz_session: drives one whole protocol session (greeting, login,
 * commands, transactions; no TLS) with a byte stream over a socketpair, on
 * a real runtime: a temporary data directory with one account
 * (fuzz@example.org / fuzz-password), the account store, the work pool and
 * one loop. The throttle is off so failed logins cost no delay. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

struct service_impl;

/* Runs data through a new session of impl (as svc); returns when the
 * session has ended and every async job of it has finished. */
void fuzz_session_run(enum service svc, const struct service_impl *impl,
                      const uint8_t *data, size_t size);
