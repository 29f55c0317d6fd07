/* test_iplimit: the per-address connection table. Addresses chosen to
 * collide under an unkeyed hash must not lock out a victim that holds no
 * connection, and one address is one entry whatever its spelling. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>

#include "core/iplimit.h"
#include "core/siphash.h"

#define TABLE_SLOTS 8192 /* as in core/iplimit.c before it was keyed */
#define PROBES 32

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* An attacker fills every slot of the victim's probe window with
 * addresses whose FNV-1a hash lands there, one connection each. */
static void test_chosen_addresses_do_not_lock_out(void **state)
{
    const char *victim = "198.51.100.7";
    uint32_t home = fnv1a(victim) % TABLE_SLOTS;
    char ip[32];
    int found = 0;
    for (uint32_t n = 1; n < (1u << 24) && found < PROBES; n++) {
        snprintf(ip, sizeof ip, "10.%u.%u.%u", (n >> 16) & 255, (n >> 8) & 255, n & 255);
        uint32_t slot = fnv1a(ip) % TABLE_SLOTS;
        if ((slot - home) % TABLE_SLOTS == (uint32_t)found) {
            assert_true(iplimit_acquire(ip, 1));
            found++;
        }
    }
    assert_int_equal(found, PROBES);
    assert_true(iplimit_acquire(victim, 1));
    iplimit_release(victim);
}

static void test_one_address_one_entry(void **state)
{
    assert_true(iplimit_acquire("2001:db8::1", 2));
    assert_true(iplimit_acquire("2001:0db8:0:0::1", 2));
    assert_false(iplimit_acquire("2001:DB8::1", 2));
    assert_true(iplimit_acquire("192.0.2.9", 1));
    assert_false(iplimit_acquire("::ffff:192.0.2.9", 1));
    iplimit_release("::ffff:192.0.2.9");
    assert_true(iplimit_acquire("192.0.2.9", 1));
}

/* The paper's test vector (appendix A): key 00..0f, message 00..0e. */
static void test_siphash_vector(void **state)
{
    struct siphash_key k = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    unsigned char msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (unsigned char)i;
    assert_true(siphash24(&k, msg, sizeof msg) == 0xa129ca6149be45e5ULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chosen_addresses_do_not_lock_out),
        cmocka_unit_test(test_one_address_one_entry),
        cmocka_unit_test(test_siphash_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
