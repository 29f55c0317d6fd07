/* tls_client: the client SSL_CTX (trust anchors, TLS 1.2+) and, per
 * connection, SNI, the hostname check and the policy decision. The
 * handshake always completes whatever the certificate (the verify callback
 * records, it does not veto), so the policy is applied in one place,
 * tls_client_check, with a reason a log line and a bounce can carry. */
#include "core/tls_client.h"

#include "core/tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct tls_client {
    SSL_CTX *ctx;
};

static const char *const policy_names[] = {"opportunistic", "required", "verified"};

const char *tls_policy_name(enum tls_policy p)
{
    if ((unsigned)p < sizeof policy_names / sizeof *policy_names)
        return policy_names[p];
    return "?";
}

int tls_policy_parse(const char *name, enum tls_policy *out)
{
    for (unsigned i = 0; i < sizeof policy_names / sizeof *policy_names; i++) {
        if (strcasecmp(name, policy_names[i]) == 0) {
            *out = (enum tls_policy)i;
            return 0;
        }
    }
    return -1;
}

bool tls_policy_allows_plain(enum tls_policy p)
{
    return p == TLS_OPPORTUNISTIC;
}

/* Accept whatever the chain is; X509_STORE_CTX keeps the first error in
 * SSL_get_verify_result for tls_client_check. */
static int verify_cb(int ok, X509_STORE_CTX *store)
{
    return 1;
}

static void set_err(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[200] = "unknown error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s: %s", what, buf);
    ERR_clear_error();
}

struct tls_client *tls_client_new(const char *ca_file, char *err, size_t errlen)
{
    struct tls_client *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx) {
        set_err(err, errlen, "cannot create the TLS client context");
        free(t);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER, verify_cb);
    int ok;
    if (ca_file && *ca_file)
        ok = SSL_CTX_load_verify_locations(t->ctx, ca_file, NULL);
    else
        ok = SSL_CTX_set_default_verify_paths(t->ctx);
    if (!ok) {
        set_err(err, errlen, "cannot load the CA certificates");
        tls_client_free(t);
        return NULL;
    }
    return t;
}

void tls_client_free(struct tls_client *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

static bool is_ip_literal(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

SSL *tls_client_new_ssl(struct tls_client *t, const char *host)
{
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl)
        return NULL;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    int ok;
    if (is_ip_literal(host)) {
        ok = X509_VERIFY_PARAM_set1_ip_asc(param, host);
    } else {
        /* RFC 6125 6.4: no partial wildcards ("f*.example.com"). */
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        ok = X509_VERIFY_PARAM_set1_host(param, host, 0) &&
             SSL_set_tlsext_host_name(ssl, host);
    }
    if (!ok) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

static void peer_cn(SSL *ssl, char *buf, size_t len)
{
    buf[0] = '\0';
    X509 *cert = SSL_get1_peer_certificate(ssl);
    if (!cert)
        return;
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, (int)len);
    X509_free(cert);
}

int tls_client_check(SSL *ssl, enum tls_policy p, struct tls_client_result *r)
{
    memset(r, 0, sizeof *r);
    tls_describe(ssl, r->desc, sizeof r->desc);
    snprintf(r->version, sizeof r->version, "%s", SSL_get_version(ssl));
    snprintf(r->cipher, sizeof r->cipher, "%s", SSL_get_cipher_name(ssl));
    peer_cn(ssl, r->peer_cn, sizeof r->peer_cn);
    X509 *cert = SSL_get0_peer_certificate(ssl);
    r->verify_error = SSL_get_verify_result(ssl);
    if (!cert) {
        r->verify_error = X509_V_ERR_APPLICATION_VERIFICATION;
        snprintf(r->why, sizeof r->why, "no certificate from the server");
    } else if (r->verify_error != X509_V_OK) {
        snprintf(r->why, sizeof r->why, "certificate verify failed: %s",
                 X509_verify_cert_error_string(r->verify_error));
    }
    r->verified = cert && r->verify_error == X509_V_OK;
    if (p == TLS_VERIFIED && !r->verified)
        return -1;
    return 0;
}
