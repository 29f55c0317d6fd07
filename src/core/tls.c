/* tls: one process-wide SSL_CTX behind a mutex. New connections take the
 * current context; SIGHUP swaps in a new one built from the same files. */
#include "core/tls.h"

#include "core/config.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t tls_mu = PTHREAD_MUTEX_INITIALIZER;
static SSL_CTX *current_ctx;
static char cert_path[PATH_MAX], key_path[PATH_MAX];
static char fingerprint[3 * EVP_MAX_MD_SIZE + 1];
static bool generated;

static void ssl_error(char *err, size_t errlen, const char *what, const char *path)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "unknown error";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s %s: %s", what, path, buf);
    ERR_clear_error();
}

static X509 *make_cert(EVP_PKEY *key, const char *hostname)
{
    X509 *x = X509_new();
    if (!x)
        return NULL;
    X509_set_version(x, 2);
    unsigned char serial[16];
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 3650L * 24 * 3600);
    X509_set_pubkey(x, key);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)hostname,
                               -1, -1, 0);
    X509_set_issuer_name(x, name);
    /* Every name a local client uses: curl --cacert var/tls/cert.pem
     * https://127.0.0.1:8443/ verifies. */
    char san[400];
    if (strcmp(hostname, "localhost") == 0)
        snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1");
    else
        snprintf(san, sizeof san, "DNS:%s,DNS:localhost,IP:127.0.0.1,IP:::1", hostname);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, san);
    if (ext) {
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
    }
    if (!X509_sign(x, key, EVP_sha256())) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static int write_pem(const char *path, int mode, X509 *x, EVP_PKEY *key)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    int ok = x ? PEM_write_X509(f, x)
               : PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ok = 0;
    fclose(f);
    return ok ? 0 : -1;
}

/* First start without [tls] cert/key: an ECDSA P-256 key and a ten-year
 * self-signed certificate for hostname, written key first (0600). */
static int generate_self_signed(const struct config *cfg, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s/tls", cfg->data_dir) >= sizeof dir - 16) {
        snprintf(err, errlen, "data_dir path too long");
        return -1;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    if (snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir) < 0 ||
        snprintf(key_path, sizeof key_path, "%s/key.pem", dir) < 0)
        return -1;
    if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0)
        return 0;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = key ? make_cert(key, cfg->hostname) : NULL;
    int rc = -1;
    if (!x)
        ssl_error(err, errlen, "cannot generate a certificate in", dir);
    else if (write_pem(key_path, 0600, NULL, key) < 0 ||
             write_pem(cert_path, 0644, x, NULL) < 0)
        snprintf(err, errlen, "cannot write %s: %s", dir, strerror(errno));
    else
        rc = 0, generated = true;
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

static void compute_fingerprint(SSL_CTX *ctx)
{
    X509 *x = SSL_CTX_get0_certificate(ctx);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!x || !X509_digest(x, EVP_sha256(), md, &n))
        return;
    for (unsigned i = 0; i < n; i++)
        snprintf(fingerprint + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
}

/* RFC 7301: select "http/1.1" when the client offers it; a client offering
 * only other protocols gets no ALPN (not a fatal alert), so mail clients
 * that send none are unaffected. */
static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    static const unsigned char ours[] = "\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *load_pair(SSL_CTX *ctx, const char *cert, const char *key, char *err,
                          size_t errlen)
{
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        ssl_error(err, errlen, "cannot load certificate", cert);
    } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ssl_error(err, errlen, "cannot load key", key);
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_error(err, errlen, "key does not match certificate", cert);
    } else {
        return ctx;
    }
    SSL_CTX_free(ctx);
    return NULL;
}

int tls_check_files(const char *cert, const char *key, char *why, size_t whylen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_error(why, whylen, "cannot create", "TLS context");
        return -1;
    }
    ctx = load_pair(ctx, cert, key, why, whylen);
    if (!ctx)
        return -1;
    SSL_CTX_free(ctx);
    return 0;
}

static SSL_CTX *build_ctx(char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        ssl_error(err, errlen, "cannot create", "TLS context");
        return NULL;
    }
    /* TLS 1.2 and 1.3 only. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!SHA1");
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"portico", 7);
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    return load_pair(ctx, cert_path, key_path, err, errlen);
}

int tls_init(const struct config *cfg, char *err, size_t errlen)
{
    if (cfg->tls_cert[0]) {
        snprintf(cert_path, sizeof cert_path, "%s", cfg->tls_cert);
        snprintf(key_path, sizeof key_path, "%s", cfg->tls_key);
    } else if (generate_self_signed(cfg, err, errlen) < 0) {
        return -1;
    }
    return tls_reload(err, errlen);
}

int tls_reload(char *err, size_t errlen)
{
    SSL_CTX *ctx = build_ctx(err, errlen);
    if (!ctx)
        return -1;
    pthread_mutex_lock(&tls_mu);
    SSL_CTX *old = current_ctx;
    current_ctx = ctx;
    compute_fingerprint(ctx);
    pthread_mutex_unlock(&tls_mu);
    SSL_CTX_free(old); /* connections hold their own reference */
    return 0;
}

void tls_shutdown(void)
{
    pthread_mutex_lock(&tls_mu);
    SSL_CTX_free(current_ctx);
    current_ctx = NULL;
    pthread_mutex_unlock(&tls_mu);
}

SSL *tls_new_ssl(void)
{
    pthread_mutex_lock(&tls_mu);
    SSL *ssl = current_ctx ? SSL_new(current_ctx) : NULL;
    pthread_mutex_unlock(&tls_mu);
    return ssl;
}

const char *tls_fingerprint(void)
{
    return fingerprint;
}

bool tls_generated(void)
{
    return generated;
}

void tls_describe(SSL *ssl, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s", SSL_get_version(ssl), SSL_get_cipher_name(ssl));
}
