/* forward: the front of the forward proxy ([proxy] listen). Never open
 * (DESIGN.md): a client from [proxy] allow is served, any other must
 * authenticate with Proxy-Authorization: Basic (RFC 9110 11.7.2, RFC 7617)
 * through auth/login.h, which throttles failures like every protocol's
 * logins. Then absolute-form requests go through exchange.c and CONNECT
 * through a tunnel to an allowed port; TRACE is refused and OPTIONS with
 * Max-Forwards: 0 answered here (RFC 9110 7.6.2). */
#include "http/http.h"

#include "auth/login.h"
#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/netlist.h"
#include "http/auth.h"
#include "http/login.h"
#include "http/proxy/cache_glue.h"
#include "http/proxy/message.h"
#include "http/proxy/proxy.h"
#include "http/proxy/proxy_int.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static bool guard_for(bool authenticated)
{
    int mode = runtime ? runtime->cfg->proxy_ssrf_guard : 0;
    if (mode == 1) /* yes */
        return true;
    if (mode == 2) /* no */
        return false;
    return authenticated; /* auto: clients from outside allow */
}

static void go_connect(struct http_conn *h, bool guard)
{
    char host[256];
    uint16_t port = 0;
    if (proxy_parse_authority(h->req.target, host, sizeof host, &port) < 0) {
        proxy_refuse(h, 400, "CONNECT needs host:port.");
        return;
    }
    if (!proxy_port_allowed(port, runtime->cfg->proxy_connect_ports)) {
        log_info(h->c->id, "proxy connect_refused host=%s port=%u why=port", host, port);
        proxy_refuse(h, 403, "CONNECT to this port is not allowed.");
        return;
    }
    /* RFC 9110 9.3.6: content in a CONNECT request has no meaning. */
    if (h->req.chunked || h->req.content_length) {
        proxy_refuse(h, 400, "CONNECT has no body.");
        return;
    }
    proxy_connect(h, host, port, guard);
}

/* RFC 9110 9.3.7, 7.6.2: OPTIONS with Max-Forwards 0 is for this proxy. */
static void options_here(struct http_conn *h)
{
    http_resp_start(h, 200);
    http_resp_header(h, "Allow", "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, CONNECT");
    http_resp_end_head(h, 0);
    http_request_end(h);
}

static void go(struct http_conn *h, bool authenticated)
{
    bool guard = guard_for(authenticated);
    if (h->req.m == HTTP_M_CONNECT) {
        go_connect(h, guard);
        return;
    }
    /* RFC 9110 9.3.8: TRACE would echo credentials and cookies back. */
    if (h->req.m == HTTP_M_TRACE) {
        h->allow = "GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, CONNECT";
        proxy_refuse(h, 405, "TRACE is not forwarded.");
        return;
    }
    if (h->req.m == HTTP_M_OPTIONS && proxy_max_forwards(&h->req) == 0) {
        options_here(h);
        return;
    }
    struct upstream_target t;
    struct http_str path;
    if (proxy_parse_absolute(h->req.target, &t, &path) < 0) {
        proxy_refuse(h, 400, "A proxy request needs an absolute http:// URL.");
        return;
    }
    t.guard = guard;
    if (proxy_is_purge(&h->req)) {
        proxy_cache_purge(h, &t, path);
        return;
    }
    proxy_exchange(h, &t, path, false, false);
}

static void login_done(struct conn *c, void *arg, enum login_result r,
                       const struct account *acct)
{
    struct http_conn *h = c->ctx;
    h->state = HS_HEAD;
    conn_resume(c);
    if (r == LOGIN_OK) {
        h->acct = *acct;
        h->authed = h->login_digest_ok;
        memcpy(h->auth_digest, h->login_digest, sizeof h->auth_digest);
        conn_set_user(c, acct->address);
    }
    OPENSSL_cleanse(h->login_digest, sizeof h->login_digest);
    if (r == LOGIN_OK)
        go(h, true);
    else if (r == LOGIN_LOCKED)
        proxy_refuse(h, 429, "Too many failed logins; try again later.");
    else if (r == LOGIN_ERROR)
        proxy_refuse(h, 503, "The account store is unavailable.");
    else
        proxy_refuse(h, 407, "Wrong user name or password.");
}

/* A connection that passed once skips the slow hash for the same
 * credentials (http/auth.h's digest, as the file area does). */
static void check_credentials(struct http_conn *h, const char *user, const char *pass)
{
    enum http_login_start r = http_login_start(h, user, pass, login_done);
    if (r == HTTP_LOGIN_KNOWN)
        go(h, true);
    else if (r == HTTP_LOGIN_UNAVAILABLE)
        proxy_refuse(h, 503, "The login service is unavailable.");
}

void http_proxy_forward(struct http_conn *h)
{
    if (proxy_via_loops(&h->req)) { /* RFC 9110 7.6.3 */
        proxy_refuse(h, 508, "This request has been through this proxy already.");
        return;
    }
    if (runtime && netlist_contains(&runtime->cfg->proxy_allow, h->c->peer_ip)) {
        go(h, false);
        return;
    }
    const struct http_str *f = NULL;
    for (size_t i = 0; i < h->req.nheaders; i++)
        if (http_str_ieq(h->req.headers[i].name, "proxy-authorization"))
            f = &h->req.headers[i].value;
    char user[AUTH_MAX_USERNAME + 1], pass[AUTH_MAX_PASSWORD + 1];
    if (!f || http_basic_parse(*f, user, sizeof user, pass, sizeof pass) < 0) {
        log_info(h->c->id, "proxy auth_required peer=%s", h->c->peer_ip);
        proxy_refuse(h, 407, "Log in with your account.");
        return;
    }
    check_credentials(h, user, pass);
    OPENSSL_cleanse(pass, sizeof pass);
}
