/* test_sasl: strict base64 and SASL PLAIN (RFC 4616) decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "auth/sasl.h"
#include "core/limits.h"

/* base64 of raw bytes (which may hold NULs). */
static void encode(const void *raw, size_t n, char *out, size_t outlen)
{
    assert_true(sasl_base64_encode(raw, n, out, outlen) >= 0);
}

static int plain(const char *raw, size_t n, char *cid, char *pw)
{
    char b64[4096];
    encode(raw, n, b64, sizeof b64);
    return sasl_plain_decode(b64, cid, AUTH_MAX_USERNAME + 1, pw, AUTH_MAX_PASSWORD + 1);
}

static void test_base64_roundtrip(void **state)
{
    char enc[64], dec[64];
    const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    const char *want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        long n = sasl_base64_encode(in[i], strlen(in[i]), enc, sizeof enc);
        assert_int_equal(n, (long)strlen(want[i]));
        assert_string_equal(enc, want[i]);
        assert_int_equal(sasl_base64_decode(enc, dec, sizeof dec), (long)strlen(in[i]));
        assert_string_equal(dec, in[i]);
    }
}

static void test_base64_equals_is_empty(void **state)
{
    char out[8] = "x";
    assert_int_equal(sasl_base64_decode("=", out, sizeof out), 0);
    assert_string_equal(out, "");
}

static void test_base64_bad_chars(void **state)
{
    char out[64];
    assert_int_equal(sasl_base64_decode("Zm9v YmFy", out, sizeof out), -1);
    assert_int_equal(sasl_base64_decode("Zm9v\r\n", out, sizeof out), -1);
    assert_int_equal(sasl_base64_decode("Zm9*", out, sizeof out), -1);
    assert_int_equal(sasl_base64_decode("Zm9-", out, sizeof out), -1); /* base64url */
    assert_int_equal(sasl_base64_decode(" Zm9v", out, sizeof out), -1);
}

static void test_base64_bad_padding(void **state)
{
    char out[64];
    assert_int_equal(sasl_base64_decode("Zg=", out, sizeof out), -1);  /* length */
    assert_int_equal(sasl_base64_decode("Zg", out, sizeof out), -1);   /* no pad */
    assert_int_equal(sasl_base64_decode("Z===", out, sizeof out), -1); /* 3 pads */
    assert_int_equal(sasl_base64_decode("Zg=a", out, sizeof out), -1); /* inner = */
    assert_int_equal(sasl_base64_decode("Zg==Zg==", out, sizeof out), -1);
    assert_int_equal(sasl_base64_decode("====", out, sizeof out), -1);
    assert_int_equal(sasl_base64_decode("==", out, sizeof out), -1);
    assert_int_equal(sasl_base64_decode("Zh==", out, sizeof out), -1); /* pad bits */
    assert_int_equal(sasl_base64_decode("Zm9=", out, sizeof out), -1);
}

static void test_base64_bounds(void **state)
{
    char out[4];
    assert_int_equal(sasl_base64_decode("Zm9v", out, 3), -1); /* no room for NUL */
    assert_int_equal(sasl_base64_decode("Zm9v", out, 4), 3);
    char enc[4];
    assert_int_equal(sasl_base64_encode("f", 1, enc, 4), -1);
    char enc5[5];
    assert_int_equal(sasl_base64_encode("f", 1, enc5, sizeof enc5), 4);
}

static void test_plain_valid(void **state)
{
    char cid[AUTH_MAX_USERNAME + 1], pw[AUTH_MAX_PASSWORD + 1];
    /* RFC 4616 4 example without authzid. */
    assert_int_equal(
        sasl_plain_decode("AHRpbQB0YW5zdGFhZnRhbnN0YWFm", cid, sizeof cid, pw, sizeof pw),
        0);
    assert_string_equal(cid, "tim");
    assert_string_equal(pw, "tanstaaftanstaaf");
}

static void test_plain_authzid_same(void **state)
{
    char cid[AUTH_MAX_USERNAME + 1], pw[AUTH_MAX_PASSWORD + 1];
    static const char msg[] = "alice@example.org\0alice@example.org\0s3cret";
    assert_int_equal(plain(msg, sizeof msg - 1, cid, pw), 0);
    assert_string_equal(cid, "alice@example.org");
    assert_string_equal(pw, "s3cret");
}

static void test_plain_authzid_other(void **state)
{
    char cid[AUTH_MAX_USERNAME + 1], pw[AUTH_MAX_PASSWORD + 1];
    static const char msg[] = "Ursel\0Kurt\0xipj3plmq"; /* RFC 4616 4 proxy example */
    assert_int_equal(plain(msg, sizeof msg - 1, cid, pw), -1);
    assert_string_equal(cid, "");
    assert_string_equal(pw, "");
    static const char prefix[] = "alice\0alice2\0pw";
    assert_int_equal(plain(prefix, sizeof prefix - 1, cid, pw), -1);
}

