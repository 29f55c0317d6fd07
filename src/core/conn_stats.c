/* conn_stats: what a connection did, for its access-log line and the
 * metrics. Every protocol's session ends here once (conn.c's reaper), so
 * no protocol writes its own end-of-session line. Bytes are the TCP
 * payload of the connection's socket (TCP_INFO, read once at the end; TLS
 * records included) plus what the protocol reports for side connections. */
#include "core/conn.h"

#include "core/idna.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/tcpstats.h"

#include <stdio.h>
#include <string.h>

void conn_set_user(struct conn *c, const char *user)
{
    snprintf(c->user, sizeof c->user, "%s", user);
}

void conn_add_bytes(struct conn *c, uint64_t in, uint64_t out)
{
    c->extra_in += in;
    c->extra_out += out;
}

void conn_command_done(struct conn *c, uint64_t start_us)
{
    uint64_t now = metrics_now_us();
    uint64_t took = 0;
    if (now > start_us)
        took = now - start_us;
    c->commands++;
    metrics_add(c->svc, MET_COMMANDS, 1);
    metrics_latency(c->svc, took);
}

/* "u@bücher.example" for u@xn--bcher-kva.example: logs show U-labels. */
static void shown_user(const char *user, char *out, size_t len)
{
    const char *at = strrchr(user, '@');
    if (!user[0]) {
        snprintf(out, len, "-");
        return;
    }
    if (!at) {
        snprintf(out, len, "%s", user);
        return;
    }
    char domain[256];
    idna_to_unicode(at + 1, domain, sizeof domain);
    snprintf(out, len, "%.*s@%s", (int)(at - user), user, domain);
}

void conn_log_end(struct conn *c)
{
    uint64_t in, out;
    tcp_bytes(conn_socket_fd(c), &in, &out);
    in += c->extra_in;
    out += c->extra_out;
    uint64_t ms = (metrics_now_us() - c->start_us) / 1000u;
    char user[AUTH_ADDRESS_MAX + 64];
    shown_user(c->user, user, sizeof user);
    log_info(c->id,
             "%s session_end peer=%s port=%d user=%s duration_ms=%llu commands=%u "
             "bytes_in=%llu bytes_out=%llu",
             config_service_name(c->svc), c->peer_ip, c->peer_port, user,
             (unsigned long long)ms, c->commands, (unsigned long long)in,
             (unsigned long long)out);
    metrics_add(c->svc, MET_BYTES_IN, in);
    metrics_add(c->svc, MET_BYTES_OUT, out);
    metrics_add(c->svc, MET_CLOSED, 1);
}
