/* test_password: crypt(3) hashing, the accepted schemes, random passwords. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "auth/password.h"
#include "core/limits.h"

/* A hash of password made directly with crypt(3) for the given prefix. */
static void crypt_hash(const char *prefix, const char *password, char *out, size_t outlen)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *data = calloc(1, sizeof *data);
    assert_non_null(data);
    assert_non_null(crypt_gensalt_rn(prefix, 0, NULL, 0, salt, sizeof salt));
    const char *h = crypt_rn(password, salt, data, sizeof *data);
    assert_non_null(h);
    assert_true(strlen(h) < outlen);
    memcpy(out, h, strlen(h) + 1);
    free(data);
}

static void test_hash_is_yescrypt(void **state)
{
    char h[256];
    assert_int_equal(password_hash("correct horse", h, sizeof h), 0);
    assert_memory_equal(h, "$y$", 3);
    assert_true(password_hash_supported(h));
    assert_true(password_hash_valid(h));
    char h2[256];
    assert_int_equal(password_hash("correct horse", h2, sizeof h2), 0);
    assert_string_not_equal(h, h2); /* fresh salt each time */
}

static void test_hash_small_buffer(void **state)
{
    char h[16];
    assert_int_equal(password_hash("pw", h, sizeof h), -1);
}

static void test_verify_yescrypt(void **state)
{
    char h[256];
    assert_int_equal(password_hash("correct horse", h, sizeof h), 0);
    assert_true(password_verify("correct horse", h));
    assert_false(password_verify("correct horsE", h));
    assert_false(password_verify("", h));
    assert_false(password_verify("correct horse ", h));
}

static void test_verify_sha512(void **state)
{
    char h[256];
    crypt_hash("$6$", "s3cret", h, sizeof h);
    assert_true(password_hash_valid(h));
    assert_true(password_verify("s3cret", h));
    assert_false(password_verify("s3cre", h));
}

static void test_verify_bcrypt(void **state)
{
    char h[256];
    crypt_hash("$2b$", "s3cret", h, sizeof h);
    assert_true(password_hash_valid(h));
    assert_true(password_verify("s3cret", h));
    assert_false(password_verify("S3cret", h));
}

static void test_unsupported_rejected(void **state)
{
    char h[256];
    crypt_hash("$1$", "pw", h, sizeof h); /* md5crypt: crypt accepts, we do not */
    assert_false(password_hash_supported(h));
    assert_false(password_verify("pw", h));
    assert_false(password_hash_supported("abc"));
    assert_false(password_verify("abc", "abc"));
    assert_false(password_verify("", ""));
    assert_false(password_verify("pw", "*"));
    assert_false(password_verify("pw", "!"));
    assert_false(password_verify("pw", NULL));
    assert_false(password_hash_valid("$y$"));
    assert_false(password_hash_valid("$6$salt$short"));
    assert_false(password_hash_valid("$y$j9T$a b"));
}

static void test_truncated_hash_rejected(void **state)
{
    char h[256];
    assert_int_equal(password_hash("pw", h, sizeof h), 0);
    h[strlen(h) - 1] = '\0';
    assert_false(password_verify("pw", h));
    assert_false(password_hash_valid(h));
}

static void test_random(void **state)
{
    char a[33], b[33];
    assert_int_equal(password_random(a, 32), 0);
    assert_int_equal(password_random(b, 32), 0);
    assert_int_equal(strlen(a), 32);
    assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                               "0123456789"),
                     32);
    assert_string_not_equal(a, b);
    char big[1001];
    assert_int_equal(password_random(big, 1000), 0);
    assert_int_equal(strlen(big), 1000);
    char none[1];
    assert_int_equal(password_random(none, 0), 0);
    assert_string_equal(none, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_is_yescrypt),
        cmocka_unit_test(test_hash_small_buffer),
        cmocka_unit_test(test_verify_yescrypt),
        cmocka_unit_test(test_verify_sha512),
        cmocka_unit_test(test_verify_bcrypt),
        cmocka_unit_test(test_unsupported_rejected),
        cmocka_unit_test(test_truncated_hash_rejected),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
