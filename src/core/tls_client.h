/* tls_client: the client side of TLS (OpenSSL 3, TLS 1.2 and 1.3 only):
 * one shared client context with the trust anchors (the system CAs or a
 * configured CA file), and per connection SNI, the hostname check
 * (X509_VERIFY_PARAM_set1_host) and a policy deciding what an unverified
 * certificate means. The upgrade itself (STARTTLS in place, or implicit TLS
 * at once after connect) is conn_starttls_client (conn.h), normally through
 * session_client_starttls (session_client.h). */
#pragma once
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* What the user of a connection demands (decided per use: MX delivery is
 * opportunistic, a smarthost required, MTA-STS enforce or DANE verified). */
enum tls_policy {
    TLS_OPPORTUNISTIC, /* TLS if the peer offers it; any certificate. A peer
                        * without STARTTLS is used in plaintext (the caller
                        * decides with tls_policy_allows_plain). */
    TLS_REQUIRED,      /* TLS or nothing; any certificate (encrypted, not
                        * authenticated) */
    TLS_VERIFIED,      /* TLS with a certificate that chains to a trusted CA
                        * and names the host (RFC 6125); else the session
                        * fails before a byte is sent over it */
};

/* "opportunistic", "required", "verified" (logs, config values). */
const char *tls_policy_name(enum tls_policy p);
/* Parses the name back; 0 or -1. */
int tls_policy_parse(const char *name, enum tls_policy *out);
/* False when the peer offers no TLS (no STARTTLS in EHLO) and the policy
 * forbids going on in plaintext (required, verified). */
bool tls_policy_allows_plain(enum tls_policy p);

/* The client context: process-wide, immutable once made, shared by every
 * loop thread (SSL_CTX is reference-counted and thread-safe for SSL_new). */
struct tls_client;

/* ca_file: a PEM bundle of trust anchors, or NULL/"" for the system's
 * default store (/etc/ssl/certs). Returns NULL with err set on failure. */
struct tls_client *tls_client_new(const char *ca_file, char *err, size_t errlen);
/* Frees the context; connections already holding SSLs keep it alive.
 * tls_client_free(NULL) is a no-op. */
void tls_client_free(struct tls_client *t);

/* A new client SSL for host (SNI and the hostname check; host is a DNS
 * name, or an IP literal which is checked against IP SANs and gets no
 * SNI). Verification always runs and its result is kept for
 * tls_client_result; the handshake itself never fails on the certificate,
 * the policy is applied after it (tls_client_check), so that the error
 * says why. NULL on failure. The caller owns it until it hands it to
 * conn_starttls_client. */
SSL *tls_client_new_ssl(struct tls_client *t, const char *host);

/* The outcome of a completed handshake, for logs and Received:. */
struct tls_client_result {
    bool verified;     /* the chain and the host name checked out */
    long verify_error; /* X509_V_OK or the X509_V_ERR_* code */
    char why[128];     /* "certificate verify failed: hostname mismatch" */
    char desc[96];     /* "TLSv1.3 TLS_AES_256_GCM_SHA384" (tls_describe) */
    char version[16];  /* "TLSv1.3" */
    char cipher[64];   /* "TLS_AES_256_GCM_SHA384" */
    char peer_cn[128]; /* the certificate's subject CN, or "" */
};

/* Fills r from a handshaken ssl. Returns 0 if the policy accepts it, -1 if
 * not (TLS_VERIFIED and !r->verified; r->why says why). */
int tls_client_check(SSL *ssl, enum tls_policy p, struct tls_client_result *r);
