/* accounts: the account store, data_dir/portico.db (SQLite). Owns the
 * schema and its migrations, address syntax (local@domain), and the one
 * connection, which a mutex guards. Every statement is prepared with bound
 * parameters. The slow part of a login (crypt) runs outside the lock.
 * List callbacks run with the lock held: they must not call authdb. */
#include "auth/accounts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth/accounts_db.h"
#include "auth/password.h"
#include "core/limits.h"
#include "core/log.h"

#define HASH_MAX 256           /* longest stored crypt(3) string we use */
#define SHOWN_MAX 96           /* user input echoed in an error */
#define POSTMASTER_PASSWORD 16 /* characters */
#define BUSY_TIMEOUT_MS 5000

/* Prepared statements kept for reuse, by their SQL text: the lookups made
 * for every message (domains, users, aliases) are parsed once, not per
 * call. Used under the lock; one in use is never handed out twice. */
#define STMT_CACHE 32
struct cached_stmt {
    const char *sql;
    sqlite3_stmt *st;
    bool busy;
};

struct authdb {
    sqlite3 *db;
    pthread_mutex_t lock;
    struct cached_stmt stmts[STMT_CACHE];
    char dummy_hash[HASH_MAX]; /* verified for unknown users (see below) */
};

/* A checked address; domain is lower-case. */
struct addr {
    char local[65];
    char domain[256];
    char full[AUTH_MAX_USERNAME + 1];
};

enum parse_result { PARSE_OK = 0, PARSE_BAD = -1, PARSE_DBERR = -2 };

/* Schema versions: migrations[i] takes user_version i to i + 1. Append only;
 * never edit a migration that has shipped. */
static const char *const migrations[] = {
    "CREATE TABLE domains(id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE COLLATE NOCASE);"
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY,"
    " local TEXT NOT NULL COLLATE NOCASE,"
    " domain_id INTEGER NOT NULL REFERENCES domains(id) ON DELETE RESTRICT,"
    " password TEXT NOT NULL, created INTEGER NOT NULL,"
    " UNIQUE(local, domain_id));"
    "CREATE TABLE aliases(id INTEGER PRIMARY KEY,"
    " address TEXT NOT NULL UNIQUE COLLATE NOCASE, target TEXT NOT NULL);",
    /* 1 -> 2: SSH public keys per account (auth/sshkeys.c, issue 11). */
    "CREATE TABLE ssh_keys(id INTEGER PRIMARY KEY,"
    " account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
    " fingerprint TEXT NOT NULL, type TEXT NOT NULL, blob TEXT NOT NULL,"
    " comment TEXT NOT NULL, created INTEGER NOT NULL,"
    " UNIQUE(account_id, fingerprint));",
};
#define SCHEMA_VERSION ((long long)(sizeof migrations / sizeof *migrations))

static const char SQL_USER_INSERT[] =
    "INSERT INTO accounts(local, domain_id, password, created)"
    " VALUES(?1, (SELECT id FROM domains WHERE name = ?2), ?3,"
    " CAST(strftime('%s', 'now') AS INTEGER))";
static const char SQL_USER_FIND[] =
    "SELECT a.id, a.local, d.name, a.password FROM accounts a"
    " JOIN domains d ON d.id = a.domain_id WHERE a.local = ?1 AND d.name = ?2";

/* Spent on unknown users so a failed login takes as long either way.
 * (yescrypt of a throwaway password, libxcrypt's default cost.) */
static const char default_dummy_hash[] =
    "$y$j9T$fW9..xVyn8vgwL9SRb5rx.$u3jYhP4e0SHMxsdeqdpdPmgYKPPiZn7NovuVluJN7P1";

