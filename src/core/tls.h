/* tls: the server's OpenSSL 3 context (TLS 1.2 and 1.3 only), the generated
 * self-signed certificate for first starts, and reload on SIGHUP. */
#pragma once
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

/* Loads [tls] cert/key, or creates data_dir/tls/{cert,key}.pem for hostname
 * when none are configured. Prints nothing; tls_fingerprint() tells the
 * SHA-256 fingerprint. Returns 0 or -1 with err set. */
int tls_init(const struct config *cfg, char *err, size_t errlen);
/* Loads cert and key as tls_init would and checks that they match, without
 * keeping anything (check-config, and serve before it creates anything).
 * Returns 0, or -1 with why set ("cannot load key /x: ..."). */
int tls_check_files(const char *cert, const char *key, char *why, size_t whylen);
/* Builds a fresh context from the same files; the old one lives on in the
 * connections that hold it. Returns 0 or -1 (the old context stays). */
int tls_reload(char *err, size_t errlen);
void tls_shutdown(void);

/* A new SSL object for an accepted connection; NULL on failure. */
SSL *tls_new_ssl(void);
/* "AB:CD:..." of the current certificate. */
const char *tls_fingerprint(void);
/* True when the certificate was generated on this start. */
bool tls_generated(void);
/* Writes e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384" into buf. */
void tls_describe(SSL *ssl, char *buf, size_t len);
