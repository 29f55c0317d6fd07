/* services: which protocols this build serves. The only file that knows
 * every protocol folder; cli/serve.c calls it once. */
#pragma once
struct runtime;
void services_register(struct runtime *rt);
