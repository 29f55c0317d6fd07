/* test_accounts: the SQLite account store in a fresh temporary data_dir per
 * test: schema creation, domains, accounts, aliases, first-start postmaster. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/accounts.h"

struct fixture {
    char dir[64];
    struct authdb *db;
    char err[256];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/portico-test-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    f->db = authdb_open(f->dir, f->err, sizeof f->err);
    *state = f;
    return f->db == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    static const char *const files[] = {"portico.db", "portico.db-wal", "portico.db-shm"};
    char path[128];
    authdb_close(f->db);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, files[i]);
        unlink(path);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* Collects list output into one "a,b," string. */
struct collect {
    char text[1024];
};

static void collect_one(void *arg, const char *s)
{
    struct collect *c = arg;
    size_t n = strlen(c->text);
    snprintf(c->text + n, sizeof c->text - n, "%s,", s);
}

static void collect_two(void *arg, const char *a, const char *b)
{
    struct collect *c = arg;
    size_t n = strlen(c->text);
    snprintf(c->text + n, sizeof c->text - n, "%s->%s,", a, b);
}

static const char *domains(struct authdb *db, struct collect *c)
{
    c->text[0] = '\0';
    assert_int_equal(authdb_domain_list(db, collect_one, c), 0);
    return c->text;
}

static const char *users(struct authdb *db, struct collect *c)
{
    c->text[0] = '\0';
    assert_int_equal(authdb_user_list(db, collect_one, c), 0);
    return c->text;
}

#define OK(call) assert_int_equal((call), 0)
#define REFUSED(call, want)                                                              \
    do {                                                                                 \
        assert_int_equal((call), -1);                                                    \
        assert_non_null(strstr(f->err, (want)));                                         \
    } while (0)

static void test_open_sets_version(void **state)
{
    struct fixture *f = *state;
    char path[128];
    sqlite3 *raw;
    sqlite3_stmt *st;
    snprintf(path, sizeof path, "%s/portico.db", f->dir);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_true(sqlite3_column_int(st, 0) >= 1);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    sqlite3_close(raw);
}

static void test_reopen_idempotent(void **state)
{
    struct fixture *f = *state;
    struct collect c;
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    authdb_close(f->db);
    f->db = authdb_open(f->dir, f->err, sizeof f->err);
    assert_non_null(f->db);
    struct authdb *second = authdb_open(f->dir, f->err, sizeof f->err);
    assert_non_null(second);
    assert_string_equal(domains(second, &c), "example.org,");
    authdb_close(second);
    assert_string_equal(domains(f->db, &c), "example.org,");
}

static void test_open_missing_dir(void **state)
{
    char err[256];
    assert_null(authdb_open("/nonexistent/portico-test", err, sizeof err));
    assert_non_null(strstr(err, "cannot open"));
    authdb_close(NULL);
}

static void test_domains(void **state)
{
    struct fixture *f = *state;
    struct collect c;
    OK(authdb_domain_add(f->db, "Example.ORG", f->err, sizeof f->err));
    OK(authdb_domain_add(f->db, "b.example", f->err, sizeof f->err));
    REFUSED(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err),
            "domain exists: example.org");
    assert_string_equal(domains(f->db, &c), "b.example,example.org,");
    assert_int_equal(authdb_domain_is_local(f->db, "EXAMPLE.org"), 1);
    assert_int_equal(authdb_domain_is_local(f->db, "example.com"), 0);
    assert_int_equal(authdb_domain_is_local(f->db, "bad domain"), 0);
    OK(authdb_domain_del(f->db, "b.example", f->err, sizeof f->err));
    REFUSED(authdb_domain_del(f->db, "b.example", f->err, sizeof f->err),
            "no such domain: b.example");
    assert_string_equal(domains(f->db, &c), "example.org,");
}

