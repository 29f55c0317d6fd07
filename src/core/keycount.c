/* keycount: open addressing by SipHash with a random key (clients choose
 * the names), exact comparison, one mutex. Entries at zero are free. */
#include "core/keycount.h"

#include "core/limits.h"
#include "core/siphash.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEYCOUNT_SLOTS 1024
#define KEYCOUNT_PROBES 32

struct kslot {
    char key[AUTH_MAX_USERNAME + 1];
    int count;
};

struct keycount {
    pthread_mutex_t mu;
    struct siphash_key hk;
    struct kslot slot[KEYCOUNT_SLOTS];
};

struct keycount *keycount_new(void)
{
    struct keycount *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    pthread_mutex_init(&k->mu, NULL);
    siphash_random_key(&k->hk);
    return k;
}

void keycount_free(struct keycount *k)
{
    if (!k)
        return;
    pthread_mutex_destroy(&k->mu);
    free(k);
}

static struct kslot *find(struct keycount *k, const char *key)
{
    uint64_t h = siphash24(&k->hk, key, strlen(key));
    struct kslot *free_slot = NULL;
    for (int i = 0; i < KEYCOUNT_PROBES; i++) {
        struct kslot *s = &k->slot[(h + (uint64_t)i) % KEYCOUNT_SLOTS];
        if (s->count > 0 && strcmp(s->key, key) == 0)
            return s;
        if (s->count == 0 && !free_slot)
            free_slot = s;
    }
    return free_slot;
}

bool keycount_acquire(struct keycount *k, const char *key, int max)
{
    if (!k || strlen(key) > AUTH_MAX_USERNAME)
        return false;
    pthread_mutex_lock(&k->mu);
    struct kslot *s = find(k, key);
    bool ok = s && s->count < max;
    if (ok) {
        if (s->count == 0)
            memcpy(s->key, key, strlen(key) + 1);
        s->count++;
    }
    pthread_mutex_unlock(&k->mu);
    return ok;
}

void keycount_release(struct keycount *k, const char *key)
{
    if (!k || strlen(key) > AUTH_MAX_USERNAME)
        return;
    pthread_mutex_lock(&k->mu);
    struct kslot *s = find(k, key);
    if (s && s->count > 0 && strcmp(s->key, key) == 0)
        s->count--;
    pthread_mutex_unlock(&k->mu);
}
