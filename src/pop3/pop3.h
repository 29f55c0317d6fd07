/* pop3: the POP3 server (RFC 1939, with RFC 2449 CAPA, RFC 2595 STLS,
 * RFC 3206 response codes and RFC 5034 SASL AUTH) on the shared
 * line-protocol session. This header is what the rest of pop3/ shares. */
#pragma once
#include <stdint.h>

#include "auth/accounts.h"
#include "core/loop.h"
#include "core/session.h"
#include "pop3/maildrop.h"
#include "pop3/stream.h"

extern const struct service_impl pop3_service;

enum pop3_state { POP3_AUTHORIZATION, POP3_TRANSACTION, POP3_UPDATE };

struct pop3 {
    char user[AUTH_MAX_USERNAME + 1]; /* from USER */
    struct account account;
    struct maildrop *drop; /* locked maildrop, once in TRANSACTION */
    /* A RETR or TOP in progress. */
    int msg_fd;
    uint64_t msg_left; /* bytes of the file still to read */
    struct pop3_conv conv;
};

static inline struct pop3 *pop3_of(struct session *s)
{
    return s->data;
}

/* Handlers (pop3_cmd_<verb>), by file. */
/* auth.c */
void pop3_cmd_user(struct session *s, char *args);
void pop3_cmd_pass(struct session *s, char *args);
void pop3_cmd_auth(struct session *s, char *args);
void pop3_cmd_apop(struct session *s, char *args);
void pop3_cmd_stls(struct session *s, char *args);
/* transaction.c */
void pop3_cmd_stat(struct session *s, char *args);
void pop3_cmd_list(struct session *s, char *args);
void pop3_cmd_uidl(struct session *s, char *args);
void pop3_cmd_retr(struct session *s, char *args);
void pop3_cmd_top(struct session *s, char *args);
void pop3_cmd_dele(struct session *s, char *args);
void pop3_cmd_noop(struct session *s, char *args);
void pop3_cmd_rset(struct session *s, char *args);
void pop3_cmd_quit_update(struct session *s);
/* session.c */
void pop3_cmd_capa(struct session *s, char *args);
void pop3_cmd_quit(struct session *s, char *args);

/* True if USER/PASS and SASL PLAIN/LOGIN may be used now (TLS, or loopback,
 * or [auth] allow_plaintext_auth). */
bool pop3_plaintext_ok(struct session *s);

/* parse.c: a message number "1".."4294967295" (RFC 1939 5), and "n m". */
int pop3_parse_msgno(const char *arg, uint32_t *n);
int pop3_parse_top(const char *arg, uint32_t *n, uint64_t *lines);
