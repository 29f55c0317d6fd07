/* mailbox_version: shared, immutable, reference-counted snapshots of a
 * folder, one current version per (account, folder). Every handle of the
 * same folder that asks while nothing changed gets the same object (one
 * more reference), so a thousand sessions on one INBOX hold one copy of
 * its message list, and a change is listed once for all of them.
 *
 * "Nothing changed" is the folder row after index_sync: UIDVALIDITY,
 * UIDNEXT and HIGHEST MODSEQ move on every change the store makes or a
 * sync finds (flags, appends, expunges, a rebuild), so equal figures mean
 * the same message list.
 *
 * Thread safety: a version is immutable once published; the table (and
 * every drop of a last reference) is under one mutex; other reference
 * changes are atomic. A version leaves the table when its last reference
 * goes (kept a little longer, below) or a newer one replaces it. The
 * last few versions nobody holds stay listed (VERSION_RETAINED, least
 * recently released out first), so a folder selected again soon, e.g. by
 * a client that reconnects, costs a sync and no listing: a bounded cache
 * for the whole server, not per session. Builds of the same folder are
 * serialised (striped mutexes), so a bus event waking many sessions costs
 * one listing, not one per session. */
#include "store/mailbox_internal.h"

#include "store/index_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VERSION_BUCKETS 256
#define VERSION_BUILD_STRIPES 32
#define VERSION_RETAINED 4 /* versions kept listed with no holder */

