/* addr: address classes for the SSRF guard (RFC 6890 special-purpose
 * registries) and the self-loop check against the configured listeners. */
#include "http/proxy/addr.h"

#include "core/loop.h"

#include <netinet/in.h>
#include <string.h>

struct net4 {
    uint32_t net;
    int bits;
};

static bool v4_is_public(uint32_t a)
{
    static const struct net4 special[] = {
        {0x00000000, 8},  /* "this network" */
        {0x0a000000, 8},  /* RFC 1918 */
        {0x64400000, 10}, /* RFC 6598 CGNAT */
        {0x7f000000, 8},  /* loopback */
        {0xa9fe0000, 16}, /* link-local */
        {0xac100000, 12}, /* RFC 1918 */
        {0xc0000000, 24}, /* IETF protocol assignments */
        {0xc0000200, 24}, /* TEST-NET-1 */
        {0xc0a80000, 16}, /* RFC 1918 */
        {0xc6120000, 15}, /* benchmarking */
        {0xc6336400, 24}, /* TEST-NET-2 */
        {0xcb007100, 24}, /* TEST-NET-3 */
        {0xe0000000, 4},  /* multicast */
        {0xf0000000, 4},  /* reserved, broadcast */
    };
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        uint32_t mask = special[i].bits ? ~0u << (32 - special[i].bits) : 0;
        if ((a & mask) == special[i].net)
            return false;
    }
    return true;
}

static uint32_t v4_of(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool v6_is_public(const struct in6_addr *a)
{
    const unsigned char *b = a->s6_addr;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return v4_is_public(v4_of(b + 12));
    if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_V4COMPAT(a))
        return false;
    if ((b[0] & 0xfe) == 0xfc) /* RFC 4193 unique local */
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) /* link-local */
        return false;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) /* site-local (deprecated) */
        return false;
    if (b[0] == 0xff) /* multicast */
        return false;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) /* documentation */
        return false;
    if (b[0] == 0x01 && b[1] == 0 && b[2] == 0 && b[3] == 0) /* discard-only */
        return false;
    return true;
}

bool proxy_addr_is_public(const struct conn_addr *a)
{
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
        return v4_is_public(ntohl(v4->sin_addr.s_addr));
    }
    if (a->ss.ss_family == AF_INET6)
        return v6_is_public(&((const struct sockaddr_in6 *)&a->ss)->sin6_addr);
    return false;
}

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static bool same_endpoint(const struct sockaddr_storage *l, const struct conn_addr *a)
{
    if (l->ss_family != a->ss.ss_family)
        return false;
    if (l->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)l, *y = (const void *)&a->ss;
        if (x->sin_port != y->sin_port)
            return false;
        return x->sin_addr.s_addr == y->sin_addr.s_addr ||
               (x->sin_addr.s_addr == htonl(INADDR_ANY) && is_loopback(&a->ss));
    }
    const struct sockaddr_in6 *x = (const void *)l, *y = (const void *)&a->ss;
    if (x->sin6_port != y->sin6_port)
        return false;
    return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 ||
           (IN6_IS_ADDR_UNSPECIFIED(&x->sin6_addr) && is_loopback(&a->ss));
}

bool proxy_addr_is_self(const struct conn_addr *a)
{
    if (!runtime)
        return false;
    for (int svc = 0; svc < SVC_COUNT; svc++) {
        const struct service_config *sc = &runtime->cfg->svc[svc];
        for (int i = 0; i < sc->listen.n; i++)
            if (same_endpoint(&sc->listen.addr[i].sa, a))
                return true;
        for (int i = 0; i < sc->listen_tls.n; i++)
            if (same_endpoint(&sc->listen_tls.addr[i].sa, a))
                return true;
    }
    return false;
}
