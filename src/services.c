/* services: fills the runtime's service table with each implemented
 * protocol; a service without an entry opens no listener. One line per
 * service: rt->services[SVC_X] = &x_service; with the header included. */
#include "services.h"

#include "core/loop.h"
#include "ftp/ftp.h"
#include "http/http.h"
#include "http/proxy/cache_glue.h"
#include "imap/imap.h"
#include "metrics/service.h"
#include "pop3/pop3.h"
#include "relay/relay.h"
#include "sftp/service.h"
#include "smtp/service.h"

void services_register(struct runtime *rt)
{
    rt->services[SVC_SMTP] = &smtp_service;
    rt->services[SVC_SUBMISSION] = &submission_service;
    rt->services[SVC_POP3] = &pop3_service;
    rt->services[SVC_IMAP] = &imap_service;
    rt->services[SVC_FTP] = &ftp_service;
    rt->services[SVC_HTTP] = &http_service;
    rt->services[SVC_SFTP] = &sftp_service;
    rt->services[SVC_METRICS] = &metrics_service;
    rt->services[SVC_PROXY] = &http_proxy_service;
}

int services_prepare(const struct config *cfg, char *err, size_t errlen)
{
    if (proxy_cache_open(cfg, err, errlen) < 0)
        return -1;
    return sftp_prepare(cfg, err, errlen);
}

/* After the loop threads started: the outbound queue's scheduler. */
int services_started(struct runtime *rt)
{
    return relay_start(rt);
}

void services_shutdown(void)
{
    sftp_shutdown();
}

void services_free(void)
{
    relay_shutdown();
    proxy_cache_close(); /* after the loops: no request holds it */
}