static void test_invalid_domains(void **state)
{
    struct fixture *f = *state;
    const char *bad[] = {"",     ".",    "a..b", "-a.b", "a-.b",    "a_b.c",
                         "a.b.", ".a.b", "a b",  "a@b",  "\x1b[31m"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        REFUSED(authdb_domain_add(f->db, bad[i], f->err, sizeof f->err),
                "invalid domain");
    char longlabel[80];
    memset(longlabel, 'a', 64);
    memcpy(longlabel + 64, ".org", 5);
    REFUSED(authdb_domain_add(f->db, longlabel, f->err, sizeof f->err), "invalid domain");
    assert_null(strchr(f->err, '\x1b'));
}

static void test_user_add_verify(void **state)
{
    struct fixture *f = *state;
    struct account a;
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "alice@Example.org", "s3cret", f->err, sizeof f->err));
    assert_int_equal(authdb_verify(f->db, "alice@example.org", "s3cret", &a), AUTH_OK);
    assert_string_equal(a.address, "alice@example.org");
    assert_string_equal(a.local, "alice");
    assert_string_equal(a.domain, "example.org");
    assert_true(a.id > 0);
    assert_int_equal(authdb_verify(f->db, "ALICE@EXAMPLE.ORG", "s3cret", NULL), AUTH_OK);
    assert_int_equal(authdb_verify(f->db, "alice@example.org", "wrong", &a), AUTH_FAIL);
    assert_int_equal(authdb_verify(f->db, "nobody@example.org", "s3cret", &a), AUTH_FAIL);
    assert_int_equal(authdb_verify(f->db, "alice@other.org", "s3cret", &a), AUTH_FAIL);
    assert_int_equal(authdb_verify(f->db, "", "s3cret", &a), AUTH_FAIL);
    assert_int_equal(authdb_user_count(f->db), 1);
    assert_int_equal(authdb_user_find(f->db, "alice@example.org", &a), AUTH_OK);
    assert_int_equal(authdb_user_find(f->db, "bob@example.org", &a), AUTH_FAIL);
}

static void test_bare_local_one_domain(void **state)
{
    struct fixture *f = *state;
    struct account a;
    struct collect c;
    REFUSED(authdb_user_add(f->db, "alice", "pw", f->err, sizeof f->err), "no domain");
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "alice", "pw", f->err, sizeof f->err));
    assert_string_equal(users(f->db, &c), "alice@example.org,");
    assert_int_equal(authdb_verify(f->db, "alice", "pw", &a), AUTH_OK);
    assert_string_equal(a.address, "alice@example.org");
}

static void test_bare_local_two_domains(void **state)
{
    struct fixture *f = *state;
    struct account a;
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "alice", "pw", f->err, sizeof f->err));
    OK(authdb_domain_add(f->db, "example.net", f->err, sizeof f->err));
    REFUSED(authdb_user_add(f->db, "bob", "pw", f->err, sizeof f->err),
            "address needs a domain");
    assert_int_equal(authdb_verify(f->db, "alice", "pw", &a), AUTH_FAIL);
    assert_int_equal(authdb_verify(f->db, "alice@example.org", "pw", &a), AUTH_OK);
}

static void test_invalid_addresses(void **state)
{
    struct fixture *f = *state;
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    const char *bad[] = {"@example.org",
                         ".a@example.org",
                         "a.@example.org",
                         "a..b@example.org",
                         "a b@example.org",
                         "a@b@example.org",
                         "a@",
                         "a@-x.org",
                         "\"a\"@example.org",
                         "a\n@example.org"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        REFUSED(authdb_user_add(f->db, bad[i], "pw", f->err, sizeof f->err),
                "invalid address");
    REFUSED(authdb_user_add(f->db, "a+b@example.org", "pw", f->err, sizeof f->err),
            "plus-addressing");
    char longlocal[80];
    memset(longlocal, 'a', 65);
    memcpy(longlocal + 65, "@example.org", 13);
    REFUSED(authdb_user_add(f->db, longlocal, "pw", f->err, sizeof f->err),
            "invalid address");
    REFUSED(authdb_user_add(f->db, "bob@example.com", "pw", f->err, sizeof f->err),
            "no such domain: example.com");
    REFUSED(authdb_user_add(f->db, "bob@example.org", "", f->err, sizeof f->err),
            "empty password");
    OK(authdb_user_add(f->db, "a.b_c-d@example.org", "pw", f->err, sizeof f->err));
    assert_int_equal(authdb_user_count(f->db), 1);
}

static void test_duplicate_user(void **state)
{
    struct fixture *f = *state;
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "alice@example.org", "pw", f->err, sizeof f->err));
    REFUSED(authdb_user_add(f->db, "Alice@example.org", "pw2", f->err, sizeof f->err),
            "user exists: Alice@example.org");
}