static void test_plain_nul_count(void **state)
{
    char cid[AUTH_MAX_USERNAME + 1], pw[AUTH_MAX_PASSWORD + 1];
    static const char one[] = "alice\0password";
    static const char none[] = "alicepassword";
    static const char three[] = "\0alice\0pass\0word";
    static const char four[] = "\0alice\0password\0";
    assert_int_equal(plain(one, sizeof one - 1, cid, pw), -1);
    assert_int_equal(plain(none, sizeof none - 1, cid, pw), -1);
    assert_int_equal(plain(three, sizeof three - 1, cid, pw), -1);
    assert_int_equal(plain(four, sizeof four - 1, cid, pw), -1);
}

static void test_plain_empty_parts(void **state)
{
    char cid[AUTH_MAX_USERNAME + 1], pw[AUTH_MAX_PASSWORD + 1];
    static const char nocid[] = "\0\0password";
    static const char nopw[] = "\0alice\0";
    assert_int_equal(plain(nocid, sizeof nocid - 1, cid, pw), -1);
    assert_int_equal(plain(nopw, sizeof nopw - 1, cid, pw), -1);
    assert_int_equal(sasl_plain_decode("=", cid, sizeof cid, pw, sizeof pw), -1);
    assert_int_equal(sasl_plain_decode("", cid, sizeof cid, pw, sizeof pw), -1);
}

static void test_plain_bad_base64(void **state)
{
    char cid[AUTH_MAX_USERNAME + 1], pw[AUTH_MAX_PASSWORD + 1];
    assert_int_equal(sasl_plain_decode("AHRpbQB0YW5zdGFhZnRhbnN0YWFm=", cid, sizeof cid,
                                       pw, sizeof pw),
                     -1);
    assert_int_equal(sasl_plain_decode("AHRpbQB0YW5z dGFhZnRhbnN0YWFm", cid, sizeof cid,
                                       pw, sizeof pw),
                     -1);
    assert_int_equal(
        sasl_plain_decode("AHRpbQB0YW5zdGFhZnRhbnN0YWF", cid, sizeof cid, pw, sizeof pw),
        -1);
}

static void test_plain_too_long(void **state)
{
    char raw[AUTH_MAX_USERNAME + AUTH_MAX_PASSWORD + 8];
    char cid[AUTH_MAX_USERNAME + 1], pw[AUTH_MAX_PASSWORD + 1];
    /* authcid one over the limit */
    raw[0] = '\0';
    memset(raw + 1, 'u', AUTH_MAX_USERNAME + 1);
    raw[AUTH_MAX_USERNAME + 2] = '\0';
    memcpy(raw + AUTH_MAX_USERNAME + 3, "pw", 2);
    assert_int_equal(plain(raw, AUTH_MAX_USERNAME + 5, cid, pw), -1);
    /* password one over the limit */
    memcpy(raw, "\0u\0", 3);
    memset(raw + 3, 'p', AUTH_MAX_PASSWORD + 1);
    assert_int_equal(plain(raw, AUTH_MAX_PASSWORD + 4, cid, pw), -1);
    /* at the limit it fits */
    assert_int_equal(plain(raw, AUTH_MAX_PASSWORD + 3, cid, pw), 0);
    assert_int_equal(strlen(pw), AUTH_MAX_PASSWORD);
    /* small caller buffers are respected */
    char small[4];
    static const char msg[] = "\0alice\0pw";
    char b64[64];
    encode(msg, sizeof msg - 1, b64, sizeof b64);
    assert_int_equal(sasl_plain_decode(b64, small, sizeof small, pw, sizeof pw), -1);
    /* a huge input is refused, not overflowed */
    static char huge[16384];
    memset(huge, 'A', sizeof huge - 4); /* a valid length */
    assert_int_equal(sasl_plain_decode(huge, cid, sizeof cid, pw, sizeof pw), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base64_roundtrip),
        cmocka_unit_test(test_base64_equals_is_empty),
        cmocka_unit_test(test_base64_bad_chars),
        cmocka_unit_test(test_base64_bad_padding),
        cmocka_unit_test(test_base64_bounds),
        cmocka_unit_test(test_plain_valid),
        cmocka_unit_test(test_plain_authzid_same),
        cmocka_unit_test(test_plain_authzid_other),
        cmocka_unit_test(test_plain_nul_count),
        cmocka_unit_test(test_plain_empty_parts),
        cmocka_unit_test(test_plain_bad_base64),
        cmocka_unit_test(test_plain_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
