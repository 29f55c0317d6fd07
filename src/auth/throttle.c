/* throttle: failed-login accounting in a fixed-size table (no allocation
 * after throttle_new, so a flood of addresses cannot grow memory). Keys are
 * "i:ADDRESS", "u:user" and "p:user ADDRESS"; each entry keeps the times of
 * its recent failures and the attempts reserved but not yet decided (so
 * parallel attempts count before any password is checked). When the table is full the
 * stalest entry in the probe window is replaced, preferring entries that are not locked.
 */
#include "auth/throttle.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/limits.h"

#define THROTTLE_SLOTS 4096                           /* power of two */
#define THROTTLE_PROBE 8                              /* slots looked at per key */
#define THROTTLE_KEY_MAX (AUTH_MAX_USERNAME + 3 + 46) /* "p:" user " " address */
#define THROTTLE_BASE_DELAY_MS 1000

struct tentry {
    bool used;
    char key[THROTTLE_KEY_MAX];
    unsigned nfail;                               /* valid entries in fail[] */
    unsigned pending;                             /* reserved, not yet decided */
    time_t fail[AUTH_THROTTLE_MAX_LOCK_FAILURES]; /* oldest first */
    time_t locked_until;
};

struct throttle {
    pthread_mutex_t lock;
    uint64_t seed;
    struct throttle_policy policy;
    struct tentry slot[THROTTLE_SLOTS];
};

static const struct throttle_policy default_policy = {
    .free_failures = AUTH_THROTTLE_FREE_FAILURES,
    .max_delay_ms = AUTH_THROTTLE_MAX_DELAY_MS,
    .lock_failures = AUTH_THROTTLE_LOCK_FAILURES,
    .lock_sec = AUTH_THROTTLE_LOCK_SEC,
    .window_sec = AUTH_THROTTLE_WINDOW_SEC,
};

struct throttle *throttle_new(const struct throttle_policy *policy)
{
    if (policy == NULL)
        policy = &default_policy;
    if (policy->lock_failures < 2 ||
        policy->lock_failures > AUTH_THROTTLE_MAX_LOCK_FAILURES)
        return NULL;
    struct throttle *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    t->policy = *policy;
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        free(t);
        return NULL;
    }
    /* A secret seed, so clients cannot aim their keys at one probe window. */
    if (RAND_bytes((unsigned char *)&t->seed, sizeof t->seed) != 1)
        t->seed = (uint64_t)(uintptr_t)t ^ (uint64_t)time(NULL);
    return t;
}

