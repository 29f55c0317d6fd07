/* recipient: alias, plus-address and catch-all resolution on top of the
 * account store's lookups. Pure policy; every query goes through authdb. */
#include "auth/recipient.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static enum rcpt_kind resolve(struct authdb *db, const char *address, int depth,
                              struct rcpt_target *out);

/* local+tag@domain -> local@domain in out; 0, or -1 if there is no tag. */
static int strip_plus(const char *address, char *out, size_t outlen)
{
    const char *at = strrchr(address, '@');
    const char *plus = strchr(address, '+');
    if (!at || !plus || plus > at || plus == address)
        return -1;
    int n = snprintf(out, outlen, "%.*s%s", (int)(plus - address), address, at);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* The address as an account or an alias of one; RCPT_UNKNOWN if neither. */
static enum rcpt_kind lookup(struct authdb *db, const char *address, int depth,
                             struct rcpt_target *out)
{
    enum auth_result r = authdb_user_find(db, address, &out->acct);
    if (r == AUTH_OK)
        return out->kind = RCPT_LOCAL;
    if (r == AUTH_ERROR)
        return out->kind = RCPT_ERROR;
    char target[AUTH_MAX_USERNAME + 1];
    int a = authdb_alias_target(db, address, target, sizeof target);
    if (a < 0)
        return out->kind = RCPT_ERROR;
    if (a == 0)
        return out->kind = RCPT_UNKNOWN;
    if (depth + 1 >= ALIAS_MAX_DEPTH) /* RFC 5321 3.9.1: mail loops */
        return out->kind = RCPT_LOOP;
    return resolve(db, target, depth + 1, out);
}

static enum rcpt_kind resolve(struct authdb *db, const char *address, int depth,
                              struct rcpt_target *out)
{
    const char *at = strrchr(address, '@');
    if (!at)
        return out->kind = RCPT_UNKNOWN;
    int local = authdb_domain_is_local(db, at + 1);
    if (local < 0)
        return out->kind = RCPT_ERROR;
    if (local == 0) {
        snprintf(out->address, sizeof out->address, "%s", address);
        return out->kind = RCPT_REMOTE;
    }
    enum rcpt_kind k = lookup(db, address, depth, out);
    char base[AUTH_MAX_USERNAME + 1];
    if (k == RCPT_UNKNOWN && strip_plus(address, base, sizeof base) == 0)
        k = lookup(db, base, depth, out);
    return k;
}

enum rcpt_kind recipient_resolve(struct authdb *db, const char *address,
                                 const char *catch_all, struct rcpt_target *out)
{
    memset(out, 0, sizeof *out);
    if (strlen(address) > AUTH_MAX_USERNAME)
        return out->kind = RCPT_UNKNOWN;
    enum rcpt_kind k = resolve(db, address, 0, out);
    if (k == RCPT_UNKNOWN && catch_all && catch_all[0])
        k = resolve(db, catch_all, 1, out);
    if (k == RCPT_REMOTE && out->address[0] == '\0')
        k = out->kind = RCPT_UNKNOWN;
    return k;
}

int recipient_sender_allowed(struct authdb *db, const char *account, const char *sender)
{
    struct rcpt_target t;
    memset(&t, 0, sizeof t);
    enum rcpt_kind k = resolve(db, sender, 0, &t);
    if (k == RCPT_ERROR)
        return -1;
    return k == RCPT_LOCAL && strcasecmp(t.acct.address, account) == 0;
}
