/* mtasts: a recipient domain's MTA-STS policy (RFC 8461) for the relay:
 * the `_mta-sts` TXT record through core/dns.h, the policy fetched from
 * https://mta-sts.DOMAIN/.well-known/mta-sts.txt over core's client TLS
 * (verified: system CAs or [relay] ca_file) and parsed with httpmsg/
 * (response head, framing, chunked), cached in memory and in
 * queue/mta-sts/ until max_age. Loop 0 (relay's) only. */
#pragma once
#include "relay/mtasts_policy.h"

#define MTASTS_CACHE_MAX 1024     /* domains kept in memory */
#define MTASTS_FETCH_TIMEOUT 60   /* seconds for the whole HTTPS fetch (3.3) */
#define MTASTS_RESPONSE_MAX 81920 /* head + body bytes read at most */

/* p: the domain's policy in force (mode testing or enforce), or NULL when
 * it has none (no record, mode none, or nothing valid could be had). */
typedef void (*mtasts_fn)(const struct mtasts_policy *p, void *arg);

/* Looks domain's policy up; fn(p, arg) runs once, from the loop (inside
 * this call only when not even the DNS query could start). 0, or -1 when
 * the lookup could not start at all (fn is not called). */
int mtasts_lookup(const char *domain, mtasts_fn fn, void *arg);
/* At shutdown, after the loop stopped: lookups in progress are dropped
 * (their fn never runs) and the cache is freed. */
void mtasts_cleanup(void);
