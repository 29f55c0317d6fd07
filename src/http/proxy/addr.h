/* addr: what the proxy thinks of a destination address: public or not (the
 * SSRF guard) and whether it is one of portico's own listeners (a loop). */
#pragma once
#include <stdbool.h>

#include "core/connect.h"

/* False for loopback, private (RFC 1918, RFC 4193), link-local, CGNAT
 * (RFC 6598), "this network", multicast, broadcast, documentation and
 * other special-purpose ranges (RFC 6890), in IPv4 and IPv6 (IPv4-mapped
 * and NAT64 forms are judged as IPv4). */
bool proxy_addr_is_public(const struct conn_addr *a);
/* True when a is an address and port portico itself listens on (any
 * service; a wildcard listener matches any loopback address). */
bool proxy_addr_is_self(const struct conn_addr *a);
