/* hop: where a domain's mail goes next (pure, no I/O, unit-tested): a
 * `[relay] route` for the domain, else the `[relay] smarthost`, else the
 * domain's own MX records (resolved later by dest.c); with the TLS policy
 * and whether AUTH PLAIN is used. Also the retry schedule. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/tls_client.h"

enum hop_kind { HOP_MX, HOP_ROUTE, HOP_SMARTHOST };

struct relay_hop {
    enum hop_kind kind;
    char host[256]; /* HOP_MX: the domain whose MX records are asked */
    uint16_t port;
    enum tls_policy policy;
    bool auth;     /* AUTH PLAIN with [relay] smarthost_user */
    char key[320]; /* the destination's name: one per domain or per host */
};

/* The next hop of domain (lower case) under cfg. 0, or -1 when a route or
 * the smarthost setting is malformed (check-config reports it). */
int relay_hop_for(const struct config *cfg, const char *domain, struct relay_hop *out);
/* Splits "HOST:PORT" (or "[v6]:PORT"; port optional, default dport). 0/-1. */
int relay_split_hostport(const char *s, char *host, size_t hlen, uint16_t dport,
                         uint16_t *port);
/* Checks [relay] route syntax; returns why it is wrong, or NULL. */
const char *relay_routes_check(const char *routes);

/* Seconds to wait after attempt number tries (1 = the first attempt
 * failed): min, doubling, capped at max. */
int64_t relay_retry_delay(int tries, int min, int max);
