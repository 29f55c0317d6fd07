/* iplimit: an open-addressing table of (address, count) under one mutex.
 * Entries whose count drops to zero become free again (tombstones keep
 * probe chains intact until reuse). */
#include "core/iplimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define SLOTS 8192
#define PROBES 32

struct slot {
    char ip[INET6_ADDRSTRLEN];
    int count; /* 0: free or tombstone */
};

static struct slot table[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static uint32_t hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The slot holding ip, else the first free slot on its probe chain. */
static struct slot *find(const char *ip)
{
    uint32_t h = hash(ip);
    struct slot *free_slot = NULL;
    for (int i = 0; i < PROBES; i++) {
        struct slot *sl = &table[(h + (uint32_t)i) % SLOTS];
        if (sl->count > 0 && strcmp(sl->ip, ip) == 0)
            return sl;
        if (sl->count == 0 && !free_slot)
            free_slot = sl;
    }
    return free_slot;
}

bool iplimit_acquire(const char *ip, int max)
{
    pthread_mutex_lock(&mu);
    struct slot *sl = find(ip);
    bool ok = sl && sl->count < max;
    if (ok) {
        if (sl->count == 0)
            memcpy(sl->ip, ip, strnlen(ip, sizeof sl->ip - 1) + 1);
        sl->ip[sizeof sl->ip - 1] = '\0';
        sl->count++;
    }
    pthread_mutex_unlock(&mu);
    return ok;
}

void iplimit_release(const char *ip)
{
    pthread_mutex_lock(&mu);
    struct slot *sl = find(ip);
    if (sl && sl->count > 0 && strcmp(sl->ip, ip) == 0)
        sl->count--;
    pthread_mutex_unlock(&mu);
}