/* ---- errors and small helpers ---- */

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
                                                      const char *fmt, ...)
{
    if (err != NULL && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int db_fail(struct authdb *db, char *err, size_t errlen)
{
    return fail(err, errlen, "database error: %s", sqlite3_errmsg(db->db));
}

/* Input echoed in an error, cut short and with control bytes replaced. */
static const char *shown(const char *s, char *buf, size_t cap)
{
    size_t i = 0;
    for (; s[i] != '\0' && i + 1 < cap; i++)
        buf[i] = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    buf[i] = '\0';
    return buf;
}

static bool is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static char to_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ---- statements ---- */

/* A cached statement of sql that is free, or a new one (cached when a
 * slot is left). */
static sqlite3_stmt *stmt_get(struct authdb *db, const char *sql)
{
    struct cached_stmt *slot = NULL;
    for (int i = 0; i < STMT_CACHE; i++) {
        struct cached_stmt *c = &db->stmts[i];
        if (c->st && !c->busy && strcmp(c->sql, sql) == 0) {
            c->busy = true;
            return c->st;
        }
        if (!c->st && !slot)
            slot = c;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(db->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
        SQLITE_OK) {
        log_error(0, "authdb prepare error=\"%s\"", sqlite3_errmsg(db->db));
        return NULL;
    }
    if (slot)
        *slot = (struct cached_stmt){sql, st, true};
    return st;
}

/* Gives a statement back: a cached one is reset for its next use, any
 * other finalized. */
static void stmt_done(struct authdb *db, sqlite3_stmt *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < STMT_CACHE; i++)
        if (db->stmts[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            db->stmts[i].busy = false;
            return;
        }
    stmt_done(db, st);
}

static sqlite3_stmt *stmt_vnew(struct authdb *db, const char *sql, int n, va_list ap)
{
    sqlite3_stmt *st = stmt_get(db, sql);
    if (st == NULL)
        return NULL;
    for (int i = 1; i <= n; i++) {
        const char *text = va_arg(ap, const char *);
        if (sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC) != SQLITE_OK) {
            stmt_done(db, st);
            return NULL;
        }
    }
    return st;
}

/* Prepares sql with the n text arguments bound to ?1..?n. */
static sqlite3_stmt *stmt_new(struct authdb *db, const char *sql, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    sqlite3_stmt *st = stmt_vnew(db, sql, n, ap);
    va_end(ap);
    return st;
}

/* Runs a statement that returns no rows: SQLITE_DONE or the error code. */
static int run(struct authdb *db, const char *sql, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    sqlite3_stmt *st = stmt_vnew(db, sql, n, ap);
    va_end(ap);
    if (st == NULL)
        return SQLITE_ERROR;
    int rc = sqlite3_step(st);
    stmt_done(db, st);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* The integer in the first row's first column, 0 without a row, -1 on error. */
static long long query_int(struct authdb *db, const char *sql, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    sqlite3_stmt *st = stmt_vnew(db, sql, n, ap);
    va_end(ap);
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st);
    long long v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    stmt_done(db, st);
    return (rc == SQLITE_ROW || rc == SQLITE_DONE) ? v : -1;
}

/* 0 after SQLITE_DONE; else -1 with dup ("user exists: x") for a
 * constraint violation or the database's own message. */
static int done_or_fail(struct authdb *db, int rc, const char *dup, const char *what,
                        char *err, size_t errlen)
{
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_CONSTRAINT)
        return fail(err, errlen, "%s: %s", dup, what);
    return db_fail(db, err, errlen);
}

static const char *column_str(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);
    return s != NULL ? (const char *)s : "";
}

/* ---- address syntax ---- */

/* RFC 5321 4.5.3.1.1 dot-atom subset: [A-Za-z0-9._+-], 1..64, no
 * leading, trailing or doubled dot. */
static bool local_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64 || s[0] == '.' || s[n - 1] == '.' || strstr(s, "..") != NULL)
        return false;
    for (const char *p = s; *p != '\0'; p++)
        if (!is_alnum(*p) && strchr("._+-", *p) == NULL)
            return false;
    return true;
}

/* RFC 1035 2.3.1 host name: labels of 1..63 [A-Za-z0-9-], not starting or
 * ending in '-', 253 characters at most. Lower-cases into out. */
static int domain_norm(const char *s, char *out, size_t cap)
{
    size_t n = strlen(s), label = 0;
    if (n == 0 || n > 253 || n >= cap)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (c == '.' || c == '\0') {
            if (label == 0 || label > 63 || s[i - 1] == '-')
                return -1;
            label = 0;
        } else if (is_alnum(c) || (c == '-' && label > 0)) {
            label++;
        } else {
            return -1;
        }
        out[i] = to_lower(c);
    }
    return 0;
}

static int domain_arg(const char *domain, char *out, size_t cap, char *err, size_t errlen)
{
    char buf[SHOWN_MAX];
    if (domain == NULL || domain_norm(domain, out, cap) < 0)
        return fail(err, errlen, "invalid domain: %s",
                    shown(domain ? domain : "", buf, sizeof buf));
    return 0;
}

