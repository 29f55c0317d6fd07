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

#include "store/scan_ahead.h"

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

static struct mailbox_version *version_new(const char *key, uint32_t hash)
{
    struct mailbox_version *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    atomic_init(&v->refs, 1);
    v->hash = hash;
    snprintf(v->key, sizeof v->key, "%s", key);
    return v;
}

/* Give back what the doubling over-allocated: a version lives long. */
static void snap_shrink(struct mailbox_snapshot *s, size_t cap)
{
    if (cap > s->n && s->n) {
        struct mailbox_msg *m = realloc(s->msgs, s->n * sizeof *m);
        if (m)
            s->msgs = m;
    }
}

/* Lists the folder into a new version (mb->mu held, the index synced). */
static struct mailbox_version *build(struct mailbox *mb, struct mail_index *idx,
                                     const char *key, uint32_t hash)
{
    struct mailbox_version *v = version_new(key, hash);
    if (!v)
        return NULL;
    struct index_folder f;
    struct push_ctx c = {&v->snap, 0};
    if (index_list_since(idx, mb->name, 0, &f, push_row, &c) < 0) {
        version_free(v);
        return NULL;
    }
    mb_snapshot_head(&v->snap, &f);
    snap_shrink(&v->snap, c.cap);
    return v;
}

/* The rows a sync's scan handed over (in base order), as a version. */
static int msg_uid_cmp(const void *a, const void *b)
{
    uint32_t x = ((const struct mailbox_msg *)a)->uid,
             y = ((const struct mailbox_msg *)b)->uid;
    return (x > y) - (x < y);
}

static bool uid_sorted(const struct mailbox_snapshot *s)
{
    for (size_t i = 1; i < s->n; i++)
        if (s->msgs[i - 1].uid > s->msgs[i].uid)
            return false;
    return true;
}

static struct mailbox_version *adopt(struct push_ctx *rows, const struct index_folder *f,
                                     const char *key, uint32_t hash)
{
    struct mailbox_version *v = version_new(key, hash);
    if (!v)
        return NULL;
    v->snap = *rows->s;
    memset(rows->s, 0, sizeof *rows->s);
    if (!uid_sorted(&v->snap))
        qsort(v->snap.msgs, v->snap.n, sizeof *v->snap.msgs, msg_uid_cmp);
    mb_snapshot_head(&v->snap, f);
    snap_shrink(&v->snap, rows->cap);
    return v;
}

/* The current version, building it if the table has none that shows f:
 * from rows (the sync's, when it scanned) or by listing the folder. */
static struct mailbox_version *get_locked(struct mailbox *mb, struct mail_index *idx,
                                          const struct index_folder *f,
                                          struct push_ctx *rows)
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
        v = rows ? adopt(rows, f, key, hash) : build(mb, idx, key, hash);
        if (v)
            publish(v);
    }
    pthread_mutex_unlock(bl);
    return v;
}

/* The version the table holds for the folder row as it is now, if any. */
static struct mailbox_version *current(struct mailbox *mb, struct mail_index *idx)
{
    struct index_folder f;
    char key[sizeof(((struct mailbox_version *)0)->key)];
    if (index_folder_read(idx, mb->name, &f) != 1)
        return NULL;
    make_key(mb, key, sizeof key);
    return lookup(key, key_hash(key), &f);
}

struct collect {
    struct push_ctx c;
    bool failed;
};

static int collect_row(void *arg, const struct index_row *r)
{
    struct collect *k = arg;
    if (!k->failed && mb_snapshot_push(k->c.s, &k->c.cap, r) < 0)
        k->failed = true; /* the version is listed instead */
    return 0;
}

