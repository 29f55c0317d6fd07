/* iplimit: an open-addressing table of (address, count) under one mutex.
 * Addresses are kept in binary (IPv4 as IPv4-mapped IPv6), so each address
 * has one entry however it is spelled, and placed by SipHash with a key
 * drawn at the first use: a client cannot choose addresses that fill the
 * probe window of another. Entries whose count drops to zero become free
 * again. */
#include "core/iplimit.h"

#include "core/siphash.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define SLOTS 8192
#define PROBES 32

struct slot {
    unsigned char addr[16];
    int count; /* 0: free */
};

static struct slot table[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct siphash_key key;
static int keyed;

/* The 16-byte form of ip; anything else ("local") is hashed as its text. */
static void binary_address(const char *ip, unsigned char out[16])
{
    struct in_addr v4;
    memset(out, 0, 16);
    if (inet_pton(AF_INET6, ip, out) == 1)
        return;
    if (inet_pton(AF_INET, ip, &v4) == 1) {
        out[10] = out[11] = 0xff;
        memcpy(out + 12, &v4, 4);
        return;
    }
    memcpy(out, ip, strnlen(ip, 16));
}

/* The slot holding addr, else the first free slot on its probe chain. */
static struct slot *find(const unsigned char addr[16])
{
    if (!keyed) {
        siphash_random_key(&key);
        keyed = 1;
    }
    uint64_t h = siphash24(&key, addr, 16);
    struct slot *free_slot = NULL;
    for (int i = 0; i < PROBES; i++) {
        struct slot *sl = &table[(h + (uint64_t)i) % SLOTS];
        if (sl->count > 0 && memcmp(sl->addr, addr, 16) == 0)
            return sl;
        if (sl->count == 0 && !free_slot)
            free_slot = sl;
    }
    return free_slot;
}

bool iplimit_acquire(const char *ip, int max)
{
    unsigned char addr[16];
    binary_address(ip, addr);
    pthread_mutex_lock(&mu);
    struct slot *sl = find(addr);
    bool ok = sl && sl->count < max;
    if (ok) {
        if (sl->count == 0)
            memcpy(sl->addr, addr, 16);
        sl->count++;
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

void iplimit_release(const char *ip)
{
    unsigned char addr[16];
    binary_address(ip, addr);
    pthread_mutex_lock(&mu);
    struct slot *sl = find(addr);
    if (sl && sl->count > 0 && memcmp(sl->addr, addr, 16) == 0)
        sl->count--;
    pthread_mutex_unlock(&mu);
}
