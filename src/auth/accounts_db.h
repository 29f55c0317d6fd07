/* accounts_db: the account store's raw SQLite handle, for the other files of
 * auth/ that own a table of their own (sshkeys.c). Nothing outside auth/
 * includes this: SQL stays behind auth/ (DESIGN.md "Beyond one host"). */
#pragma once
#include <sqlite3.h>

#include "auth/accounts.h"

/* Takes the store's lock and returns its connection; every call that uses
 * it must come before authdb_sqlite_unlock. */
sqlite3 *authdb_sqlite_lock(struct authdb *db);
void authdb_sqlite_unlock(struct authdb *db);
/* authdb_user_find with the lock already held. */
enum auth_result authdb_find_locked(struct authdb *db, const char *address,
                                    struct account *out);
