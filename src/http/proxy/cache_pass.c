/* cache_pass: the keys whose last answer was not storable (private,
 * no-store, an error, too large), remembered for a while so that their
 * concurrent misses are not collapsed: waiting for a leader whose answer
 * cannot be shared only doubles the waiters' latency (Varnish's
 * "hit-for-miss"). A fixed table of slots indexed by a hash of the key,
 * relaxed atomics only: a lost or stale mark makes a request collapse
 * or not, both correct. */
#include "http/proxy/cache_glue.h"

#include <stdatomic.h>

#define PASS_SLOTS 4096 /* a power of two */
#define PASS_SECONDS 60 /* how long a key is not collapsed */

static _Atomic uint64_t slot_hash[PASS_SLOTS];
static _Atomic int64_t slot_until[PASS_SLOTS];

/* FNV-1a, never 0 (0 marks an empty slot). */
static uint64_t hash_of(struct http_str key)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < key.n; i++) {
        h ^= (unsigned char)key.p[i];
        h *= 0x100000001b3ULL;
    }
    return h | 1;
}

bool proxy_cache_pass_recent(struct http_str key, time_t now)
{
    uint64_t h = hash_of(key);
    size_t i = h & (PASS_SLOTS - 1);
    if (atomic_load_explicit(&slot_hash[i], memory_order_relaxed) != h)
        return false;
    return atomic_load_explicit(&slot_until[i], memory_order_relaxed) > (int64_t)now;
}

void proxy_cache_pass_mark(struct http_str key, time_t now)
{
    uint64_t h = hash_of(key);
    size_t i = h & (PASS_SLOTS - 1);
    atomic_store_explicit(&slot_until[i], (int64_t)now + PASS_SECONDS,
                          memory_order_relaxed);
    atomic_store_explicit(&slot_hash[i], h, memory_order_relaxed);
}

void proxy_cache_pass_clear(struct http_str key)
{
    uint64_t h = hash_of(key);
    size_t i = h & (PASS_SLOTS - 1);
    if (atomic_load_explicit(&slot_hash[i], memory_order_relaxed) == h)
        atomic_store_explicit(&slot_until[i], 0, memory_order_relaxed);
}
