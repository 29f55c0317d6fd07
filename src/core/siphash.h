/* siphash: SipHash-2-4 (Aumasson and Bernstein, 2012), the keyed hash for
 * tables whose keys a client chooses (addresses, account names). */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct siphash_key {
    uint64_t k0, k1;
};

/* A random key from the system's generator (OpenSSL's RAND_bytes). */
void siphash_random_key(struct siphash_key *key);
uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len);