const struct mailbox_version *mailbox_version_get(struct mailbox *mb)
{
    struct index_folder f;
    struct mailbox_version *v = NULL;
    struct mailbox_snapshot rows = {0};
    struct collect k = {{&rows, 0}, false};
    mb_lock(mb);
    struct mail_index *idx = mb_index(mb);
    /* A version that shows the folder before the sync is kept if the
     * sync changes nothing; without one, a sync that scans hands over
     * every row, and the new version is made of them (no listing). */
    struct mailbox_version *had = idx ? current(mb, idx) : NULL;
    struct scan_ahead *ahead = mb->ahead;
    mb->ahead = NULL; /* the sync takes it */
    int s = -1;
    if (idx)
        s = index_sync_rows(idx, mb->name, mb->folderfd, &f, had ? NULL : collect_row, &k,
                            ahead);
    else
        scan_ahead_free(ahead);
    if (s >= 0 && had && version_matches(had, &f)) {
        v = had;
        had = NULL;
    } else if (s >= 0) {
        v = get_locked(mb, idx, &f, s == 1 && !had && !k.failed ? &k.c : NULL);
    }
    mb_unlock(mb);
    mailbox_version_put(had);
    mailbox_snapshot_free(&rows);
    return v;
}

/* The table's version of key if it is still `from' (under table_lock). */
static bool still_current(const struct mailbox_version *from, const char *key,
                          uint32_t hash)
{
    bool same = false;
    pthread_mutex_lock(&table_lock);
    for (struct mailbox_version *v = table[hash % VERSION_BUCKETS]; v; v = v->next)
        if (v->hash == hash && strcmp(v->key, key) == 0) {
            same = v == from;
            break;
        }
    pthread_mutex_unlock(&table_lock);
    return same;
}

static struct mailbox_msg *find_uid(struct mailbox_snapshot *s, uint32_t uid)
{
    long i = mailbox_snapshot_find(s, uid);
    if (i < 0)
        return NULL;
    return &s->msgs[i];
}

/* from's list with the rows of changes applied (flags, keywords, modseq). */
static int apply_changes(struct mailbox_snapshot *to, const struct mailbox_snapshot *from,
                         const struct mailbox_snapshot *changes)
{
    to->msgs = malloc((from->n ? from->n : 1) * sizeof *to->msgs);
    if (!to->msgs)
        return -1;
    for (; to->n < from->n; to->n++) {
        struct mailbox_msg *m = &to->msgs[to->n];
        *m = from->msgs[to->n];
        if (m->keywords && !(m->keywords = strdup(m->keywords)))
            return -1;
    }
    for (size_t i = 0; i < changes->n; i++) {
        const struct mailbox_msg *c = &changes->msgs[i];
        struct mailbox_msg *m = find_uid(to, c->uid);
        if (!m)
            return -1;
        m->flags = c->flags;
        m->modseq = c->modseq;
        free(m->keywords);
        m->keywords = NULL;
        if (c->keywords && !(m->keywords = strdup(c->keywords)))
            return -1;
    }
    return 0;
}

void mb_version_advance(struct mailbox *mb, const struct index_folder *before,
                        const struct mailbox_snapshot *changes)
{
    char key[sizeof(((struct mailbox_version *)0)->key)];
    make_key(mb, key, sizeof key);
    uint32_t hash = key_hash(key);
    struct mailbox_version *from = lookup(key, hash, before);
    if (!from)
        return;
    pthread_mutex_t *bl = &build_lock[hash % VERSION_BUILD_STRIPES];
    pthread_mutex_lock(bl);
    struct mailbox_version *v = NULL;
    /* Another change published meanwhile: its builder listed it. */
    if (still_current(from, key, hash) && (v = version_new(key, hash))) {
        if (apply_changes(&v->snap, &from->snap, changes) == 0) {
            v->snap.uidvalidity = changes->uidvalidity;
            v->snap.uidnext = changes->uidnext;
            v->snap.highest_modseq = changes->highest_modseq;
            snprintf(v->snap.mailboxid, sizeof v->snap.mailboxid, "%s",
                     changes->mailboxid);
            publish(v);
        } else {
            version_free(v);
            v = NULL;
        }
    }
    pthread_mutex_unlock(bl);
    mailbox_version_put(from);
    mailbox_version_put(v); /* nobody holds it yet: listed, retained */
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
