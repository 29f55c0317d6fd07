/* config_check: validators for the key table's string values (host names,
 * domain lists, addresses). Each checks the stored field, may rewrite it
 * in place (to A-labels), and returns why it is invalid or NULL. */
#pragma once
#include <stddef.h>
#include <stdint.h>

const char *config_check_hostname(char *field, size_t size);
const char *config_check_domains(char *field, size_t size);
const char *config_check_ipv4(char *field, size_t size);
/* "HOST:PORT" or "[v6]:PORT" (port optional: empty, it is ""; empty field
 * allowed: the key is off). */
const char *config_check_hostport(char *field, size_t size);
/* One `[relay] route` line: "DOMAIN HOST:PORT [opportunistic|required|
 * verified]", or several separated by commas. */
const char *config_check_routes(char *field, size_t size);

/* Splits "HOST:PORT" (or "[v6]:PORT"; port optional, default dport) into
 * host (hlen bytes) and port. 0, or -1 (empty host, bad or zero port). */
int config_split_hostport(const char *s, char *host, size_t hlen, uint16_t dport,
                          uint16_t *port);

/* A port list ("443 8443 9000-9010", commas allowed): calls fn(lo, hi,
 * arg) for each port (lo == hi) or range in turn, stopping at the first
 * non-zero result and returning it; 0 at the end, -1 if the list is
 * malformed ([proxy] connect_ports). */
int config_port_ranges(const char *list, int (*fn)(unsigned lo, unsigned hi, void *arg),
                       void *arg);
