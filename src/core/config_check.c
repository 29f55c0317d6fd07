/* config_check: the value checks the key table names in its rows. */
#include "core/config_check.h"

#include "core/idna.h"
#include "core/tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *config_check_hostname(char *field, size_t size)
{
    char ascii[256];
    if (idna_to_ascii(field, ascii, sizeof ascii) < 0)
        return "not a valid host name (letters, digits, '-' and '.' only, or an IDN)";
    if (strlen(ascii) >= size)
        return "value too long";
    snprintf(field, size, "%s", ascii);
    return NULL;
}

/* Each domain to its A-label; the list is rebuilt space-separated. */
const char *config_check_domains(char *field, size_t size)
{
    char in[1024], out[1024] = "", *save = NULL;
    if (strlen(field) >= sizeof in)
        return "value too long";
    snprintf(in, sizeof in, "%s", field);
    size_t len = 0;
    for (char *d = strtok_r(in, " ,\t", &save); d; d = strtok_r(NULL, " ,\t", &save)) {
        char ascii[256];
        if (idna_to_ascii(d, ascii, sizeof ascii) < 0)
            return "not a valid domain name (letters, digits, '-' and '.' only, or an "
                   "IDN)";
        const char *sep = "";
        if (len > 0)
            sep = " ";
        int m = snprintf(out + len, sizeof out - len, "%s%s", sep, ascii);
        if (m < 0 || (size_t)m >= sizeof out - len)
            return "value too long";
        len += (size_t)m;
    }
    if (len >= size)
        return "value too long";
    snprintf(field, size, "%s", out);
    return NULL;
}

/* PASV (RFC 959 4.1.2) announces an IPv4 address; EPSV needs none. */
const char *config_check_ipv4(char *field, size_t size)
{
    struct in_addr a;
    if (field[0] == '\0' || inet_pton(AF_INET, field, &a) == 1)
        return NULL;
    return "expected a numeric IPv4 address";
}

int config_split_hostport(const char *s, char *host, size_t hlen, uint16_t dport,
                          uint16_t *port)
{
    const char *colon = NULL, *h = s;
    size_t n;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close)
            return -1;
        h = s + 1;
        n = (size_t)(close - h);
        if (close[1] == ':')
            colon = close + 1;
        else if (close[1] != '\0')
            return -1;
    } else {
        colon = strrchr(s, ':');
        n = strlen(s);
        if (colon)
            n = (size_t)(colon - s);
    }
    if (n == 0 || n >= hlen)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    *port = dport;
    if (!colon)
        return 0;
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end || errno || p < 1 || p > 65535)
        return -1;
    *port = (uint16_t)p;
    return 0;
}

const char *config_check_hostport(char *field, size_t size)
{
    char host[256];
    uint16_t port;
    if (field[0] == '\0')
        return NULL;
    if (config_split_hostport(field, host, sizeof host, 25, &port) < 0)
        return "expected HOST:PORT (a name or address, a port from 1 to 65535)";
    return NULL;
}

/* One "DOMAIN HOST:PORT [policy]" (text is modified). */
static const char *check_route(char *text)
{
    char *save = NULL, host[256];
    uint16_t port;
    enum tls_policy policy;
    char *dom = strtok_r(text, " \t", &save);
    char *hp = strtok_r(NULL, " \t", &save);
    char *pol = strtok_r(NULL, " \t", &save);
    if (!dom || !hp)
        return "expected DOMAIN HOST:PORT [opportunistic|required|verified]";
    if (strtok_r(NULL, " \t", &save))
        return "too many words: expected DOMAIN HOST:PORT [opportunistic|required|"
               "verified]";
    char ascii[256];
    if (idna_to_ascii(dom, ascii, sizeof ascii) < 0)
        return "the domain is not a valid domain name";
    if (config_split_hostport(hp, host, sizeof host, 25, &port) < 0)
        return "the next hop is not HOST:PORT (a name or address, a port from 1 to "
               "65535)";
    if (pol && tls_policy_parse(pol, &policy) < 0)
        return "the TLS policy is not one of opportunistic, required, verified";
    return NULL;
}

const char *config_check_routes(char *field, size_t size)
{
    char copy[2048], *save = NULL;
    if (strlen(field) >= sizeof copy)
        return "value too long";
    snprintf(copy, sizeof copy, "%s", field);
    int n = 0;
    for (char *item = strtok_r(copy, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ' || *item == '\t')
            item++;
        if (*item == '\0')
            continue;
        const char *why = check_route(item);
        if (why)
            return why;
        n++;
    }
    if (n == 0)
        return "expected DOMAIN HOST:PORT [opportunistic|required|verified]";
    return NULL;
}

int config_port_ranges(const char *list, int (*fn)(unsigned lo, unsigned hi, void *arg),
                       void *arg)
{
    const char *p = list;
    for (int guard = 0; *p && guard < 256; guard++) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p || lo < 1 || lo > 65535)
            return -1;
        if (*end == '-') {
            p = end + 1;
            hi = strtol(p, &end, 10);
            if (end == p || hi < lo || hi > 65535)
                return -1;
        }
        if (*end && *end != ' ' && *end != ',')
            return -1;
        int rc = fn ? fn((unsigned)lo, (unsigned)hi, arg) : 0;
        if (rc != 0)
            return rc;
        p = end;
    }
    return 0;
}
