/* services: which protocols this build serves. The only file that knows
 * every protocol folder; cli/serve.c calls it once. */
#pragma once
#include <stddef.h>

struct runtime;
struct config;
void services_register(struct runtime *rt);
/* Before binding: what services need ready first (SSH host keys, printed).
 * 0, or -1 with err. */
int services_prepare(const struct config *cfg, char *err, size_t errlen);
/* After the loops stopped: services with threads of their own end them. */
int services_started(struct runtime *rt);
void services_shutdown(void);
/* After the work pool stopped: what services keep for jobs in flight. */
void services_free(void);
