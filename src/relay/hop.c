/* hop: the next hop of a domain and the retry schedule (see hop.h). */
#include "relay/hop.h"

#include "core/config_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int64_t relay_retry_delay(int tries, int min, int max)
{
    int64_t d = min;
    for (int i = 1; i < tries && d < max; i++)
        d *= 2;
    if (d > max)
        d = max;
    return d;
}

int relay_split_hostport(const char *s, char *host, size_t hlen, uint16_t dport,
                         uint16_t *port)
{
    return config_split_hostport(s, host, hlen, dport, port);
}

/* One route "DOMAIN HOST:PORT [policy]" (a copy, modified). */
struct route {
    char domain[256];
    char host[256];
    uint16_t port;
    enum tls_policy policy;
};

static int parse_route(char *text, struct route *r)
{
    char *save = NULL;
    char *dom = strtok_r(text, " \t", &save);
    char *hp = strtok_r(NULL, " \t", &save);
    char *pol = strtok_r(NULL, " \t", &save);
    if (!dom || !hp || strtok_r(NULL, " \t", &save) || strlen(dom) >= sizeof r->domain)
        return -1;
    snprintf(r->domain, sizeof r->domain, "%s", dom);
    if (relay_split_hostport(hp, r->host, sizeof r->host, 25, &r->port) < 0)
        return -1;
    r->policy = TLS_OPPORTUNISTIC;
    if (pol && tls_policy_parse(pol, &r->policy) < 0)
        return -1;
    return 0;
}

/* Finds domain's route in the comma-separated list: 1 found, 0 not, -1 bad. */
static int find_route(const char *routes, const char *domain, struct route *out)
{
    char buf[2048];
    snprintf(buf, sizeof buf, "%s", routes);
    char *save = NULL;
    for (char *item = strtok_r(buf, ",", &save); item;
         item = strtok_r(NULL, ",", &save)) {
        while (*item == ' ' || *item == '\t')
            item++;
        if (*item == '\0')
            continue;
        struct route r;
        if (parse_route(item, &r) < 0)
            return -1;
        if (domain && strcasecmp(r.domain, domain) == 0) {
            *out = r;
            return 1;
        }
    }
    return 0;
}

const char *relay_routes_check(const char *routes)
{
    struct route r;
    if (find_route(routes, NULL, &r) < 0)
        return "expected DOMAIN HOST:PORT [opportunistic|required|verified], ...";
    return NULL;
}

int relay_hop_for(const struct config *cfg, const char *domain, struct relay_hop *out)
{
    struct route r;
    memset(out, 0, sizeof *out);
    int found = find_route(cfg->relay_routes, domain, &r);
    if (found < 0)
        return -1;
    if (found) {
        out->kind = HOP_ROUTE;
        snprintf(out->host, sizeof out->host, "%s", r.host);
        out->port = r.port;
        out->policy = r.policy;
    } else if (cfg->relay_smarthost[0]) {
        out->kind = HOP_SMARTHOST;
        if (relay_split_hostport(cfg->relay_smarthost, out->host, sizeof out->host, 587,
                                 &out->port) < 0)
            return -1;
        out->policy = TLS_REQUIRED;
        out->auth = cfg->relay_smarthost_user[0] != '\0';
    } else {
        out->kind = HOP_MX;
        snprintf(out->host, sizeof out->host, "%s", domain);
        out->port = (uint16_t)cfg->relay_port;
        out->policy = TLS_OPPORTUNISTIC;
    }
    if (out->kind == HOP_MX)
        snprintf(out->key, sizeof out->key, "%s", domain);
    else
        snprintf(out->key, sizeof out->key, "[%s]:%u", out->host, (unsigned)out->port);
    return 0;
}