/* The only domain, for a bare local part. Caller holds the lock. */
static enum parse_result only_domain(struct authdb *db, const char *local, char *out,
                                     size_t cap, char *err, size_t errlen)
{
    sqlite3_stmt *st = stmt_new(db, "SELECT name FROM domains ORDER BY name LIMIT 2", 0);
    if (st == NULL)
        return db_fail(db, err, errlen), PARSE_DBERR;
    int rows = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (rows++ == 0)
            snprintf(out, cap, "%s", column_str(st, 0));
    stmt_done(db, st);
    if (rc != SQLITE_DONE)
        return db_fail(db, err, errlen), PARSE_DBERR;
    if (rows == 0)
        return fail(err, errlen, "no domain yet: add one first"), PARSE_BAD;
    if (rows > 1)
        return fail(err, errlen, "address needs a domain: %s (there are several)", local),
               PARSE_BAD;
    return PARSE_OK;
}

/* Checks "local@domain", or a bare local when there is exactly one domain.
 * Account and alias names may not hold '+' (kept for plus-addressing);
 * lookups and alias targets may. Caller holds the lock. */
static enum parse_result addr_parse(struct authdb *db, const char *in, bool allow_plus,
                                    struct addr *a, char *err, size_t errlen)
{
    char buf[SHOWN_MAX];
    if (in == NULL || strlen(in) > AUTH_MAX_USERNAME)
        return fail(err, errlen, "invalid address: too long"), PARSE_BAD;
    const char *at = strchr(in, '@');
    size_t local_n = at != NULL ? (size_t)(at - in) : strlen(in);
    if (local_n >= sizeof a->local)
        return fail(err, errlen, "invalid address: %s", shown(in, buf, sizeof buf)),
               PARSE_BAD;
    memcpy(a->local, in, local_n);
    a->local[local_n] = '\0';
    if (!local_ok(a->local))
        return fail(err, errlen, "invalid address: %s", shown(in, buf, sizeof buf)),
               PARSE_BAD;
    if (!allow_plus && strchr(a->local, '+') != NULL)
        return fail(err, errlen, "invalid address: %s ('+' is for plus-addressing)",
                    shown(in, buf, sizeof buf)),
               PARSE_BAD;
    enum parse_result r = PARSE_OK;
    if (at == NULL)
        r = only_domain(db, a->local, a->domain, sizeof a->domain, err, errlen);
    else if (domain_norm(at + 1, a->domain, sizeof a->domain) < 0)
        return fail(err, errlen, "invalid address: %s", shown(in, buf, sizeof buf)),
               PARSE_BAD;
    if (r == PARSE_OK)
        snprintf(a->full, sizeof a->full, "%s@%s", a->local, a->domain);
    return r;
}

/* ---- open, close, migrations ---- */

/* Creates the file 0600 before SQLite does (it would honour the umask);
 * SQLite gives the -wal and -shm files the same mode. */
static int db_file_create(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return fail(err, errlen, "cannot open %s: %s", path, strerror(errno));
    close(fd);
    return 0;
}

