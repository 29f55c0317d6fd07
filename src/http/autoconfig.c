/* autoconfig: Thunderbird's account autoconfiguration file (the
 * "config-v1.1.xml" format of Mozilla's ISPDB) for the local domains, at
 * /.well-known/autoconfig/mail/config-v1.1.xml and
 * /mail/config-v1.1.xml?emailaddress=..., naming the IMAP, POP3 and
 * submission listeners this server really has, with their TLS modes. */
#include "http/http.h"

#include "core/config.h"
#include "core/loop.h"
#include "http/uri.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define AUTOCONFIG_WELL_KNOWN "/.well-known/autoconfig/mail/config-v1.1.xml"
#define AUTOCONFIG_MAIL "/mail/config-v1.1.xml"

bool http_autoconfig_path(const char *path)
{
    return strcmp(path, AUTOCONFIG_WELL_KNOWN) == 0 || strcmp(path, AUTOCONFIG_MAIL) == 0;
}

/* The port of a listener's "ADDR:PORT" text, or 0. */
static unsigned listen_port(const struct listen_list *l)
{
    if (l->n == 0)
        return 0;
    const char *colon = strrchr(l->addr[0].text, ':');
    unsigned port = 0;
    for (const char *p = colon ? colon + 1 : ""; *p >= '0' && *p <= '9'; p++)
        port = port * 10 + (unsigned)(*p - '0');
    if (port > 65535)
        return 0;
    return port;
}

/* True if domain (length n) is one of [portico] domains. */
static bool local_domain(const struct config *cfg, const char *domain, size_t n)
{
    const char *p = cfg->domains;
    while (*p) {
        size_t len = strcspn(p, " ,");
        if (len == n && strncasecmp(p, domain, n) == 0)
            return true;
        p += len;
        p += strspn(p, " ,");
    }
    return false;
}

/* The domain of ?emailaddress=local@domain (percent-decoded), or the
 * primary domain without one; "" when it is not a local domain. Only
 * letters, digits, '-' and '.' pass, so the XML needs no escaping. */
static void request_domain(struct http_conn *h, const struct config *cfg, char *out,
                           size_t outlen)
{
    char addr[512];
    const char *q = h->target.query.p;
    size_t qn = h->target.query.n;
    const char *domain = cfg->domains;
    size_t dn = strcspn(cfg->domains, " ,");
    out[0] = '\0';
    for (size_t i = 0; q && i < qn;) {
        const char *amp =
            memchr(q + i, '&', qn - i); /* the query is not NUL-terminated */
        size_t len = qn - i;
        if (amp)
            len = (size_t)(amp - (q + i));
        if (len > 13 && strncasecmp(q + i, "emailaddress=", 13) == 0) {
            long n =
                http_percent_decode(q + i + 13, len - 13, addr, sizeof addr - 1, true);
            if (n < 0)
                return;
            addr[n] = '\0';
            const char *at = strrchr(addr, '@');
            if (!at)
                return;
            domain = at + 1;
            dn = strlen(domain);
        }
        i += len + 1;
    }
    if (dn == 0 || dn >= outlen ||
        strspn(domain, "abcdefghijklmnopqrstuvwxyz"
                       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") < dn)
        return;
    if (!local_domain(cfg, domain, dn))
        return;
    memcpy(out, domain, dn);
    out[dn] = '\0';
}

static void server_xml(struct evbuffer *b, const char *kind, const char *type,
                       const char *host, unsigned port, const char *socket)
{
    if (!port)
        return;
    evbuffer_add_printf(b,
                        "    <%s type=\"%s\">\n"
                        "      <hostname>%s</hostname>\n"
                        "      <port>%u</port>\n"
                        "      <socketType>%s</socketType>\n"
                        "      <authentication>password-cleartext</authentication>\n"
                        "      <username>%%EMAILADDRESS%%</username>\n"
                        "    </%s>\n",
                        kind, type, host, port, socket, kind);
}

/* Implicit TLS first: Thunderbird prefers the first server of a type. */
static void servers_xml(struct evbuffer *b, const struct config *cfg, const char *host)
{
    const struct service_config *imap = &cfg->svc[SVC_IMAP];
    const struct service_config *pop3 = &cfg->svc[SVC_POP3];
    const struct service_config *sub = &cfg->svc[SVC_SUBMISSION];
    server_xml(b, "incomingServer", "imap", host, listen_port(&imap->listen_tls), "SSL");
    server_xml(b, "incomingServer", "imap", host, listen_port(&imap->listen), "STARTTLS");
    server_xml(b, "incomingServer", "pop3", host, listen_port(&pop3->listen_tls), "SSL");
    server_xml(b, "incomingServer", "pop3", host, listen_port(&pop3->listen), "STARTTLS");
    server_xml(b, "outgoingServer", "smtp", host, listen_port(&sub->listen_tls), "SSL");
    server_xml(b, "outgoingServer", "smtp", host, listen_port(&sub->listen), "STARTTLS");
}

void http_autoconfig(struct http_conn *h)
{
    const struct config *cfg = runtime->cfg;
    char domain[256];
    request_domain(h, cfg, domain, sizeof domain);
    if (!domain[0]) {
        http_error(h, 404, "No mail service for this address.");
        return;
    }
    char host[256];
    size_t hn = strspn(cfg->hostname, "abcdefghijklmnopqrstuvwxyz"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.");
    snprintf(host, sizeof host, "%.*s", (int)hn, cfg->hostname);
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        http_error(h, 500, "Out of memory.");
        return;
    }
    evbuffer_add_printf(b,
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                        "<clientConfig version=\"1.1\">\n"
                        "  <emailProvider id=\"%s\">\n"
                        "    <domain>%s</domain>\n"
                        "    <displayName>%s (portico)</displayName>\n"
                        "    <displayShortName>%s</displayShortName>\n",
                        domain, domain, domain, domain);
    servers_xml(b, cfg, host);
    evbuffer_add_printf(b, "  </emailProvider>\n</clientConfig>\n");
    http_respond_buffer(h, 200, "application/xml; charset=utf-8", b);
    evbuffer_free(b);
}
