/* iplimit: how many connections each client address holds, across all loop
 * threads, so one address cannot take every session ([portico]
 * max_connections_per_ip). Bounded memory; thread-safe. */
#pragma once
#include <stdbool.h>

/* Counts a new connection from ip; false (and nothing counted) if ip
 * already holds `max` connections or the table is full. */
bool iplimit_acquire(const char *ip, int max);
void iplimit_release(const char *ip);
