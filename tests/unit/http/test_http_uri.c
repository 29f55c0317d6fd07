/* Unit tests of http/uri.c and http/auth.c: traversal in its encodings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/limits.h"
#include "http/auth.h"
#include "http/uri.h"

static int decode(const char *target, char *out)
{
    struct http_target t;
    return http_target_decode((struct http_str){target, strlen(target)}, &t, out,
                              STORE_MAX_PATH + 1);
}

static void expect(const char *target, const char *path)
{
    char out[STORE_MAX_PATH + 1];
    assert_int_equal(decode(target, out), 0);
    assert_string_equal(out, path);
}

static void refused(const char *target)
{
    char out[STORE_MAX_PATH + 1];
    assert_int_equal(decode(target, out), -1);
}

static void normalises(void **state)
{
    expect("/", "/");
    expect("/a/b/../c", "/a/c");
    expect("/../../etc/passwd", "/etc/passwd");
    expect("/%2e%2e/%2E%2E/etc/passwd", "/etc/passwd");
    expect("/a/%2e%2e%2f%2e%2e%2fetc", "/etc");
    expect("/a%20b?x=/../y", "/a b");
    expect("http://host:80/x/./y", "/x/y");
    expect("/caf%C3%A9", "/caf\xc3\xa9");
}

static void refuses(void **state)
{
    refused("/a%00b");
    refused("/..%5c..%5cetc");
    refused("/a\\b");
    refused("/%c0%ae%c0%ae/etc");    /* overlong '.' */
    refused("/%e0%80%ae");           /* overlong 3-byte */
    refused("/%ed%a0%80");           /* surrogate */
    refused("/%f4%90%80%80");        /* > U+10FFFF */
    refused("/%zz");
    refused("/abc%4");
    refused("/a%0d%0aSet-Cookie:x");
    refused("relative");
    refused("*");
    refused("/a#frag");
}

static void encodes(void **state)
{
    char out[64];
    long n = http_path_encode("a b\"<&é", strlen("a b\"<&é"), out, sizeof out);
    assert_true(n > 0);
    out[n] = '\0';
    assert_string_equal(out, "a%20b%22%3C&%C3%A9");
}

static void basic(void **state)
{
    char u[64], p[64];
    const char *f = "Basic YWxpY2U6c2VjcmV0OndpdGg6Y29sb25z"; /* alice:secret:with:colons */
    assert_int_equal(http_basic_parse((struct http_str){f, strlen(f)}, u, sizeof u, p, sizeof p), 0);
    assert_string_equal(u, "alice");
    assert_string_equal(p, "secret:with:colons");
    const char *bad[] = {"Bearer abc", "Basic !!!!", "Basic YWxpY2U=", "Basic YQ", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(http_basic_parse((struct http_str){bad[i], strlen(bad[i])}, u,
                                          sizeof u, p, sizeof p), -1);
    unsigned char salt[16] = {1}, d1[32], d2[32];
    assert_int_equal(http_auth_digest(salt, "a", "b", d1), 0);
    assert_int_equal(http_auth_digest(salt, "a", "c", d2), 0);
    assert_memory_not_equal(d1, d2, 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(normalises),
        cmocka_unit_test(refuses),
        cmocka_unit_test(encodes),
        cmocka_unit_test(basic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
