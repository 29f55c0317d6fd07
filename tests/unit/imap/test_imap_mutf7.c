/* test_imap_mutf7: RFC 3501 5.1.3 vectors, round trips, and the
 * non-canonical or malformed forms that must be refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "core/mutf7.h"

static void both_ways(const char *mutf7, const char *utf8)
{
    char out[512];
    size_t n;
    assert_int_equal(mutf7_decode(mutf7, strlen(mutf7), out, sizeof out, &n), MUTF7_OK);
    assert_string_equal(out, utf8);
    assert_int_equal(n, strlen(utf8));
    assert_int_equal(mutf7_encode(utf8, strlen(utf8), out, sizeof out, &n), MUTF7_OK);
    assert_string_equal(out, mutf7);
}

static void test_vectors(void **state)
{
    /* RFC 3501 5.1.3 */
    both_ways(
        "~peter/mail/&U,BTFw-/&ZeVnLIqe-",
        "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    both_ways("&-", "&");
    both_ways("A&-B", "A&B");
    both_ways("", "");
    both_ways("Entw&APw-rfe", "Entw\xc3\xbc"
                              "rfe");
    both_ways("&AOkA6QDp-", "\xc3\xa9\xc3\xa9\xc3\xa9");
    both_ways("&2D3eAA-", "\xf0\x9f\x98\x80"); /* a surrogate pair */
    both_ways("&AH8-", "\x7f");                /* DEL is not printable: encoded */
}

static void test_refused(void **state)
{
    const char *bad[] = {"&",          /* unterminated */
                         "&AGE",       /* unterminated */
                         "&AGE-&AGE-", /* two runs side by side: must be one */
                         "&AGEA-",     /* stray bits / superfluous character */
                         "&AEE-",      /* encodes "A", printable US-ASCII */
                         "&ACY-",      /* encodes "&" */
                         "&AH4-",      /* encodes "~" */
                         "&AAA-",      /* NUL */
                         "&2D0-",      /* a lone high surrogate */
                         "&3gA-",      /* a lone low surrogate */
                         "&U/BTFw-",   /* "/" is not in the modified alphabet */
                         "&U,BTFw=-",  /* padding */
                         "\xc3\xa9",   /* 8-bit */
                         "a\tb",       /* control */
                         "&-&",        /* trailing "&" */
                         NULL};
    char out[64];
    size_t n;
    for (size_t i = 0; bad[i]; i++)
        assert_int_equal(mutf7_decode(bad[i], strlen(bad[i]), out, sizeof out, &n),
                         MUTF7_INVALID);
    assert_int_equal(mutf7_encode("\xc3", 1, out, sizeof out, &n), MUTF7_INVALID);
    assert_int_equal(mutf7_encode("a\0b", 3, out, sizeof out, &n), MUTF7_INVALID);
    assert_int_equal(mutf7_encode("\xe5\x8f\xb0", 3, out, 4, &n), MUTF7_NO_ROOM);
    assert_int_equal(mutf7_decode("abcdef", 6, out, 6, &n), MUTF7_NO_ROOM);
}

static void test_round_trip(void **state)
{
    /* every BMP code point outside printable ASCII, and a few astral ones */
    char utf8[8], enc[32], dec[8];
    size_t en, dn;
    for (uint32_t cp = 1; cp < 0x30000; cp += (cp < 0x10000 ? 1 : 97)) {
        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        size_t len;
        if (cp < 0x80) {
            utf8[0] = (char)cp;
            len = 1;
        } else if (cp < 0x800) {
            utf8[0] = (char)(0xc0 | (cp >> 6));
            utf8[1] = (char)(0x80 | (cp & 0x3f));
            len = 2;
        } else if (cp < 0x10000) {
            utf8[0] = (char)(0xe0 | (cp >> 12));
            utf8[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
            utf8[2] = (char)(0x80 | (cp & 0x3f));
            len = 3;
        } else {
            utf8[0] = (char)(0xf0 | (cp >> 18));
            utf8[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
            utf8[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
            utf8[3] = (char)(0x80 | (cp & 0x3f));
            len = 4;
        }
        assert_int_equal(mutf7_encode(utf8, len, enc, sizeof enc, &en), MUTF7_OK);
        assert_int_equal(mutf7_decode(enc, en, dec, sizeof dec, &dn), MUTF7_OK);
        assert_int_equal(dn, len);
        assert_memory_equal(dec, utf8, len);
    }
}

static void test_truncations(void **state)
{
    /* no prefix crashes; only prefixes that end outside a run decode */
    const char *s = "a&U,BTFw-/&-b";
    size_t ok = 0;
    for (size_t i = 0; i <= strlen(s); i++) {
        char out[64];
        size_t n;
        if (mutf7_decode(s, i, out, sizeof out, &n) == MUTF7_OK)
            ok++;
    }
    assert_int_equal(ok, 6); /* "", "a", ".....-", "...-/", "...&-", "...b" */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
