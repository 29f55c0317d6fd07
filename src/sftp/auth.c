/* auth: SSH user authentication (RFC 4252) through portico's accounts:
 * "password" (5 / 8) checked on the work pool with the shared throttle, and
 * "publickey" (7) against the keys stored for the account (auth/sshkeys.h).
 * libssh verifies a key's signature; we decide whether the key is the
 * account's. A connection that ends without logging in after refused keys
 * counts as one failed login, so a user whose agent offers several keys is
 * not locked out by the wrong ones, and a key-guessing client is. */
#include "sftp/auth.h"

/* libssh 0.10 marks the message API's auth accessors deprecated in favour
 * of server callbacks, but keeps them working; the message loop keeps the
 * whole exchange in one readable function on this thread. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include <libssh/server.h>
#include <stdio.h>
#include <string.h>

#include "auth/login_wait.h"
#include "auth/sshkeys.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/loop.h"

#define METHODS (SSH_AUTH_METHOD_PASSWORD | SSH_AUTH_METHOD_PUBLICKEY)

struct auth_state {
    struct sftp_link *l;
    int tries;
    bool key_refused;
    char last_user[AUTH_MAX_USERNAME + 1];
};

static void refuse(ssh_message msg)
{
    ssh_message_auth_set_methods(msg, METHODS);
    ssh_message_reply_default(msg);
}

/* The offered key's fingerprint, as `portico user key list` shows it. */
static int key_fingerprint(ssh_message msg, char *fp, size_t fplen)
{
    ssh_key key = ssh_message_auth_pubkey(msg);
    char *b64 = NULL;
    if (key == NULL || ssh_pki_export_pubkey_base64(key, &b64) != SSH_OK)
        return -1;
    int rc = sshkey_fingerprint(b64, fp, fplen);
    ssh_string_free_char(b64);
    return rc;
}

static enum ssh_publickey_state_e key_state(ssh_message msg)
{
    return ssh_message_auth_publickey_state(msg);
}

/* 1 logged in, 0 go on. */
static int try_publickey(struct auth_state *a, ssh_message msg, const char *user,
                         struct account *acct)
{
    struct sftp_link *l = a->l;
    char fp[SSHKEY_FP_MAX];
    enum ssh_publickey_state_e state = key_state(msg);
    enum auth_result r = AUTH_FAIL;
    if (login_throttle_wait(l->peer_ip, user) == LOGIN_LOCKED) {
        login_record(l->sid, l->peer_ip, user, "publickey", LOGIN_LOCKED, false);
        a->tries++;
        refuse(msg);
        return 0;
    }
    if (key_fingerprint(msg, fp, sizeof fp) == 0)
        r = authdb_key_match(runtime->authdb, user, fp, acct);
    if (r == AUTH_OK && state == SSH_PUBLICKEY_STATE_NONE) {
        ssh_message_auth_reply_pk_ok_simple(msg); /* RFC 4252 7: key acceptable */
        return 0;
    }
    if (r == AUTH_OK && state == SSH_PUBLICKEY_STATE_VALID) {
        login_record(l->sid, l->peer_ip, user, "publickey", LOGIN_OK, false);
        ssh_message_auth_reply_success(msg, 0);
        return 1;
    }
    log_debug(l->sid, "sftp key_refused user=%s fingerprint=%s", user,
              r == AUTH_ERROR ? "error" : fp);
    a->tries++;
    a->key_refused = true;
    snprintf(a->last_user, sizeof a->last_user, "%s", user);
    refuse(msg);
    return 0;
}

static int try_password(struct auth_state *a, ssh_message msg, const char *user,
                        struct account *acct)
{
    const char *password = ssh_message_auth_password(msg);
    a->tries++;
    enum login_result r = login_password_wait(a->l->sid, a->l->peer_ip, user,
                                              password ? password : "", acct);
    if (r == LOGIN_OK) {
        ssh_message_auth_reply_success(msg, 0);
        return 1;
    }
    refuse(msg);
    return 0;
}

static int auth_message(struct auth_state *a, ssh_message msg, struct account *acct)
{
    if (ssh_message_type(msg) != SSH_REQUEST_AUTH) {
        ssh_message_reply_default(msg); /* RFC 4253 10: service requests */
        return 0;
    }
    const char *user = ssh_message_auth_user(msg);
    if (user == NULL || strlen(user) > AUTH_MAX_USERNAME) {
        a->tries++;
        refuse(msg);
        return 0;
    }
    sftp_link_touch(a->l);
    switch (ssh_message_subtype(msg)) {
    case SSH_AUTH_METHOD_PASSWORD:
        return try_password(a, msg, user, acct);
    case SSH_AUTH_METHOD_PUBLICKEY:
        return try_publickey(a, msg, user, acct);
    default: /* "none" and the methods we do not offer: list ours */
        refuse(msg);
        return 0;
    }
}

int sftp_auth(struct sftp_link *l, ssh_session ss, struct account *acct)
{
    struct auth_state a = {.l = l};
    int done = 0;
    ssh_set_auth_methods(ss, METHODS);
    while (!done && a.tries < SFTP_MAX_AUTH_TRIES) {
        ssh_message msg = ssh_message_get(ss);
        if (msg == NULL)
            break;
        done = auth_message(&a, msg, acct);
        ssh_message_free(msg);
    }
    if (!done && a.tries >= SFTP_MAX_AUTH_TRIES)
        log_info(l->sid, "sftp auth_tries_exceeded peer=%s", l->peer_ip);
    if (!done && a.key_refused)
        login_record(l->sid, l->peer_ip, a.last_user, "publickey", LOGIN_FAIL,
                     false); /* the client has gone: nobody to delay */
    return done ? 0 : -1;
}
