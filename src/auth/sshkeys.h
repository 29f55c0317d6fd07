/* sshkeys: SSH public keys per account (`portico user key ...`, SFTP
 * public-key logins). A key is given as one OpenSSH authorized_keys line
 * "TYPE BASE64 [COMMENT]" (no options) and known by its SHA-256
 * fingerprint, "SHA256:" + unpadded base64, as ssh-keygen -l prints it. */
#pragma once
#include <stddef.h>

#include "auth/accounts.h"
#include "core/limits.h"

#define SSHKEY_FP_MAX 64   /* "SHA256:" + 43 characters, and room */
#define SSHKEY_TYPE_MAX 40 /* "ecdsa-sha2-nistp521" */
#define SSHKEY_COMMENT_MAX 256

struct sshkey {
    char type[SSHKEY_TYPE_MAX];
    char b64[AUTH_MAX_KEY_LINE];
    char comment[SSHKEY_COMMENT_MAX];
    char fingerprint[SSHKEY_FP_MAX];
};

/* Parses one line (a trailing newline is allowed). The type must be one of
 * ssh-ed25519, ecdsa-sha2-nistp256/384/521 or ssh-rsa, and the decoded
 * blob must name the same type (RFC 4253 6.6). Pure; 0, or -1 with why. */
int sshkey_parse(const char *line, struct sshkey *out, const char **why);
/* The fingerprint of a base64 key blob; 0 or -1 (not base64). */
int sshkey_fingerprint(const char *b64, char *out, size_t outlen);

/* The store. add/del return 0, or -1 with a reason in err. add fills the
 * parsed key (its fingerprint) in out when out is not NULL. */
int authdb_key_add(struct authdb *db, const char *address, const char *line,
                   struct sshkey *out, char *err, size_t errlen);
int authdb_key_del(struct authdb *db, const char *address, const char *fingerprint,
                   char *err, size_t errlen);
/* Calls cb for each key of the account (the lock is held: cb must not call
 * authdb). 0, or -1 with err. */
int authdb_key_list(struct authdb *db, const char *address,
                    void (*cb)(void *arg, const struct sshkey *k), void *arg, char *err,
                    size_t errlen);
/* Whether `user` has a key with this fingerprint: AUTH_OK with the account
 * in out, AUTH_FAIL (no such user or key), AUTH_ERROR. */
enum auth_result authdb_key_match(struct authdb *db, const char *user,
                                  const char *fingerprint, struct account *out);
