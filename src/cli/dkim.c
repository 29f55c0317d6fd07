/* cli dkim and dns: `portico dkim keygen DOMAIN` makes the domain's DKIM
 * keys (RSA-2048 and Ed25519, RFC 6376 / RFC 8463) in data_dir/dkim/ and
 * prints their TXT records; `portico dns DOMAIN` prints every record the
 * domain needs, ready to paste into a zone: MX, SPF (RFC 7208), DKIM,
 * DMARC (RFC 7489), MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) TXT
 * records, and the SRV records of RFC 6186 for mail clients. */
#include "cli/cli.h"

#include "relay/dkim.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int domain_ok(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 253 || d[0] == '.' || d[0] == '-')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = d[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return 0;
    }
    return 1;
}

static int key_path(const struct config *cfg, const char *domain, const char *kind,
                    char *out, size_t len)
{
    int n = snprintf(out, len, "%s/dkim/%s.%s.pem", cfg->data_dir, domain, kind);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static EVP_PKEY *load_key(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

/* The p= value: base64 of the SubjectPublicKeyInfo for RSA (RFC 6376
 * 3.6.1), of the raw 32-byte key for Ed25519 (RFC 8463 4). */
static int public_b64(EVP_PKEY *k, char *out, size_t len)
{
    unsigned char raw[1024], *p = raw;
    size_t n = sizeof raw;
    if (EVP_PKEY_get_id(k) == EVP_PKEY_ED25519) {
        if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1)
            return -1;
    } else {
        int m = i2d_PUBKEY(k, NULL);
        if (m <= 0 || (size_t)m > sizeof raw)
            return -1;
        n = (size_t)i2d_PUBKEY(k, &p);
    }
    if (len < 4 * ((n + 2) / 3) + 1)
        return -1;
    EVP_EncodeBlock((unsigned char *)out, raw, (int)n);
    return 0;
}

static void print_dkim_txt(const char *domain, const char *selector, EVP_PKEY *k)
{
    char b64[1500];
    if (public_b64(k, b64, sizeof b64) < 0)
        return;
    const char *kt = "rsa";
    if (EVP_PKEY_get_id(k) == EVP_PKEY_ED25519)
        kt = "ed25519";
    printf("%s._domainkey.%s. 3600 IN TXT \"v=DKIM1; k=%s; p=%s\"\n", selector, domain,
           kt, b64);
}

static EVP_PKEY *generate(const char *kind)
{
    if (strcmp(kind, "ed25519") == 0)
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
}

static int write_key(const char *path, EVP_PKEY *k)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return -1;
    }
    int ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        ok = 0;
    fclose(f);
    return ok ? 0 : -1;
}

static int keygen(const struct config *cfg, const char *domain)
{
    static const char *const kinds[2] = {"rsa", "ed25519"};
    static const char *const selectors[2] = {DKIM_SELECTOR_RSA, DKIM_SELECTOR_ED25519};
    char dir[4200], path[4300];
    snprintf(dir, sizeof dir, "%s/dkim", cfg->data_dir);
    mkdir(cfg->data_dir, 0700);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return cli_fail("dkim keygen", "cannot create %s: %s", dir, strerror(errno));
    for (int i = 0; i < 2; i++) {
        if (key_path(cfg, domain, kinds[i], path, sizeof path) < 0)
            return cli_fail("dkim keygen", "path too long");
        EVP_PKEY *k = load_key(path);
        if (!k) {
            k = generate(kinds[i]);
            if (!k || write_key(path, k) < 0) {
                EVP_PKEY_free(k);
                return cli_fail("dkim keygen", "cannot write %s: %s", path,
                                strerror(errno));
            }
            fprintf(stderr, "portico: dkim keygen: new key %s\n", path);
        }
        print_dkim_txt(domain, selectors[i], k);
        EVP_PKEY_free(k);
    }
    return cli_flush("dkim keygen");
}

int cli_dkim(const struct config *cfg, int argc, char **argv)
{
    if (argc != 2 || strcmp(argv[0], "keygen") != 0)
        return cli_usage_error("dkim");
    if (!domain_ok(argv[1]))
        return cli_fail("dkim keygen", "%s: not a domain name", argv[1]);
    return keygen(cfg, argv[1]);
}

static void print_dkim_records(const struct config *cfg, const char *domain)
{
    static const char *const kinds[2] = {"rsa", "ed25519"};
    static const char *const selectors[2] = {DKIM_SELECTOR_RSA, DKIM_SELECTOR_ED25519};
    char path[4300];
    int found = 0;
    for (int i = 0; i < 2; i++) {
        if (key_path(cfg, domain, kinds[i], path, sizeof path) < 0)
            continue;
        EVP_PKEY *k = load_key(path);
        if (k) {
            print_dkim_txt(domain, selectors[i], k);
            found++;
        }
        EVP_PKEY_free(k);
    }
    if (!found)
        printf("; no DKIM key yet: run `portico dkim keygen %s`\n", domain);
}

int cli_dns(const struct config *cfg, int argc, char **argv)
{
    if (argc != 1)
        return cli_usage_error("dns");
    const char *d = argv[0], *h = cfg->hostname;
    if (!domain_ok(d))
        return cli_fail("dns", "%s: not a domain name", d);
    printf("; DNS records for %s (mail host %s); also set the PTR record of the\n"
           "; host's public addresses to %s (reverse DNS).\n",
           d, h, h);
    printf("%s. 3600 IN MX 10 %s.\n", d, h);
    printf("%s. 3600 IN TXT \"v=spf1 mx -all\"\n", d);
    print_dkim_records(cfg, d);
    printf(
        "_dmarc.%s. 3600 IN TXT \"v=DMARC1; p=quarantine; rua=mailto:postmaster@%s\"\n",
        d, d);
    printf("_mta-sts.%s. 3600 IN TXT \"v=STSv1; id=1\"\n", d);
    printf("; and serve https://mta-sts.%s/.well-known/mta-sts.txt:\n"
           ";   version: STSv1 / mode: testing / mx: %s / max_age: 86400\n",
           d, h);
    printf("_smtp._tls.%s. 3600 IN TXT \"v=TLSRPTv1; rua=mailto:postmaster@%s\"\n", d, d);
    printf("_submissions._tcp.%s. 3600 IN SRV 0 1 465 %s.\n", d, h);
    printf("_submission._tcp.%s. 3600 IN SRV 0 1 587 %s.\n", d, h);
    printf("_imaps._tcp.%s. 3600 IN SRV 0 1 993 %s.\n", d, h);
    printf("_imap._tcp.%s. 3600 IN SRV 0 1 143 %s.\n", d, h);
    printf("_pop3s._tcp.%s. 3600 IN SRV 0 1 995 %s.\n", d, h);
    printf("_pop3._tcp.%s. 3600 IN SRV 0 1 110 %s.\n", d, h);
    printf("autoconfig.%s. 3600 IN CNAME %s.\n", d, h);
    return cli_flush("dns");
}
