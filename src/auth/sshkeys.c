/* sshkeys: the ssh_keys table (schema in accounts.c's migrations) and the
 * authorized_keys line syntax (sshkeys.h). Base64 and SHA-256 come from
 * OpenSSL; the key itself is never interpreted beyond its type string. */
#include "auth/sshkeys.h"

#include "core/digest.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/accounts_db.h"

static const char *const key_types[] = {
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "ssh-rsa", /* the key type; signatures must be rsa-sha2-* (no SHA-1) */
};

static int why_fail(const char **why, const char *msg)
{
    *why = msg;
    return -1;
}

static bool type_known(const char *t)
{
    for (size_t i = 0; i < sizeof key_types / sizeof *key_types; i++)
        if (strcmp(t, key_types[i]) == 0)
            return true;
    return false;
}

/* Decodes base64 into a fresh buffer; returns its length or -1. */
static long b64_decode(const char *b64, unsigned char **out)
{
    size_t n = strlen(b64);
    if (n == 0 || n % 4 != 0)
        return -1;
    unsigned char *buf = malloc(n / 4 * 3 + 1);
    if (buf == NULL)
        return -1;
    int len = EVP_DecodeBlock(buf, (const unsigned char *)b64, (int)n);
    if (len < 0) {
        free(buf);
        return -1;
    }
    if (b64[n - 1] == '=') /* EVP_DecodeBlock counts padding as zero bytes */
        len--;
    if (b64[n - 2] == '=')
        len--;
    *out = buf;
    return len;
}

/* RFC 4253 6.6: the blob begins with the key type as an SSH string. */
static bool blob_names(const unsigned char *blob, long len, const char *type)
{
    if (len < 4)
        return false;
    uint32_t n = (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 |
                 (uint32_t)blob[2] << 8 | blob[3];
    return n == strlen(type) && (long)n + 4 < len && memcmp(blob + 4, type, n) == 0;
}

static int fingerprint_of(const unsigned char *blob, long len, char *out, size_t outlen)
{
    unsigned char md[32];
    unsigned char b64[48];
    if (EVP_Digest(blob, (size_t)len, md, NULL, digest_sha256(), NULL) != 1)
        return -1;
    int n = EVP_EncodeBlock(b64, md, sizeof md);
    while (n > 0 && b64[n - 1] == '=')
        n--;
    int w = snprintf(out, outlen, "SHA256:%.*s", n, (const char *)b64);
    return w < 0 || (size_t)w >= outlen ? -1 : 0;
}

int sshkey_fingerprint(const char *b64, char *out, size_t outlen)
{
    unsigned char *blob = NULL;
    long len = b64_decode(b64, &blob);
    if (len < 0)
        return -1;
    int rc = fingerprint_of(blob, len, out, outlen);
    free(blob);
    return rc;
}

/* Splits off the next space-separated word of *p into out. */
static int next_word(const char **p, char *out, size_t cap)
{
    const char *s = *p + strspn(*p, " \t");
    size_t n = strcspn(s, " \t\r\n");
    if (n == 0 || n >= cap)
        return -1;
    memcpy(out, s, n);
    out[n] = '\0';
    *p = s + n;
    return 0;
}

static int comment_copy(const char *p, char *out, size_t cap, const char **why)
{
    p += strspn(p, " \t");
    size_t n = strcspn(p, "\r\n");
    if (p[n] != '\0' && strspn(p + n, "\r\n") != strlen(p + n))
        return why_fail(why, "one key per line");
    if (n >= cap)
        return why_fail(why, "comment too long");
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
            return why_fail(why, "control character in the comment");
    memcpy(out, p, n);
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
        n--;
    out[n] = '\0';
    return 0;
}

int sshkey_parse(const char *line, struct sshkey *out, const char **why)
{
    memset(out, 0, sizeof *out);
    const char *p = line;
    if (strlen(line) >= AUTH_MAX_KEY_LINE)
        return why_fail(why, "line too long");
    if (next_word(&p, out->type, sizeof out->type) < 0)
        return why_fail(why, "expected \"TYPE BASE64 [COMMENT]\"");
    if (!type_known(out->type))
        return why_fail(why, "unsupported key type (options are not supported either)");
    if (next_word(&p, out->b64, sizeof out->b64) < 0)
        return why_fail(why, "expected \"TYPE BASE64 [COMMENT]\"");
    if (comment_copy(p, out->comment, sizeof out->comment, why) < 0)
        return -1;
    unsigned char *blob = NULL;
    long len = b64_decode(out->b64, &blob);
    if (len < 0)
        return why_fail(why, "the key is not valid base64");
    int rc = 0;
    if (!blob_names(blob, len, out->type))
        rc = why_fail(why, "the key data does not match its type");
    else if (fingerprint_of(blob, len, out->fingerprint, sizeof out->fingerprint) < 0)
        rc = why_fail(why, "cannot compute the fingerprint");
    free(blob);
    return rc;
}

/* ---- the table ---- */

static int fail(char *err, size_t errlen, const char *msg, const char *arg)
{
    snprintf(err, errlen, "%s%s", msg, arg);
    return -1;
}

static sqlite3_stmt *prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return NULL;
    return st;
}