static void test_add_hash(void **state)
{
    struct fixture *f = *state;
    /* sha512crypt of "s3cret", as an import would bring it */
    static const char hash[] =
        "$6$ZYmu32Or3s5mixgA$I5zQ.DeDAnWpz7jP1BzwWZNGpB4vdHQzjP.S2hR"
        "g9sU/ZioS4qJPhHmFHZhb5bIb/Ytf/TCJUNOcqr290unx30";
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    REFUSED(
        authdb_user_add_hash(f->db, "x@example.org", "$1$abc$def", f->err, sizeof f->err),
        "unsupported password hash");
    REFUSED(authdb_user_add_hash(f->db, "x@example.org", "plain", f->err, sizeof f->err),
            "unsupported password hash");
    OK(authdb_user_add_hash(f->db, "x@example.org", hash, f->err, sizeof f->err));
    assert_int_equal(authdb_verify(f->db, "x@example.org", "s3cret", NULL), AUTH_OK);
}

static void test_passwd(void **state)
{
    struct fixture *f = *state;
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "alice@example.org", "old", f->err, sizeof f->err));
    OK(authdb_user_passwd(f->db, "alice@example.org", "new", f->err, sizeof f->err));
    assert_int_equal(authdb_verify(f->db, "alice@example.org", "old", NULL), AUTH_FAIL);
    assert_int_equal(authdb_verify(f->db, "alice@example.org", "new", NULL), AUTH_OK);
    REFUSED(authdb_user_passwd(f->db, "bob@example.org", "x", f->err, sizeof f->err),
            "no such user: bob@example.org");
}

static void test_user_del(void **state)
{
    struct fixture *f = *state;
    struct collect c;
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "alice@example.org", "pw", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "bob@example.org", "pw", f->err, sizeof f->err));
    assert_string_equal(users(f->db, &c), "alice@example.org,bob@example.org,");
    OK(authdb_user_del(f->db, "ALICE@example.org", f->err, sizeof f->err));
    assert_string_equal(users(f->db, &c), "bob@example.org,");
    REFUSED(authdb_user_del(f->db, "alice@example.org", f->err, sizeof f->err),
            "no such user");
    assert_int_equal(authdb_verify(f->db, "alice@example.org", "pw", NULL), AUTH_FAIL);
}

static void test_aliases(void **state)
{
    struct fixture *f = *state;
    struct collect c = {.text = ""};
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "alice@example.org", "pw", f->err, sizeof f->err));
    OK(authdb_alias_add(f->db, "info@example.org", "alice@example.org", f->err,
                        sizeof f->err));
    OK(authdb_alias_add(f->db, "abuse", "bob+abuse@elsewhere.net", f->err,
                        sizeof f->err));
    REFUSED(
        authdb_alias_add(f->db, "INFO@example.org", "bob@x.org", f->err, sizeof f->err),
        "alias exists: INFO@example.org");
    REFUSED(
        authdb_alias_add(f->db, "alice@example.org", "bob@x.org", f->err, sizeof f->err),
        "address is an account");
    REFUSED(authdb_alias_add(f->db, "sales@example.com", "alice@example.org", f->err,
                             sizeof f->err),
            "no such domain");
    REFUSED(
        authdb_alias_add(f->db, "x@example.org", "not an address", f->err, sizeof f->err),
        "invalid address");
    REFUSED(authdb_user_add(f->db, "info@example.org", "pw", f->err, sizeof f->err),
            "address is an alias");
    assert_int_equal(authdb_alias_list(f->db, collect_two, &c), 0);
    assert_string_equal(c.text, "abuse@example.org->bob+abuse@elsewhere.net,"
                                "info@example.org->alice@example.org,");
    OK(authdb_alias_del(f->db, "info@example.org", f->err, sizeof f->err));
    REFUSED(authdb_alias_del(f->db, "info@example.org", f->err, sizeof f->err),
            "no such alias: info@example.org");
    c.text[0] = '\0';
    assert_int_equal(authdb_alias_list(f->db, collect_two, &c), 0);
    assert_string_equal(c.text, "abuse@example.org->bob+abuse@elsewhere.net,");
}

