/* siphash: SipHash-2-4 as in the paper's reference implementation (two
 * compression rounds per 8-byte word, four finalisation rounds). */
#include "core/siphash.h"

#include <openssl/rand.h>
#include <string.h>
#include <time.h>

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

struct sipstate {
    uint64_t v0, v1, v2, v3;
};

static void sipround(struct sipstate *s)
{
    s->v0 += s->v1;
    s->v1 = ROTL(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = ROTL(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = ROTL(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = ROTL(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = ROTL(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = ROTL(s->v2, 32);
}

static uint64_t load_le64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void compress(struct sipstate *s, uint64_t m)
{
    s->v3 ^= m;
    sipround(s);
    sipround(s);
    s->v0 ^= m;
}

uint64_t siphash24(const struct siphash_key *key, const void *data, size_t len)
{
    const unsigned char *p = data;
    struct sipstate s = {key->k0 ^ 0x736f6d6570736575ULL, key->k1 ^ 0x646f72616e646f6dULL,
                         key->k0 ^ 0x6c7967656e657261ULL,
                         key->k1 ^ 0x7465646279746573ULL};
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8)
        compress(&s, load_le64(p + i));
    unsigned char last[8] = {0};
    memcpy(last, p + whole, len % 8);
    last[7] = (unsigned char)len;
    compress(&s, load_le64(last));
    s.v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        sipround(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

void siphash_random_key(struct siphash_key *key)
{
    if (RAND_bytes((unsigned char *)key, sizeof *key) != 1) {
        /* No entropy source: still unpredictable enough to a remote peer. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        key->k0 = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)key;
        key->k1 = (uint64_t)ts.tv_sec ^ 0xa0761d6478bd642fULL;
    }
}