static int db_configure(struct authdb *db, char *err, size_t errlen)
{
    sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
    static const char pragmas[] = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                  " PRAGMA foreign_keys=ON;";
    if (sqlite3_exec(db->db, pragmas, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen);
    return 0;
}

/* Applies migrations from version `from`; caller holds a write transaction. */
static int migrate_from(struct authdb *db, long long from, char *err, size_t errlen)
{
    char sql[64];
    for (long long v = from; v < SCHEMA_VERSION; v++)
        if (sqlite3_exec(db->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK)
            return db_fail(db, err, errlen);
    /* PRAGMA takes no parameters; the value is our own constant. */
    snprintf(sql, sizeof sql, "PRAGMA user_version = %lld", SCHEMA_VERSION);
    if (sqlite3_exec(db->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return db_fail(db, err, errlen);
    log_debug(0, "authdb migrated from=%lld to=%lld", from, SCHEMA_VERSION);
    return 0;
}

static int version_check(long long v, char *err, size_t errlen)
{
    if (v > SCHEMA_VERSION)
        return fail(err, errlen, "database schema %lld is newer than this portico (%lld)",
                    v, SCHEMA_VERSION);
    return 0;
}

static int db_migrate(struct authdb *db, char *err, size_t errlen)
{
    long long v = query_int(db, "PRAGMA user_version", 0);
    if (v < 0)
        return db_fail(db, err, errlen);
    if (version_check(v, err, errlen) < 0 || v == SCHEMA_VERSION)
        return v == SCHEMA_VERSION ? 0 : -1;
    if (run(db, "BEGIN IMMEDIATE", 0) != SQLITE_DONE)
        return db_fail(db, err, errlen);
    /* Read again inside the transaction: another process may have won. */
    v = query_int(db, "PRAGMA user_version", 0);
    int rc = v < 0 ? db_fail(db, err, errlen) : version_check(v, err, errlen);
    if (rc == 0)
        rc = migrate_from(db, v, err, errlen);
    if (rc == 0 && run(db, "COMMIT", 0) != SQLITE_DONE)
        rc = db_fail(db, err, errlen);
    if (rc < 0)
        sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

struct authdb *authdb_open(const char *data_dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof path, "%s/portico.db", data_dir ? data_dir : "");
    if (data_dir == NULL || data_dir[0] == '\0')
        return fail(err, errlen, "data_dir is empty"), NULL;
    if (n < 0 || (size_t)n >= sizeof path)
        return fail(err, errlen, "data_dir too long"), NULL;
    if (db_file_create(path, err, errlen) < 0)
        return NULL;
    struct authdb *db = calloc(1, sizeof *db);
    if (db == NULL)
        return fail(err, errlen, "out of memory"), NULL;
    snprintf(db->dummy_hash, sizeof db->dummy_hash, "%s", default_dummy_hash);
    if (pthread_mutex_init(&db->lock, NULL) != 0) {
        free(db);
        return fail(err, errlen, "cannot create a mutex"), NULL;
    }
    if (sqlite3_open_v2(path, &db->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fail(err, errlen, "cannot open %s: %s", path,
             db->db ? sqlite3_errmsg(db->db) : "out of memory");
        authdb_close(db);
        return NULL;
    }
    if (db_configure(db, err, errlen) < 0 || db_migrate(db, err, errlen) < 0) {
        authdb_close(db);
        return NULL;
    }
    return db;
}

void authdb_close(struct authdb *db)
{
    if (db == NULL)
        return;
    for (int i = 0; i < STMT_CACHE; i++)
        sqlite3_finalize(db->stmts[i].st);
    sqlite3_close(db->db);
    pthread_mutex_destroy(&db->lock);
    free(db);
}

/* ---- listing ---- */

struct list_cb {
    void (*one)(void *arg, const char *a);
    void (*two)(void *arg, const char *a, const char *b);
    void *arg;
};

/* Runs sql and hands each row's first (and second) column to the callback. */
static int list_rows(struct authdb *db, const char *sql, const struct list_cb *cb)
{
    if (db == NULL || (cb->one == NULL && cb->two == NULL))
        return -1;
    pthread_mutex_lock(&db->lock);
    sqlite3_stmt *st = stmt_new(db, sql, 0);
    int rc = SQLITE_ERROR;
    while (st != NULL && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cb->one != NULL)
            cb->one(cb->arg, column_str(st, 0));
        else
            cb->two(cb->arg, column_str(st, 0), column_str(st, 1));
    }
    stmt_done(db, st);
    pthread_mutex_unlock(&db->lock);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- domains ---- */

int authdb_domain_add(struct authdb *db, const char *domain, char *err, size_t errlen)
{
    char name[256];
    if (domain_arg(domain, name, sizeof name, err, errlen) < 0)
        return -1;
    pthread_mutex_lock(&db->lock);
    int rc = run(db, "INSERT INTO domains(name) VALUES(?1)", 1, name);
    int ret = done_or_fail(db, rc, "domain exists", name, err, errlen);
    pthread_mutex_unlock(&db->lock);
    return ret;
}

static int domain_del_locked(struct authdb *db, const char *name, char *err,
                             size_t errlen)
{
    long long found =
        query_int(db, "SELECT count(*) FROM domains WHERE name = ?1", 1, name);
    long long users = query_int(db,
                                "SELECT count(*) FROM accounts WHERE domain_id ="
                                " (SELECT id FROM domains WHERE name = ?1)",
                                1, name);
    /* The name is checked host syntax: it holds no LIKE wildcard. */
    long long aliases = query_int(
        db, "SELECT count(*) FROM aliases WHERE address LIKE '%@' || ?1", 1, name);
    if (found < 0 || users < 0 || aliases < 0)
        return db_fail(db, err, errlen);
    if (found == 0)
        return fail(err, errlen, "no such domain: %s", name);
    if (users > 0)
        return fail(err, errlen, "domain has %lld account(s), delete them first: %s",
                    users, name);
    if (aliases > 0)
        return fail(err, errlen, "domain has %lld alias(es), delete them first: %s",
                    aliases, name);
    int rc = run(db, "DELETE FROM domains WHERE name = ?1", 1, name);
    return done_or_fail(db, rc, "domain in use", name, err, errlen);
}

int authdb_domain_del(struct authdb *db, const char *domain, char *err, size_t errlen)
{
    char name[256];
    if (domain_arg(domain, name, sizeof name, err, errlen) < 0)
        return -1;
    pthread_mutex_lock(&db->lock);
    int ret = domain_del_locked(db, name, err, errlen);
    pthread_mutex_unlock(&db->lock);
    return ret;
}

int authdb_domain_list(struct authdb *db, void (*cb)(void *arg, const char *domain),
                       void *arg)
{
    struct list_cb l = {.one = cb, .arg = arg};
    return list_rows(db, "SELECT name FROM domains ORDER BY name", &l);
}

int authdb_domain_is_local(struct authdb *db, const char *domain)
{
    char name[256];
    if (domain == NULL || domain_norm(domain, name, sizeof name) < 0)
        return 0;
    pthread_mutex_lock(&db->lock);
    long long n = query_int(db, "SELECT count(*) FROM domains WHERE name = ?1", 1, name);
    pthread_mutex_unlock(&db->lock);
    return n < 0 ? -1 : n > 0;
}

/* ---- accounts ---- */

static int password_arg(const char *password, char *err, size_t errlen)
{
    if (password == NULL || password[0] == '\0')
        return fail(err, errlen, "empty password");
    if (strlen(password) > AUTH_MAX_PASSWORD)
        return fail(err, errlen, "password longer than %d characters", AUTH_MAX_PASSWORD);
    return 0;
}

/* Hashes password into hash (HASH_MAX bytes). */
static int hash_arg(const char *password, char *hash, char *err, size_t errlen)
{
    if (password_arg(password, err, errlen) < 0)
        return -1;
    if (password_hash(password, hash, HASH_MAX) < 0)
        return fail(err, errlen, "cannot hash the password");
    return 0;
}

static int user_insert_locked(struct authdb *db, const char *address, const char *hash,
                              char *err, size_t errlen)
{
    struct addr a;
    if (addr_parse(db, address, false, &a, err, errlen) != PARSE_OK)
        return -1;
    long long dom =
        query_int(db, "SELECT count(*) FROM domains WHERE name = ?1", 1, a.domain);
    long long alias =
        query_int(db, "SELECT count(*) FROM aliases WHERE address = ?1", 1, a.full);
    if (dom < 0 || alias < 0)
        return db_fail(db, err, errlen);
    if (dom == 0)
        return fail(err, errlen, "no such domain: %s", a.domain);
    if (alias > 0)
        return fail(err, errlen, "address is an alias: %s", a.full);
    int rc = run(db, SQL_USER_INSERT, 3, a.local, a.domain, hash);
    return done_or_fail(db, rc, "user exists", a.full, err, errlen);
}

static int user_insert(struct authdb *db, const char *address, const char *hash,
                       char *err, size_t errlen)
{
    pthread_mutex_lock(&db->lock);
    int ret = user_insert_locked(db, address, hash, err, errlen);
    pthread_mutex_unlock(&db->lock);
    return ret;
}

int authdb_user_add(struct authdb *db, const char *address, const char *password,
                    char *err, size_t errlen)
{
    char hash[HASH_MAX];
    if (hash_arg(password, hash, err, errlen) < 0)
        return -1;
    return user_insert(db, address, hash, err, errlen);
}

int authdb_set_dummy_hash(struct authdb *db, const char *hash)
{
    if (hash == NULL || strlen(hash) >= HASH_MAX || !password_hash_valid(hash))
        return -1;
    snprintf(db->dummy_hash, sizeof db->dummy_hash, "%s", hash);
    return 0;
}

int authdb_user_add_hash(struct authdb *db, const char *address, const char *hash,
                         char *err, size_t errlen)
{
    if (hash == NULL || strlen(hash) >= HASH_MAX || !password_hash_valid(hash))
        return fail(err, errlen, "unsupported password hash (want $y$, $6$ or $2b$)");
    return user_insert(db, address, hash, err, errlen);
}

/* Runs an UPDATE or DELETE on one account (sql takes ?1 local, ?2 domain and
 * optionally ?3 hash) and fails if no row matched. */
static int user_change(struct authdb *db, const char *sql, const char *address,
                       const char *hash, char *err, size_t errlen)
{
    struct addr a;
    pthread_mutex_lock(&db->lock);
    int ret = addr_parse(db, address, true, &a, err, errlen) == PARSE_OK ? 0 : -1;
    if (ret == 0) {
        int rc = hash ? run(db, sql, 3, a.local, a.domain, hash)
                      : run(db, sql, 2, a.local, a.domain);
        if (rc != SQLITE_DONE)
            ret = db_fail(db, err, errlen);
        else if (sqlite3_changes(db->db) == 0)
            ret = fail(err, errlen, "no such user: %s", a.full);
    }
    pthread_mutex_unlock(&db->lock);
    return ret;
}

int authdb_user_passwd(struct authdb *db, const char *address, const char *password,
                       char *err, size_t errlen)
{
    char hash[HASH_MAX];
    if (hash_arg(password, hash, err, errlen) < 0)
        return -1;
    return user_change(db,
                       "UPDATE accounts SET password = ?3 WHERE local = ?1 AND"
                       " domain_id = (SELECT id FROM domains WHERE name = ?2)",
                       address, hash, err, errlen);
}

int authdb_user_del(struct authdb *db, const char *address, char *err, size_t errlen)
{
    return user_change(db,
                       "DELETE FROM accounts WHERE local = ?1 AND"
                       " domain_id = (SELECT id FROM domains WHERE name = ?2)",
                       address, NULL, err, errlen);
}

int authdb_user_list(struct authdb *db, void (*cb)(void *arg, const char *address),
                     void *arg)
{
    struct list_cb l = {.one = cb, .arg = arg};
    return list_rows(db,
                     "SELECT a.local || '@' || d.name FROM accounts a"
                     " JOIN domains d ON d.id = a.domain_id ORDER BY d.name, a.local",
                     &l);
}

int authdb_user_count(struct authdb *db)
{
    pthread_mutex_lock(&db->lock);
    long long n = query_int(db, "SELECT count(*) FROM accounts", 0);
    pthread_mutex_unlock(&db->lock);
    return n > INT_MAX ? INT_MAX : (int)n;
}

static void account_fill(sqlite3_stmt *st, struct account *out)
{
    out->id = sqlite3_column_int64(st, 0);
    snprintf(out->local, sizeof out->local, "%s", column_str(st, 1));
    snprintf(out->domain, sizeof out->domain, "%s", column_str(st, 2));
    snprintf(out->address, sizeof out->address, "%s@%s", out->local, out->domain);
}

/* Looks an account up; with hash, also copies its password hash (HASH_MAX
 * bytes). Caller holds the lock. */
static enum auth_result find_locked(struct authdb *db, const char *address,
                                    struct account *out, char *hash)
{
    struct addr a;
    enum parse_result p = addr_parse(db, address, true, &a, NULL, 0);
    if (p != PARSE_OK)
        return p == PARSE_DBERR ? AUTH_ERROR : AUTH_FAIL;
    sqlite3_stmt *st = stmt_new(db, SQL_USER_FIND, 2, a.local, a.domain);
    if (st == NULL)
        return AUTH_ERROR;
    int rc = sqlite3_step(st);
    enum auth_result r = rc == SQLITE_ROW    ? AUTH_OK
                         : rc == SQLITE_DONE ? AUTH_FAIL
                                             : AUTH_ERROR;
    if (r == AUTH_OK && out != NULL)
        account_fill(st, out);
    if (r == AUTH_OK && hash != NULL) {
        int n = snprintf(hash, HASH_MAX, "%s", column_str(st, 3));
        if (n < 0 || n >= HASH_MAX)
            r = AUTH_FAIL; /* not a hash we could have stored */
    }
    stmt_done(db, st);
    return r;
}

enum auth_result authdb_user_find(struct authdb *db, const char *address,
                                  struct account *out)
{
    pthread_mutex_lock(&db->lock);
    enum auth_result r = find_locked(db, address, out, NULL);
    pthread_mutex_unlock(&db->lock);
    return r;
}

/* ---- the raw handle, for the other tables of auth/ (accounts_db.h) ---- */

sqlite3 *authdb_sqlite_lock(struct authdb *db)
{
    pthread_mutex_lock(&db->lock);
    return db->db;
}

void authdb_sqlite_unlock(struct authdb *db)
{
    pthread_mutex_unlock(&db->lock);
}

enum auth_result authdb_find_locked(struct authdb *db, const char *address,
                                    struct account *out)
{
    return find_locked(db, address, out, NULL);
}

enum auth_result authdb_verify(struct authdb *db, const char *user, const char *password,
                               struct account *out)
{
    char hash[HASH_MAX];
    struct account acct;
    if (db == NULL || user == NULL || password == NULL)
        return AUTH_FAIL;
    pthread_mutex_lock(&db->lock);
    enum auth_result r = find_locked(db, user, &acct, hash);
    pthread_mutex_unlock(&db->lock);
    if (r == AUTH_ERROR)
        return AUTH_ERROR;
    /* crypt outside the lock; an unknown user costs one too, so the time
     * taken does not reveal which accounts exist. */
    bool ok = password_verify(password, r == AUTH_OK ? hash : db->dummy_hash);
    if (r != AUTH_OK || !ok)
        return AUTH_FAIL;
    if (out != NULL)
        *out = acct;
    return AUTH_OK;
}

static void lower_copy(const char *name, char *out, size_t outlen)
{
    size_t i = 0;
    for (; name[i] && i + 1 < outlen; i++)
        out[i] = (char)tolower((unsigned char)name[i]);
    if (outlen)
        out[i] = '\0';
}

void authdb_canonical(struct authdb *db, const char *name, char *out, size_t outlen)
{
    struct account acct;
    char target[AUTH_MAX_USERNAME + 1];
    lower_copy(name, out, outlen);
    if (db == NULL)
        return;
    if (authdb_user_find(db, name, &acct) == AUTH_OK) {
        snprintf(out, outlen, "%s", acct.address);
        return;
    }
    /* Aliases may chain (alias -> alias -> account), ALIAS_MAX_DEPTH deep. */
    char cur[AUTH_MAX_USERNAME + 1];
    snprintf(cur, sizeof cur, "%s", name);
    for (int depth = 0; depth < ALIAS_MAX_DEPTH; depth++) {
        if (authdb_alias_target(db, cur, target, sizeof target) != 1)
            return;
        if (authdb_user_find(db, target, &acct) == AUTH_OK) {
            snprintf(out, outlen, "%s", acct.address);
            return;
        }
        snprintf(cur, sizeof cur, "%s", target);
    }
}

/* ---- aliases ---- */

static int alias_add_locked(struct authdb *db, const char *alias, const char *target,
                            char *err, size_t errlen)
{
    struct addr a, t;
    if (addr_parse(db, alias, false, &a, err, errlen) != PARSE_OK ||
        addr_parse(db, target, true, &t, err, errlen) != PARSE_OK)
        return -1;
    if (strcasecmp(a.full, t.full) == 0)
        return fail(err, errlen, "alias points to itself: %s", a.full);
    long long dom =
        query_int(db, "SELECT count(*) FROM domains WHERE name = ?1", 1, a.domain);
    long long user = query_int(db,
                               "SELECT count(*) FROM accounts WHERE local = ?1 AND"
                               " domain_id = (SELECT id FROM domains WHERE name = ?2)",
                               2, a.local, a.domain);
    if (dom < 0 || user < 0)
        return db_fail(db, err, errlen);
    if (dom == 0)
        return fail(err, errlen, "no such domain: %s", a.domain);
    if (user > 0)
        return fail(err, errlen, "address is an account: %s", a.full);
    int rc =
        run(db, "INSERT INTO aliases(address, target) VALUES(?1, ?2)", 2, a.full, t.full);
    return done_or_fail(db, rc, "alias exists", a.full, err, errlen);
}

int authdb_alias_add(struct authdb *db, const char *alias, const char *target, char *err,
                     size_t errlen)
{
    pthread_mutex_lock(&db->lock);
    int ret = alias_add_locked(db, alias, target, err, errlen);
    pthread_mutex_unlock(&db->lock);
    return ret;
}

int authdb_alias_del(struct authdb *db, const char *alias, char *err, size_t errlen)
{
    struct addr a;
    pthread_mutex_lock(&db->lock);
    int ret = addr_parse(db, alias, true, &a, err, errlen) == PARSE_OK ? 0 : -1;
    if (ret == 0) {
        int rc = run(db, "DELETE FROM aliases WHERE address = ?1", 1, a.full);
        if (rc != SQLITE_DONE)
            ret = db_fail(db, err, errlen);
        else if (sqlite3_changes(db->db) == 0)
            ret = fail(err, errlen, "no such alias: %s", a.full);
    }
    pthread_mutex_unlock(&db->lock);
    return ret;
}

static int alias_target_locked(struct authdb *db, const char *address, char *out,
                               size_t outlen)
{
    struct addr a;
    enum parse_result p = addr_parse(db, address, true, &a, NULL, 0);
    if (p != PARSE_OK)
        return p == PARSE_DBERR ? -1 : 0;
    sqlite3_stmt *st =
        stmt_new(db, "SELECT target FROM aliases WHERE address = ?1", 1, a.full);
    if (st == NULL)
        return -1;
    int rc = sqlite3_step(st), ret = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
    if (ret == 1 && (size_t)snprintf(out, outlen, "%s", column_str(st, 0)) >= outlen)
        ret = -1;
    stmt_done(db, st);
    return ret;
}

int authdb_alias_target(struct authdb *db, const char *address, char *out, size_t outlen)
{
    pthread_mutex_lock(&db->lock);
    int ret = alias_target_locked(db, address, out, outlen);
    pthread_mutex_unlock(&db->lock);
    return ret;
}

int authdb_alias_list(struct authdb *db,
                      void (*cb)(void *arg, const char *alias, const char *target),
                      void *arg)
{
    struct list_cb l = {.two = cb, .arg = arg};
    return list_rows(db, "SELECT address, target FROM aliases ORDER BY address", &l);
}

/* ---- first start ---- */

/* Inside a write transaction: 1 if postmaster was created, 0 if some
 * account appeared meanwhile, -1 on error. */
static int postmaster_txn(struct authdb *db, const char *domain, const char *hash)
{
    long long n = query_int(db, "SELECT count(*) FROM accounts", 0);
    if (n != 0)
        return n > 0 ? 0 : -1;
    if (run(db, "INSERT OR IGNORE INTO domains(name) VALUES(?1)", 1, domain) !=
        SQLITE_DONE)
        return -1;
    if (run(db, SQL_USER_INSERT, 3, "postmaster", domain, hash) != SQLITE_DONE)
        return -1;
    return 1;
}

static int postmaster_create(struct authdb *db, const char *domain, const char *hash,
                             char *err, size_t errlen)
{
    pthread_mutex_lock(&db->lock);
    int ret = -1;
    if (run(db, "BEGIN IMMEDIATE", 0) == SQLITE_DONE) {
        ret = postmaster_txn(db, domain, hash);
        if (ret >= 0 && run(db, "COMMIT", 0) != SQLITE_DONE)
            ret = -1;
        if (ret < 0) {
            db_fail(db, err, errlen);
            sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
        }
    } else {
        db_fail(db, err, errlen);
    }
    pthread_mutex_unlock(&db->lock);
    return ret;
}

int authdb_ensure_postmaster(struct authdb *db, const char *domain, char *password,
                             size_t passlen, char *err, size_t errlen)
{
    char name[256], hash[HASH_MAX];
    if (password == NULL || passlen < POSTMASTER_PASSWORD + 1)
        return fail(err, errlen, "password buffer too small");
    password[0] = '\0';
    if (domain_arg(domain, name, sizeof name, err, errlen) < 0)
        return -1;
    int n = authdb_user_count(db);
    if (n != 0)
        return n > 0 ? 0 : fail(err, errlen, "database error: cannot count accounts");
    if (password_random(password, POSTMASTER_PASSWORD) < 0 ||
        password_hash(password, hash, sizeof hash) < 0) {
        OPENSSL_cleanse(password, passlen);
        return fail(err, errlen, "cannot make a password");
    }
    int ret = postmaster_create(db, name, hash, err, errlen);
    if (ret != 1)
        OPENSSL_cleanse(password, passlen);
    else
        log_info(0, "authdb postmaster created address=postmaster@%s", name);
    return ret;
}
