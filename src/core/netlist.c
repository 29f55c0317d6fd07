/* netlist: CIDR matching on the 16-byte form of addresses, so an IPv4
 * network also matches the IPv4-mapped IPv6 spelling of its addresses. */
#include "core/netlist.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The 16-byte form and the bits of prefix it allows (IPv4: 96 + 32). */
static bool to_binary(const char *ip, unsigned char out[16], int *bits)
{
    struct in_addr v4;
    if (inet_pton(AF_INET, ip, &v4) == 1) {
        memset(out, 0, 10);
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        *bits = 32;
        return true;
    }
    *bits = 128;
    return inet_pton(AF_INET6, ip, out) == 1;
}

static int parse_one(struct netlist *nl, const char *tok)
{
    char host[64];
    const char *slash = strchr(tok, '/');
    size_t hlen = slash ? (size_t)(slash - tok) : strlen(tok);
    int bits;
    if (hlen >= sizeof host || nl->n >= NETLIST_MAX)
        return -1;
    memcpy(host, tok, hlen);
    host[hlen] = '\0';
    if (!to_binary(host, nl->net[nl->n].addr, &bits))
        return -1;
    int prefix = bits;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (end == slash + 1 || *end || v < 0 || v > bits)
            return -1;
        prefix = (int)v;
    }
    nl->net[nl->n].prefix = prefix + (128 - bits);
    nl->n++;
    return 0;
}

int netlist_parse(struct netlist *nl, const char *text)
{
    char buf[1024], *save = NULL;
    nl->n = 0;
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        return -1;
    for (char *t = strtok_r(buf, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save))
        if (parse_one(nl, t) < 0)
            return -1;
    return 0;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool netlist_contains(const struct netlist *nl, const char *ip)
{
    unsigned char addr[16];
    int bits;
    if (!to_binary(ip, addr, &bits))
        return false;
    for (int i = 0; i < nl->n; i++)
        if (prefix_match(addr, nl->net[i].addr, nl->net[i].prefix))
            return true;
    return false;
}