static void test_ensure_postmaster(void **state)
{
    struct fixture *f = *state;
    char pw[17], pw2[17];
    struct account a;
    assert_int_equal(authdb_ensure_postmaster(f->db, "Example.org", pw, sizeof pw, f->err,
                                              sizeof f->err),
                     1);
    assert_int_equal(strlen(pw), 16);
    assert_int_equal(authdb_verify(f->db, "postmaster@example.org", pw, &a), AUTH_OK);
    assert_int_equal(authdb_domain_is_local(f->db, "example.org"), 1);
    assert_int_equal(authdb_ensure_postmaster(f->db, "example.org", pw2, sizeof pw2,
                                              f->err, sizeof f->err),
                     0);
    assert_int_equal(authdb_user_count(f->db), 1);
    assert_int_equal(authdb_verify(f->db, "postmaster", pw, NULL), AUTH_OK);
    char small[8];
    assert_int_equal(authdb_ensure_postmaster(f->db, "example.org", small, sizeof small,
                                              f->err, sizeof f->err),
                     -1);
}

static void test_ensure_postmaster_existing_domain(void **state)
{
    struct fixture *f = *state;
    char pw[32];
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    assert_int_equal(authdb_ensure_postmaster(f->db, "example.org", pw, sizeof pw, f->err,
                                              sizeof f->err),
                     1);
    REFUSED(authdb_ensure_postmaster(f->db, "bad domain", pw, sizeof pw, f->err,
                                     sizeof f->err),
            "invalid domain");
}

static void test_domain_del_with_accounts(void **state)
{
    struct fixture *f = *state;
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    OK(authdb_user_add(f->db, "alice@example.org", "pw", f->err, sizeof f->err));
    REFUSED(authdb_domain_del(f->db, "example.org", f->err, sizeof f->err),
            "domain has 1 account(s)");
    OK(authdb_user_del(f->db, "alice@example.org", f->err, sizeof f->err));
    OK(authdb_alias_add(f->db, "info@example.org", "x@y.org", f->err, sizeof f->err));
    REFUSED(authdb_domain_del(f->db, "example.org", f->err, sizeof f->err),
            "domain has 1 alias(es)");
    OK(authdb_alias_del(f->db, "info@example.org", f->err, sizeof f->err));
    OK(authdb_domain_del(f->db, "example.org", f->err, sizeof f->err));
}

/* The lookups' statements are prepared once and reused: the answers stay
 * right over many calls, and what another handle (the CLI) writes in
 * between is seen at once. */
static void test_cached_lookups_see_changes(void **state)
{
    struct fixture *f = *state;
    struct account a;
    char target[256];
    OK(authdb_domain_add(f->db, "example.org", f->err, sizeof f->err));
    struct authdb *cli = authdb_open(f->dir, f->err, sizeof f->err);
    assert_non_null(cli);
    for (int i = 0; i < 200; i++) {
        assert_int_equal(authdb_user_find(f->db, "bob@example.org", &a), AUTH_FAIL);
        assert_int_equal(authdb_domain_is_local(f->db, "example.org"), 1);
        assert_int_equal(authdb_domain_is_local(f->db, "other.test"), 0);
        assert_int_equal(
            authdb_alias_target(f->db, "info@example.org", target, sizeof target), 0);
    }
    OK(authdb_user_add(cli, "bob@example.org", "pw-bob-1", f->err, sizeof f->err));
    OK(authdb_alias_add(cli, "info@example.org", "bob@example.org", f->err,
                        sizeof f->err));
    OK(authdb_domain_add(cli, "other.test", f->err, sizeof f->err));
    assert_int_equal(authdb_user_find(f->db, "bob@example.org", &a), AUTH_OK);
    assert_string_equal(a.address, "bob@example.org");
    assert_int_equal(
        authdb_alias_target(f->db, "info@example.org", target, sizeof target), 1);
    assert_string_equal(target, "bob@example.org");
    assert_int_equal(authdb_domain_is_local(f->db, "other.test"), 1);
    OK(authdb_user_del(cli, "bob@example.org", f->err, sizeof f->err));
    assert_int_equal(authdb_user_find(f->db, "bob@example.org", &a), AUTH_FAIL);
    authdb_close(cli);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_sets_version),
        T(test_reopen_idempotent),
        cmocka_unit_test(test_open_missing_dir),
        T(test_domains),
        T(test_invalid_domains),
        T(test_user_add_verify),
        T(test_bare_local_one_domain),
        T(test_bare_local_two_domains),
        T(test_invalid_addresses),
        T(test_duplicate_user),
        T(test_add_hash),
        T(test_passwd),
        T(test_user_del),
        T(test_aliases),
        T(test_ensure_postmaster),
        T(test_ensure_postmaster_existing_domain),
        T(test_domain_del_with_accounts),
        T(test_cached_lookups_see_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
