/* netlist: a list of networks from a config value ("127.0.0.0/8 ::1/128
 * 192.0.2.7"), and whether an address is in it ([auth] trusted_networks). */
#pragma once
#include <stdbool.h>

#define NETLIST_MAX 32

struct netlist {
    int n;
    struct {
        unsigned char addr[16]; /* IPv4 as IPv4-mapped IPv6 */
        int prefix;             /* bits of addr that must match */
    } net[NETLIST_MAX];
};

/* 0, or -1 for a malformed entry or too many (at most NETLIST_MAX). */
int netlist_parse(struct netlist *nl, const char *text);
/* ip: the text form, IPv4 or IPv6 (IPv4-mapped counts as IPv4). */
bool netlist_contains(const struct netlist *nl, const char *ip);
