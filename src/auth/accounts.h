/* accounts: the account store in data_dir/portico.db (SQLite, WAL, schema
 * version with migrations): domains, accounts, aliases. All calls are
 * blocking; from a loop thread, run them on the work pool. Thread-safe. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

struct authdb;

struct account {
    int64_t id;
    char local[65];
    char domain[256];
    char address[AUTH_MAX_USERNAME + 1]; /* local@domain, lower-case domain */
};

enum auth_result { AUTH_OK = 0, AUTH_FAIL = 1, AUTH_ERROR = -1 };

/* Opens (creating and migrating as needed) data_dir/portico.db. */
struct authdb *authdb_open(const char *data_dir, char *err, size_t errlen);
void authdb_close(struct authdb *db); /* NULL is a no-op */

/* Domains. The *_add/_del functions return 0, or -1 with a reason in err. */
int authdb_domain_add(struct authdb *db, const char *domain, char *err, size_t errlen);
int authdb_domain_del(struct authdb *db, const char *domain, char *err, size_t errlen);
int authdb_domain_list(struct authdb *db, void (*cb)(void *arg, const char *domain),
                       void *arg);
/* 1 if local, 0 if not, -1 on error. Case-insensitive. */
int authdb_domain_is_local(struct authdb *db, const char *domain);

/* Accounts. An address is local@domain; a bare local is accepted when there
 * is exactly one domain. The domain must exist. Password is hashed with
 * yescrypt. user_add_hash imports an existing $y$, $6$ or $2b$ hash. */
int authdb_user_add(struct authdb *db, const char *address, const char *password,
                    char *err, size_t errlen);
int authdb_user_add_hash(struct authdb *db, const char *address, const char *hash,
                         char *err, size_t errlen);
/* The hash verified for an unknown user, so a failed login costs the same
 * either way; the default is yescrypt at libxcrypt's default cost. An
 * installation whose accounts all use a cheaper imported kind ($6$) matches
 * it to them (the fuzz harnesses do, to run faster). 0, or -1 if invalid. */
int authdb_set_dummy_hash(struct authdb *db, const char *hash);
int authdb_user_passwd(struct authdb *db, const char *address, const char *password,
                       char *err, size_t errlen);
int authdb_user_del(struct authdb *db, const char *address, char *err, size_t errlen);
int authdb_user_list(struct authdb *db, void (*cb)(void *arg, const char *address),
                     void *arg);
int authdb_user_count(struct authdb *db); /* -1 on error */
/* Finds an account by address (bare local allowed as above). */
enum auth_result authdb_user_find(struct authdb *db, const char *address,
                                  struct account *out);

/* The one spelling of a login name for throttles and locks: the account's
 * address when the name (any case, bare local part) or an alias of it
 * names an account, else the name in lower case. Never fails. */
void authdb_canonical(struct authdb *db, const char *name, char *out, size_t outlen);

/* Checks a password. Slow on purpose (crypt); never call on a loop thread.
 * AUTH_FAIL for an unknown user or a wrong password alike. */
enum auth_result authdb_verify(struct authdb *db, const char *user, const char *password,
                               struct account *out);

/* Aliases: alias address -> target address (an account or another address). */
int authdb_alias_add(struct authdb *db, const char *alias, const char *target, char *err,
                     size_t errlen);
int authdb_alias_del(struct authdb *db, const char *alias, char *err, size_t errlen);
/* The target of an alias (lookup is case-insensitive): 1 with the target in
 * out, 0 if address is no alias, -1 on error. */
int authdb_alias_target(struct authdb *db, const char *address, char *out, size_t outlen);
int authdb_alias_list(struct authdb *db,
                      void (*cb)(void *arg, const char *alias, const char *target),
                      void *arg);

/* First start: when there is no account, creates postmaster@domain (adding
 * the domain if needed) with a random password written into password
 * (at least 17 bytes). Returns 1 if created, 0 if accounts existed, -1 on
 * error. */
int authdb_ensure_postmaster(struct authdb *db, const char *domain, char *password,
                             size_t passlen, char *err, size_t errlen);
