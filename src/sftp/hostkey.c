/* hostkey: host key files and the shared ssh_bind (see hostkey.h). Keys
 * are written as OpenSSH private key files (mode 0600, temp name, fsync,
 * rename), with a .pub beside each. Algorithms are modern only: curve25519
 * or NIST ECDH key exchange, AEAD ciphers (chacha20-poly1305, AES-GCM) or
 * AES-CTR with SHA-2 MACs (libssh2 1.10, curl's, has no AEAD), SHA-2
 * signatures; no SHA-1, no CBC, no DSA. */
#include "sftp/hostkey.h"

#include <errno.h>
#include <fcntl.h>
#include <libssh/server.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"

#define KEX_ALGOS                                                                        \
    "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"                 \
    "ecdh-sha2-nistp384,ecdh-sha2-nistp521"
#define CIPHERS                                                                          \
    "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,"       \
    "aes256-ctr,aes192-ctr,aes128-ctr"
#define MACS                                                                             \
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,"         \
    "hmac-sha2-512"
#define HOSTKEY_ALGOS "ssh-ed25519,ecdsa-sha2-nistp256"
#define PUBKEY_ALGOS                                                                     \
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,"           \
    "rsa-sha2-512,rsa-sha2-256"
#define RSA_MIN_BITS 2048
#define BANNER "portico_" PORTICO_VERSION

struct hostkey {
    const char *name; /* "ed25519" */
    const char *file; /* in data_dir/ssh/ */
    enum ssh_keytypes_e type;
    int bits;
    char fingerprint[80];
    bool generated;
};

static struct hostkey keys[] = {
    {"ed25519", "ssh_host_ed25519_key", SSH_KEYTYPE_ED25519, 0, "", false},
    {"ecdsa", "ssh_host_ecdsa_key", SSH_KEYTYPE_ECDSA_P256, 256, "", false},
};
#define NKEYS (sizeof keys / sizeof *keys)

static ssh_bind bind_;
static pthread_mutex_t bind_lock = PTHREAD_MUTEX_INITIALIZER;

static int fail(char *err, size_t errlen, const char *what, const char *path)
{
    snprintf(err, errlen, "%s %s: %s", what, path, strerror(errno ? errno : EINVAL));
    return -1;
}

/* Writes text to path durably under a temp name (mode as given). */
static int write_file(const char *path, const char *text, mode_t mode)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    int rc = fd_write_all(fd, text, strlen(text));
    if (rc == 0)
        rc = fsync(fd);
    close(fd);
    if (rc == 0)
        rc = rename(tmp, path);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

static int generate(struct hostkey *k, const char *path)
{
    ssh_key key = NULL;
    char *priv = NULL, *pub = NULL;
    int rc = -1;
    if (ssh_pki_generate(k->type, k->bits, &key) == SSH_OK &&
        ssh_pki_export_privkey_base64(key, NULL, NULL, NULL, &priv) == SSH_OK &&
        ssh_pki_export_pubkey_base64(key, &pub) == SSH_OK &&
        write_file(path, priv, 0600) == 0) {
        char pubpath[PATH_MAX + 8], line[4096];
        snprintf(pubpath, sizeof pubpath, "%s.pub", path);
        snprintf(line, sizeof line, "%s %s portico-host\n", ssh_key_type_to_char(k->type),
                 pub);
        rc = write_file(pubpath, line, 0644);
    }
    if (priv != NULL) {
        memset(priv, 0, strlen(priv));
        ssh_string_free_char(priv);
    }
    ssh_string_free_char(pub);
    ssh_key_free(key);
    k->generated = rc == 0;
    return rc;
}

static int fingerprint(struct hostkey *k, ssh_key key)
{
    ssh_key pub = NULL;
    unsigned char *hash = NULL;
    size_t hlen = 0;
    int rc = -1;
    if (ssh_pki_export_privkey_to_pubkey(key, &pub) == SSH_OK &&
        ssh_get_publickey_hash(pub, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) == 0) {
        char *fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
        if (fp != NULL) {
            snprintf(k->fingerprint, sizeof k->fingerprint, "%s", fp);
            ssh_string_free_char(fp);
            rc = 0;
        }
    }
    ssh_clean_pubkey_hash(&hash);
    ssh_key_free(pub);
    return rc;
}

/* Loads one key into the bind (which takes it over). */
static int load(struct hostkey *k, const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, k->file);
    errno = 0;
    if (access(path, F_OK) < 0 && errno == ENOENT && generate(k, path) < 0)
        return fail(err, errlen, "cannot create the SSH host key", path);
    ssh_key key = NULL;
    errno = 0;
    if (ssh_pki_import_privkey_file(path, NULL, NULL, NULL, &key) != SSH_OK)
        return fail(err, errlen, "cannot read the SSH host key", path);
    if (fingerprint(k, key) < 0 ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
        ssh_key_free(key);
        return fail(err, errlen, "cannot use the SSH host key", path);
    }
    return 0;
}

static int set_algorithms(char *err, size_t errlen)
{
    bool no = false;
    int rsa_min = RSA_MIN_BITS;
    if (ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_PROCESS_CONFIG, &no) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_KEY_EXCHANGE, KEX_ALGOS) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_CIPHERS_C_S, CIPHERS) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_CIPHERS_S_C, CIPHERS) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_HMAC_C_S, MACS) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_HMAC_S_C, MACS) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_HOSTKEY_ALGORITHMS, HOSTKEY_ALGOS) !=
            SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_PUBKEY_ACCEPTED_KEY_TYPES,
                             PUBKEY_ALGOS) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_RSA_MIN_SIZE, &rsa_min) != SSH_OK ||
        ssh_bind_options_set(bind_, SSH_BIND_OPTIONS_BANNER, BANNER) != SSH_OK) {
        snprintf(err, errlen, "libssh refused the SSH algorithm lists: %s",
                 ssh_get_error(bind_));
        return -1;
    }
    return 0;
}

int sftp_hostkeys_init(const char *data_dir, char *err, size_t errlen)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/ssh", data_dir);
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return fail(err, errlen, "cannot create", dir);
    ssh_init();
    bind_ = ssh_bind_new();
    if (bind_ == NULL) {
        snprintf(err, errlen, "cannot create the SSH server (libssh)");
        return -1;
    }
    if (set_algorithms(err, errlen) < 0)
        return -1;
    for (size_t i = 0; i < NKEYS; i++)
        if (load(&keys[i], dir, err, errlen) < 0)
            return -1;
    return 0;
}

void sftp_hostkeys_free(void)
{
    if (bind_ != NULL)
        ssh_bind_free(bind_);
    bind_ = NULL;
    ssh_finalize();
}

void sftp_hostkeys_print(void)
{
    for (size_t i = 0; i < NKEYS; i++)
        printf("ssh host key %-7s %s%s\n", keys[i].name, keys[i].fingerprint,
               keys[i].generated ? " (new)" : "");
}

int sftp_bind_accept(ssh_session ss, int fd)
{
    pthread_mutex_lock(&bind_lock);
    int rc = ssh_bind_accept_fd(bind_, ss, fd);
    pthread_mutex_unlock(&bind_lock);
    return rc == SSH_OK ? 0 : -1;
}