static int insert_locked(sqlite3 *db, const struct account *a, const struct sshkey *k,
                         char *err, size_t errlen)
{
    sqlite3_stmt *st =
        prepare(db, "INSERT INTO ssh_keys(account_id, fingerprint, type, blob,"
                    " comment, created) VALUES(?1, ?2, ?3, ?4, ?5,"
                    " CAST(strftime('%s', 'now') AS INTEGER))");
    if (st == NULL)
        return fail(err, errlen, "database error: ", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, a->id);
    sqlite3_bind_text(st, 2, k->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, k->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, k->b64, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, k->comment, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT)
        return fail(err, errlen, "key already added: ", k->fingerprint);
    if (rc != SQLITE_DONE)
        return fail(err, errlen, "database error: ", sqlite3_errmsg(db));
    return 0;
}

/* Finds the account for a key operation; the lock is held. */
static int account_locked(struct authdb *adb, const char *address, struct account *a,
                          char *err, size_t errlen)
{
    enum auth_result r = authdb_find_locked(adb, address, a);
    if (r == AUTH_FAIL)
        return fail(err, errlen, "no such user: ", address);
    if (r == AUTH_ERROR)
        return fail(err, errlen, "database error", "");
    return 0;
}

int authdb_key_add(struct authdb *adb, const char *address, const char *line,
                   struct sshkey *out, char *err, size_t errlen)
{
    struct sshkey *k = malloc(sizeof *k);
    const char *why = NULL;
    if (k == NULL)
        return fail(err, errlen, "out of memory", "");
    if (sshkey_parse(line, k, &why) < 0) {
        free(k);
        return fail(err, errlen, "bad key: ", why);
    }
    struct account a;
    sqlite3 *db = authdb_sqlite_lock(adb);
    int rc = account_locked(adb, address, &a, err, errlen);
    if (rc == 0)
        rc = insert_locked(db, &a, k, err, errlen);
    authdb_sqlite_unlock(adb);
    if (rc == 0 && out != NULL)
        *out = *k;
    free(k);
    return rc;
}

int authdb_key_del(struct authdb *adb, const char *address, const char *fingerprint,
                   char *err, size_t errlen)
{
    struct account a;
    sqlite3 *db = authdb_sqlite_lock(adb);
    int rc = account_locked(adb, address, &a, err, errlen);
    sqlite3_stmt *st = NULL;
    if (rc == 0) {
        st = prepare(db,
                     "DELETE FROM ssh_keys WHERE account_id = ?1 AND fingerprint = ?2");
        if (st == NULL)
            rc = fail(err, errlen, "database error: ", sqlite3_errmsg(db));
    }
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, a.id);
        sqlite3_bind_text(st, 2, fingerprint, -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = fail(err, errlen, "database error: ", sqlite3_errmsg(db));
        else if (sqlite3_changes(db) == 0)
            rc = fail(err, errlen, "no such key: ", fingerprint);
        sqlite3_finalize(st);
    }
    authdb_sqlite_unlock(adb);
    return rc;
}

static void row_to_key(sqlite3_stmt *st, struct sshkey *k)
{
    const unsigned char *v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = sqlite3_column_text(st, i);
        if (v[i] == NULL)
            v[i] = (const unsigned char *)"";
    }
    snprintf(k->fingerprint, sizeof k->fingerprint, "%s", (const char *)v[0]);
    snprintf(k->type, sizeof k->type, "%s", (const char *)v[1]);
    snprintf(k->b64, sizeof k->b64, "%s", (const char *)v[2]);
    snprintf(k->comment, sizeof k->comment, "%s", (const char *)v[3]);
}

int authdb_key_list(struct authdb *adb, const char *address,
                    void (*cb)(void *arg, const struct sshkey *k), void *arg, char *err,
                    size_t errlen)
{
    struct account a;
    struct sshkey *k = malloc(sizeof *k);
    if (k == NULL)
        return fail(err, errlen, "out of memory", "");
    sqlite3 *db = authdb_sqlite_lock(adb);
    int rc = account_locked(adb, address, &a, err, errlen);
    sqlite3_stmt *st = NULL;
    if (rc == 0) {
        st = prepare(db, "SELECT fingerprint, type, blob, comment FROM ssh_keys"
                         " WHERE account_id = ?1 ORDER BY id");
        if (st == NULL)
            rc = fail(err, errlen, "database error: ", sqlite3_errmsg(db));
    }
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, a.id);
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            row_to_key(st, k);
            cb(arg, k);
        }
        if (step != SQLITE_DONE)
            rc = fail(err, errlen, "database error: ", sqlite3_errmsg(db));
        sqlite3_finalize(st);
    }
    authdb_sqlite_unlock(adb);
    free(k);
    return rc;
}

enum auth_result authdb_key_match(struct authdb *adb, const char *user,
                                  const char *fingerprint, struct account *out)
{
    sqlite3 *db = authdb_sqlite_lock(adb);
    enum auth_result r = authdb_find_locked(adb, user, out);
    sqlite3_stmt *st = NULL;
    if (r == AUTH_OK) {
        st = prepare(db,
                     "SELECT 1 FROM ssh_keys WHERE account_id = ?1 AND fingerprint = ?2");
        if (st == NULL)
            r = AUTH_ERROR;
    }
    if (st != NULL) {
        sqlite3_bind_int64(st, 1, out->id);
        sqlite3_bind_text(st, 2, fingerprint, -1, SQLITE_STATIC);
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE)
            r = AUTH_FAIL;
        else if (step != SQLITE_ROW)
            r = AUTH_ERROR;
        sqlite3_finalize(st);
    }
    authdb_sqlite_unlock(adb);
    return r;
}
