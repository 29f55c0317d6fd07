/* recipient: where mail for an address goes. Resolves aliases (bounded by
 * ALIAS_MAX_DEPTH), plus-addressing (alice+tag@ is alice@) and the optional
 * [smtp] catch_all for unknown users of local domains; and decides whether an
 * authenticated account may use an envelope sender. Blocking (authdb): run
 * on the work pool. */
#pragma once
#include <stdbool.h>

#include "auth/accounts.h"

enum rcpt_kind {
    RCPT_LOCAL,   /* an account: acct is filled */
    RCPT_REMOTE,  /* not a local domain (or an alias pointing out): address */
    RCPT_UNKNOWN, /* a local domain without such user (RFC 5321 550 5.1.1) */
    RCPT_LOOP,    /* alias chain too deep or looping */
    RCPT_ERROR,   /* the account store failed: a temporary error */
};

struct rcpt_target {
    enum rcpt_kind kind;
    struct account acct;                     /* RCPT_LOCAL */
    char address[AUTH_MAX_USERNAME + 1];     /* RCPT_REMOTE: where to send */
};

/* address is "local@domain" (the SMTP path without brackets); catch_all is
 * "" or an address for otherwise unknown users of local domains. */
enum rcpt_kind recipient_resolve(struct authdb *db, const char *address,
                                 const char *catch_all, struct rcpt_target *out);

/* 1 if the account (by its address) may send as sender: the account itself,
 * a plus-address of it, or an alias resolving to it; 0 if not, -1 on error. */
int recipient_sender_allowed(struct authdb *db, const char *account, const char *sender);