void throttle_free(struct throttle *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* FNV-1a from a secret basis, then a splitmix64 finish to spread the bits. */
static uint64_t key_hash(const struct throttle *t, const char *key)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ t->seed;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

/* "i:ip" or "u:user" (ASCII lower-cased: logins are case-insensitive);
 * over-long input is cut, which only merges keys that long. */
static void make_key(char *key, char kind, const char *name)
{
    int n = snprintf(key, THROTTLE_KEY_MAX, "%c:%s", kind, name);
    if (n < 0)
        key[0] = '\0';
    for (char *p = key; *p; p++)
        *p = (char)tolower((unsigned char)*p);
}

/* Drops failures older than the window; clears an expired lock. */
static void entry_expire(const struct throttle *t, struct tentry *e, time_t now)
{
    unsigned keep = 0;
    for (unsigned i = 0; i < e->nfail; i++)
        if (now - e->fail[i] < t->policy.window_sec)
            e->fail[keep++] = e->fail[i];
    e->nfail = keep;
    if (e->locked_until <= now)
        e->locked_until = 0;
}

static bool entry_idle(const struct tentry *e)
{
    return !e->used || (e->nfail == 0 && e->locked_until == 0 && e->pending == 0);
}

static time_t entry_last(const struct tentry *e)
{
    return e->nfail > 0 ? e->fail[e->nfail - 1] : 0;
}

/* Is candidate a better victim than best? Unlocked before locked, then
 * the one whose last failure is oldest. */
static bool better_victim(const struct tentry *cand, const struct tentry *best)
{
    bool cl = cand->locked_until != 0, bl = best->locked_until != 0;
    if (cl != bl)
        return !cl;
    return entry_last(cand) < entry_last(best);
}

static struct tentry *probe_slot(struct throttle *t, uint64_t base, size_t i)
{
    return &t->slot[(size_t)(base + i) & (THROTTLE_SLOTS - 1)];
}

/* The entry holding key, or NULL. */
static struct tentry *find(struct throttle *t, const char *key)
{
    uint64_t base = key_hash(t, key);
    for (size_t i = 0; i < THROTTLE_PROBE; i++) {
        struct tentry *e = probe_slot(t, base, i);
        if (e->used && strcmp(e->key, key) == 0)
            return e;
    }
    return NULL;
}

/* A fresh entry for key (not in the table): an idle slot of its probe
 * window, else the best victim there. */
static struct tentry *claim(struct throttle *t, const char *key, time_t now)
{
    uint64_t base = key_hash(t, key);
    struct tentry *victim = NULL;
    for (size_t i = 0; i < THROTTLE_PROBE; i++) {
        struct tentry *e = probe_slot(t, base, i);
        entry_expire(t, e, now);
        if (entry_idle(e)) {
            victim = e;
            break;
        }
        if (victim == NULL || better_victim(e, victim))
            victim = e;
    }
    memset(victim, 0, sizeof *victim);
    victim->used = true;
    snprintf(victim->key, sizeof victim->key, "%s", key);
    return victim;
}

/* The name of the pair key: "user address" (NULL if either is missing). */
static const char *pair_name(char *buf, size_t len, const char *ip, const char *user)
{
    if (ip == NULL || user == NULL)
        return NULL;
    snprintf(buf, len, "%s %s", user, ip);
    return buf;
}

/* Locked: the lock runs, or the failures and the attempts in flight reach
 * the limit (one attempt at a time may still try after a lock ran out). */
static bool is_locked(struct throttle *t, char kind, const char *name, time_t now)
{
    char key[THROTTLE_KEY_MAX];
    if (name == NULL)
        return false;
    make_key(key, kind, name);
    struct tentry *e = find(t, key);
    if (e == NULL)
        return false;
    entry_expire(t, e, now);
    if (e->locked_until > now)
        return true;
    return e->pending > 0 && e->nfail + e->pending >= t->policy.lock_failures;
}

/* A trusted address ([auth] trusted_networks) is never refused, neither as
 * an address nor as a pair: it only gets the growing delay, so a test suite
 * on loopback cannot lock its own correct logins out. */
static bool check_locked(struct throttle *t, const char *ip, const char *user,
                         bool trusted, time_t now)
{
    char pair[THROTTLE_KEY_MAX];
    if (trusted)
        return false;
    if (is_locked(t, 'i', ip, now))
        return true;
    return is_locked(t, 'p', pair_name(pair, sizeof pair, ip, user), now);
}

int throttle_check(struct throttle *t, const char *ip, const char *user, time_t now)
{
    if (t == NULL)
        return 0;
    pthread_mutex_lock(&t->lock);
    bool locked = check_locked(t, ip, user, false, now);
    pthread_mutex_unlock(&t->lock);
    return locked ? -1 : 0;
}

static struct tentry *find_or_claim(struct throttle *t, char kind, const char *name,
                                    time_t now)
{
    char key[THROTTLE_KEY_MAX];
    make_key(key, kind, name);
    struct tentry *e = find(t, key);
    if (e != NULL) {
        entry_expire(t, e, now);
        return e;
    }
    return claim(t, key, now);
}

/* Adds (+1) or ends (-1) a reservation on one key. */
static void pending_add(struct throttle *t, char kind, const char *name, int delta,
                        time_t now)
{
    char key[THROTTLE_KEY_MAX];
    if (name == NULL)
        return;
    if (delta > 0) {
        find_or_claim(t, kind, name, now)->pending++;
        return;
    }
    make_key(key, kind, name);
    struct tentry *e = find(t, key);
    if (e != NULL && e->pending > 0)
        e->pending--;
}

int throttle_reserve(struct throttle *t, const char *ip, const char *user, bool trusted,
                     time_t now)
{
    char pair[THROTTLE_KEY_MAX];
    if (t == NULL)
        return 0;
    pthread_mutex_lock(&t->lock);
    bool locked = check_locked(t, ip, user, trusted, now);
    if (!locked) {
        pending_add(t, 'i', ip, 1, now);
        pending_add(t, 'p', pair_name(pair, sizeof pair, ip, user), 1, now);
    }
    pthread_mutex_unlock(&t->lock);
    return locked ? -1 : 0;
}

void throttle_release(struct throttle *t, const char *ip, const char *user)
{
    char pair[THROTTLE_KEY_MAX];
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    pending_add(t, 'i', ip, -1, 0);
    pending_add(t, 'p', pair_name(pair, sizeof pair, ip, user), -1, 0);
    pthread_mutex_unlock(&t->lock);
}

/* No delay for the first few failures, then 1 s doubling up to the cap. */
static unsigned delay_for(const struct throttle_policy *p, unsigned nfail)
{
    if (nfail <= p->free_failures)
        return 0;
    unsigned steps = nfail - p->free_failures - 1;
    unsigned ms = p->max_delay_ms;
    if (steps < 16 && (unsigned)(THROTTLE_BASE_DELAY_MS << steps) < ms)
        ms = (unsigned)THROTTLE_BASE_DELAY_MS << steps;
    return ms;
}

/* Records one failure for the key (ending its reservation, if any);
 * returns its delay. The account key (u) never locks. */
static unsigned record_fail(struct throttle *t, char kind, const char *name, time_t now)
{
    if (name == NULL)
        return 0;
    struct tentry *e = find_or_claim(t, kind, name, now);
    if (e->pending > 0)
        e->pending--;
    if (e->nfail >= t->policy.lock_failures) {
        memmove(&e->fail[0], &e->fail[1], (e->nfail - 1) * sizeof e->fail[0]);
        e->nfail--;
    }
    e->fail[e->nfail++] = now;
    if (e->nfail >= t->policy.lock_failures && kind != 'u')
        e->locked_until = now + t->policy.lock_sec;
    return delay_for(&t->policy, e->nfail);
}

unsigned throttle_fail(struct throttle *t, const char *ip, const char *user, time_t now)
{
    if (t == NULL)
        return 0;
    char pair[THROTTLE_KEY_MAX];
    pthread_mutex_lock(&t->lock);
    unsigned d_ip = record_fail(t, 'i', ip, now);
    unsigned d_user = record_fail(t, 'u', user, now);
    unsigned d_pair = record_fail(t, 'p', pair_name(pair, sizeof pair, ip, user), now);
    pthread_mutex_unlock(&t->lock);
    unsigned d = d_ip > d_user ? d_ip : d_user;
    return d > d_pair ? d : d_pair;
}

static void forget(struct throttle *t, char kind, const char *name)
{
    char key[THROTTLE_KEY_MAX];
    if (name == NULL)
        return;
    make_key(key, kind, name);
    struct tentry *e = find(t, key);
    if (e != NULL)
        memset(e, 0, sizeof *e);
}

void throttle_success(struct throttle *t, const char *ip, const char *user)
{
    char pair[THROTTLE_KEY_MAX];
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    pending_add(t, 'i', ip, -1, 0);
    forget(t, 'u', user);
    forget(t, 'p', pair_name(pair, sizeof pair, ip, user));
    pthread_mutex_unlock(&t->lock);
}