struct mailbox_version {
    struct mailbox_snapshot snap;
    atomic_uint refs;
    bool linked;   /* in the table (under table_lock) */
    bool retained; /* refs 0, listed in retained[] (under table_lock) */
    struct mailbox_version *next;
    uint32_t hash;
    char key[sizeof(((struct account *)0)->address) + MAIL_MAX_FOLDER + 2];
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mailbox_version *table[VERSION_BUCKETS];
static struct mailbox_version *retained[VERSION_RETAINED]; /* oldest first */
static pthread_mutex_t build_lock[VERSION_BUILD_STRIPES] = {
    [0 ... VERSION_BUILD_STRIPES - 1] = PTHREAD_MUTEX_INITIALIZER};

/* "address\nfolder": neither part contains a newline. */
static void make_key(const struct mailbox *mb, char *key, size_t len)
{
    snprintf(key, len, "%s\n%s", mb->acct.address, mb->name);
}

static uint32_t key_hash(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

static bool version_matches(const struct mailbox_version *v, const struct index_folder *f)
{
    return v->snap.uidvalidity == f->uidvalidity && v->snap.uidnext == f->uidnext &&
           v->snap.highest_modseq == f->highest_modseq;
}

/* table_lock held. */
static void unlink_locked(struct mailbox_version *v)
{
    struct mailbox_version **p = &table[v->hash % VERSION_BUCKETS];
    while (*p && *p != v)
        p = &(*p)->next;
    if (*p)
        *p = v->next;
    v->linked = false;
}

/* table_lock held: v leaves the retained list (taken again, or freed). */
static void unretain_locked(struct mailbox_version *v)
{
    size_t i = 0;
    while (i < VERSION_RETAINED && retained[i] != v)
        i++;
    for (; i + 1 < VERSION_RETAINED; i++)
        retained[i] = retained[i + 1];
    retained[VERSION_RETAINED - 1] = NULL;
    v->retained = false;
}

/* table_lock held: keeps v (no holder left) listed; returns the version
 * pushed out to free, or NULL. */
static struct mailbox_version *retain_locked(struct mailbox_version *v)
{
    struct mailbox_version *out = NULL;
    if (retained[VERSION_RETAINED - 1]) {
        out = retained[0];
        unretain_locked(out);
        unlink_locked(out);
    }
    size_t i = 0;
    while (retained[i])
        i++;
    retained[i] = v;
    v->retained = true;
    return out;
}

/* The table's version for key if it shows f, with a reference; NULL. */
static struct mailbox_version *lookup(const char *key, uint32_t hash,
                                      const struct index_folder *f)
{
    struct mailbox_version *found = NULL;
    pthread_mutex_lock(&table_lock);
    for (struct mailbox_version *v = table[hash % VERSION_BUCKETS]; v; v = v->next) {
        if (v->hash == hash && strcmp(v->key, key) == 0) {
            if (version_matches(v, f)) {
                if (v->retained)
                    unretain_locked(v);
                atomic_fetch_add(&v->refs, 1);
                found = v;
            }
            break;
        }
    }
    pthread_mutex_unlock(&table_lock);
    return found;
}

/* Makes v the table's version of its key (replacing an older one, which
 * stays alive for its holders). */
static void version_free(struct mailbox_version *v);

static void publish(struct mailbox_version *v)
{
    struct mailbox_version *dead = NULL;
    pthread_mutex_lock(&table_lock);
    struct mailbox_version **p = &table[v->hash % VERSION_BUCKETS];
    for (; *p; p = &(*p)->next) {
        if ((*p)->hash == v->hash && strcmp((*p)->key, v->key) == 0) {
            struct mailbox_version *old = *p;
            old->linked = false;
            *p = old->next;
            if (old->retained) { /* nobody holds it: it goes now */
                unretain_locked(old);
                dead = old;
            }
            break;
        }
    }
    v->next = table[v->hash % VERSION_BUCKETS];
    table[v->hash % VERSION_BUCKETS] = v;
    v->linked = true;
    pthread_mutex_unlock(&table_lock);
    if (dead)
        version_free(dead);
}

struct push_ctx {
    struct mailbox_snapshot *s;
    size_t cap;
};

static int push_row(void *arg, const struct index_row *r)
{
    struct push_ctx *c = arg;
    return mb_snapshot_push(c->s, &c->cap, r);
}

/* Lists the folder into a new version (mb->mu held, the index synced). */
static struct mailbox_version *build(struct mailbox *mb, struct mail_index *idx,
                                     const char *key, uint32_t hash)
{
    struct mailbox_version *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    struct index_folder f;
    struct push_ctx c = {&v->snap, 0};
    if (index_list_since(idx, mb->name, 0, &f, push_row, &c) < 0) {
        mailbox_snapshot_free(&v->snap);
        free(v);
        return NULL;
    }
    mb_snapshot_head(&v->snap, &f);
    /* Give back what the doubling over-allocated: this copy lives long. */
    if (c.cap > v->snap.n && v->snap.n) {
        struct mailbox_msg *m = realloc(v->snap.msgs, v->snap.n * sizeof *m);
        if (m)
            v->snap.msgs = m;
    }
    atomic_init(&v->refs, 1);
    v->hash = hash;
    snprintf(v->key, sizeof v->key, "%s", key);
    return v;
}

/* The current version, building it if the table has none that shows f. */
static struct mailbox_version *get_locked(struct mailbox *mb, struct mail_index *idx,
                                          const struct index_folder *f)
{
    char key[sizeof(((struct mailbox_version *)0)->key)];
    make_key(mb, key, sizeof key);
    uint32_t hash = key_hash(key);
    struct mailbox_version *v = lookup(key, hash, f);
    if (v)
        return v;
    pthread_mutex_t *bl = &build_lock[hash % VERSION_BUILD_STRIPES];
    pthread_mutex_lock(bl);
    v = lookup(key, hash, f); /* built while we waited */
    if (!v) {
        v = build(mb, idx, key, hash);
        if (v)
            publish(v);
    }
    pthread_mutex_unlock(bl);
    return v;
}

const struct mailbox_version *mailbox_version_get(struct mailbox *mb)
{
    struct index_folder f;
    struct mailbox_version *v = NULL;
    mb_lock(mb);
    struct mail_index *idx = mb_index(mb);
    if (idx && index_sync(idx, mb->name, mb->folderfd, &f) == 0)
        v = get_locked(mb, idx, &f);
    mb_unlock(mb);
    return v;
}

const struct mailbox_version *mailbox_version_ref(const struct mailbox_version *cv)
{
    struct mailbox_version *v = (struct mailbox_version *)cv;
    if (v)
        atomic_fetch_add(&v->refs, 1);
    return v;
}

static void version_free(struct mailbox_version *v)
{
    mailbox_snapshot_free(&v->snap);
    free(v);
}

void mailbox_version_put(const struct mailbox_version *cv)
{
    struct mailbox_version *v = (struct mailbox_version *)cv;
    if (!v)
        return;
    /* Not the last reference: no lock. The last one is dropped under the
     * table's lock, so a lookup cannot revive a version being freed. */
    unsigned r = atomic_load(&v->refs);
    while (r > 1)
        if (atomic_compare_exchange_weak(&v->refs, &r, r - 1))
            return;
    struct mailbox_version *dead = NULL;
    pthread_mutex_lock(&table_lock);
    bool last = atomic_fetch_sub(&v->refs, 1) == 1;
    if (last && v->linked)
        dead = retain_locked(v);
    else if (last)
        dead = v;
    pthread_mutex_unlock(&table_lock);
    if (dead)
        version_free(dead);
}

const struct mailbox_snapshot *mailbox_version_snap(const struct mailbox_version *v)
{
    return &v->snap;
}

void mailbox_version_flush(void)
{
    struct mailbox_version *dead[VERSION_RETAINED];
    size_t n = 0;
    pthread_mutex_lock(&table_lock);
    while (retained[0]) {
        struct mailbox_version *v = retained[0];
        unretain_locked(v);
        unlink_locked(v);
        dead[n++] = v;
    }
    pthread_mutex_unlock(&table_lock);
    for (size_t i = 0; i < n; i++)
        version_free(dead[i]);
}

size_t mailbox_version_count(void)
{
    size_t n = 0;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < VERSION_BUCKETS; i++)
        for (struct mailbox_version *v = table[i]; v; v = v->next)
            n++;
    pthread_mutex_unlock(&table_lock);
    return n;
}
