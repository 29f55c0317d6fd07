/* store: the two-tier index of cache entries (see store.h). A node is one
 * variant of one key; it holds the entry while it is in the memory tier
 * and the size of its file while it is in the disk tier, and sits on each
 * tier's LRU list (front: most recently used). */
#include "http/cache/store.h"

#include "http/cache/disk.h"
#include "http/cache/fields.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CANDIDATES 16          /* variants of one key looked at per lookup */
#define DISK_META_SLACK (1u << 20) /* key and head around the largest body */
/* Entry files this large are served from the file (file-backed entries,
 * entry.h): only their head is held in memory. Smaller ones are read
 * whole (head and body leave in one write). */
#define FILE_BACKED_MIN (32u << 10)
#define OPEN_FILES_MAX 256       /* file-backed entries in the memory tier */
#define UPDATE_CHUNK (64u << 10) /* body bytes copied per read by a 304 update */

struct link {
    struct link *prev, *next;
};

struct node {
    uint8_t keyhash[32];
    uint64_t variant;
    struct cache_entry *mem; /* in the memory tier */
    uint64_t mem_size;
    uint64_t disk_size; /* in the disk tier when non-zero */
    int64_t mtime;      /* of its file, for the LRU order at start */
    struct node *hnext;
    struct link mlink, dlink;
};

struct cache_store {
    pthread_mutex_t lock;
    struct cache_store_config cfg;
    EVP_MD *sha256; /* fetched once for the key hashes */
    char *dir;
    int dfd;
    struct node **buckets;
    size_t nbuckets, nnodes;
    struct link mlru, dlru;
    struct cache_store_stats st;
    size_t open_files; /* file-backed entries in the memory tier */
    int64_t purged_seen;
    time_t purged_checked;
};

struct cache_insert {
    struct cache_store *s;
    struct entry_builder b;
};

#define NODE_OF(l, member) ((struct node *)((char *)(l)-offsetof(struct node, member)))

/* ---- lists and the hash table ------------------------------------------ */

static void list_init(struct link *h)
{
    h->prev = h->next = h;
}

static void list_unlink(struct link *l)
{
    if (!l->next)
        return;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->prev = l->next = NULL;
}

static void list_front(struct link *h, struct link *l)
{
    list_unlink(l);
    l->next = h->next;
    l->prev = h;
    h->next->prev = l;
    h->next = l;
}

static size_t bucket_of(const struct cache_store *s, const uint8_t kh[32])
{
    uint64_t v;
    memcpy(&v, kh, sizeof v);
    return (size_t)(v % s->nbuckets);
}

static void grow(struct cache_store *s)
{
    size_t n = s->nbuckets * 2;
    struct node **b = calloc(n, sizeof *b);
    if (!b)
        return;
    struct node **old = s->buckets;
    size_t oldn = s->nbuckets;
    s->buckets = b;
    s->nbuckets = n;
    for (size_t i = 0; i < oldn; i++)
        while (old[i]) {
            struct node *x = old[i];
            old[i] = x->hnext;
            size_t k = bucket_of(s, x->keyhash);
            x->hnext = b[k];
            b[k] = x;
        }
    free(old);
}

static struct node *node_find(struct cache_store *s, const uint8_t kh[32],
                              uint64_t variant)
{
    for (struct node *x = s->buckets[bucket_of(s, kh)]; x; x = x->hnext)
        if (x->variant == variant && memcmp(x->keyhash, kh, 32) == 0)
            return x;
    return NULL;
}

static struct node *node_get(struct cache_store *s, const uint8_t kh[32],
                             uint64_t variant)
{
    struct node *x = node_find(s, kh, variant);
    if (x)
        return x;
    if (s->nnodes >= s->nbuckets)
        grow(s);
    x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    memcpy(x->keyhash, kh, 32);
    x->variant = variant;
    size_t k = bucket_of(s, kh);
    x->hnext = s->buckets[k];
    s->buckets[k] = x;
    s->nnodes++;
    return x;
}

/* ---- the tiers ---------------------------------------------------------- */

static bool file_backed(const struct cache_entry *e)
{
    int fd;
    uint64_t off;
    return cache_entry_file(e, &fd, &off);
}

static void mem_drop(struct cache_store *s, struct node *x)
{
    if (!x->mem)
        return;
    if (file_backed(x->mem))
        s->open_files--;
    cache_entry_release(x->mem);
    x->mem = NULL;
    s->st.memory_bytes -= x->mem_size;
    s->st.memory_entries--;
    list_unlink(&x->mlink);
}

static void disk_drop(struct cache_store *s, struct node *x, bool unlink_file)
{
    if (!x->disk_size)
        return;
    if (unlink_file && s->dfd >= 0) {
        char name[CACHE_DISK_NAME_LEN + 1];
        cache_disk_name(x->keyhash, x->variant, name);
        unlinkat(s->dfd, name, 0);
    }
    s->st.disk_bytes -= x->disk_size;
    s->st.disk_entries--;
    x->disk_size = 0;
    list_unlink(&x->dlink);
}

/* Frees a node in neither tier. */
static void node_gc(struct cache_store *s, struct node *x)
{
    if (x->mem || x->disk_size)
        return;
    struct node **pp = &s->buckets[bucket_of(s, x->keyhash)];
    while (*pp && *pp != x)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = x->hnext;
    s->nnodes--;
    free(x);
}

static void node_remove(struct cache_store *s, struct node *x)
{
    mem_drop(s, x);
    disk_drop(s, x, true);
    node_gc(s, x);
}

/* The least recently used file-backed entry of the memory tier. */
static struct node *oldest_file(struct cache_store *s)
{
    for (struct link *l = s->mlru.prev; l != &s->mlru; l = l->prev)
        if (file_backed(NODE_OF(l, mlink)->mem))
            return NODE_OF(l, mlink);
    return NULL;
}

static void evict(struct cache_store *s)
{
    while (s->open_files > OPEN_FILES_MAX) { /* their descriptors are the limit */
        struct node *x = oldest_file(s);
        if (!x)
            break;
        mem_drop(s, x);
        node_gc(s, x);
    }
    while (s->st.memory_bytes > s->cfg.memory_max && s->mlru.prev != &s->mlru) {
        struct node *x = NODE_OF(s->mlru.prev, mlink);
        mem_drop(s, x);
        node_gc(s, x);
    }
    while (s->st.disk_bytes > s->cfg.disk_max && s->dlru.prev != &s->dlru) {
        struct node *x = NODE_OF(s->dlru.prev, dlink);
        disk_drop(s, x, true);
        node_gc(s, x);
    }
}

static void mem_put(struct cache_store *s, struct node *x, struct cache_entry *e)
{
    size_t len;
    cache_entry_blob(e, &len);
    mem_drop(s, x);
    if (len > s->cfg.memory_max)
        return;
    cache_entry_ref(e);
    if (file_backed(e))
        s->open_files++;
    x->mem = e;
    x->mem_size = len;
    s->st.memory_bytes += len;
    s->st.memory_entries++;
    list_front(&s->mlru, &x->mlink);
}

static void disk_put(struct cache_store *s, struct node *x, uint64_t size)
{
    disk_drop(s, x, false);
    x->disk_size = size;
    s->st.disk_bytes += size;
    s->st.disk_entries++;
    list_front(&s->dlru, &x->dlink);
}

static void touch(struct cache_store *s, struct node *x)
{
    if (x->mem)
        list_front(&s->mlru, &x->mlink);
    if (x->disk_size)
        list_front(&s->dlru, &x->dlink);
}

/* ---- opening: the index of the files already there ----------------------- */

struct scan_ctx {
    struct cache_store *s;
    struct node **found;
    size_t n, cap;
};

static void on_file(const char *name, uint64_t size, int64_t mtime, void *arg)
{
    struct scan_ctx *c = arg;
    uint8_t kh[32];
    uint64_t v;
    if (!cache_disk_parse_name(name, kh, &v))
        return;
    if (size == 0 || size > c->s->cfg.object_max + DISK_META_SLACK) {
        unlinkat(c->s->dfd, name, 0); /* could never be served */
        return;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        struct node **f = realloc(c->found, cap * sizeof *f);
        if (!f)
            return;
        c->found = f;
        c->cap = cap;
    }
    struct node *x = node_get(c->s, kh, v);
    if (!x)
        return;
    x->mtime = mtime;
    x->disk_size = size;
    c->found[c->n++] = x;
}

static int by_mtime(const void *a, const void *b)
{
    const struct node *x = *(struct node *const *)a, *y = *(struct node *const *)b;
    return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

static void reindex(struct cache_store *s)
{
    struct scan_ctx c = {.s = s};
    cache_disk_scan(s->dfd, on_file, &c);
    if (c.n)
        qsort(c.found, c.n, sizeof *c.found, by_mtime);
    for (size_t i = 0; i < c.n; i++) { /* oldest first, so newest ends in front */
        uint64_t size = c.found[i]->disk_size;
        c.found[i]->disk_size = 0;
        disk_put(s, c.found[i], size);
    }
    free(c.found);
    s->purged_seen = cache_disk_purged_mtime(s->dfd);
    evict(s);
}

struct cache_store *cache_store_new(const struct cache_store_config *cfg)
{
    struct cache_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->dfd = -1;
    s->nbuckets = 1024;
    s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
    s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    list_init(&s->mlru);
    list_init(&s->dlru);
    pthread_mutex_init(&s->lock, NULL);
    if (cfg->dir && cfg->disk_max) {
        s->dir = strdup(cfg->dir);
        s->dfd = cache_disk_open(cfg->dir);
    }
    if (!s->buckets || !s->sha256 ||
        (cfg->dir && cfg->disk_max && (!s->dir || s->dfd < 0))) {
        cache_store_free(s);
        return NULL;
    }
    s->cfg.dir = s->dir;
    if (s->dfd < 0)
        s->cfg.disk_max = 0;
    else
        reindex(s);
    return s;
}

void cache_store_free(struct cache_store *s)
{
    if (!s)
        return;
    for (size_t i = 0; s->buckets && i < s->nbuckets; i++)
        while (s->buckets[i]) {
            struct node *x = s->buckets[i];
            s->buckets[i] = x->hnext;
            cache_entry_release(x->mem);
            free(x);
        }
    free(s->buckets);
    EVP_MD_free(s->sha256);
    if (s->dfd >= 0)
        close(s->dfd);
    free(s->dir);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

/* ---- purges by another process ---------------------------------------------- */

static void sync_purged_locked(struct cache_store *s)
{
    int64_t m = cache_disk_purged_mtime(s->dfd);
    if (m == s->purged_seen)
        return;
    s->purged_seen = m;
    char name[CACHE_DISK_NAME_LEN + 1];
    for (size_t i = 0; i < s->nbuckets; i++)
        for (struct node *x = s->buckets[i], *next; x; x = next) {
            next = x->hnext;
            cache_disk_name(x->keyhash, x->variant, name);
            if (x->disk_size && faccessat(s->dfd, name, F_OK, 0) < 0) {
                mem_drop(s, x);
                disk_drop(s, x, false);
                node_gc(s, x);
            }
        }
}

void cache_store_sync_purged(struct cache_store *s)
{
    if (s->dfd < 0)
        return;
    pthread_mutex_lock(&s->lock);
    sync_purged_locked(s);
    s->purged_checked = time(NULL);
    pthread_mutex_unlock(&s->lock);
}

static void maybe_sync_purged(struct cache_store *s)
{
    time_t now = time(NULL);
    if (s->dfd < 0 || now == s->purged_checked)
        return;
    s->purged_checked = now;
    sync_purged_locked(s);
}

/* ---- lookup ------------------------------------------------------------------ */

static bool key_eq(struct http_str a, struct http_str b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

static bool entry_matches(const struct cache_entry *e, struct http_str key,
                          const struct http_header *req, size_t nreq)
{
    if (!key_eq(cache_entry_key(e), key))
        return false;
    const struct cache_response *r = cache_entry_response(e);
    size_t nsel;
    const struct http_header *sel = cache_entry_request_fields(e, &nsel);
    return cache_vary_match(r->h, r->n, sel, nsel, req, nreq);
}

/* An entry file checked: a large one file-backed (its checksum verified
 * by reading it through once, entry.h), a small one read whole. NULL when
 * missing, torn, corrupt or too large. */
static struct cache_entry *read_entry(struct cache_store *s, const char *name)
{
    uint64_t max = s->cfg.object_max + DISK_META_SLACK, size = 0;
    int fd = cache_disk_open_entry(s->dfd, name, &size);
    if (fd < 0)
        return NULL;
    if (size >= FILE_BACKED_MIN && size <= max) {
        struct cache_entry *e = cache_entry_from_file(fd, size, DISK_META_SLACK);
        if (!e)
            close(fd);
        return e;
    }
    close(fd);
    size_t len;
    uint8_t *blob = cache_disk_read(s->dfd, name, max, &len);
    struct cache_entry *e = blob ? cache_entry_from_blob(blob, len) : NULL;
    if (blob && !e)
        free(blob);
    return e;
}

/* A disk entry read and checked, then put in the memory tier; NULL (and
 * the node and file dropped) when it is missing, torn or corrupt. */
static struct cache_entry *load(struct cache_store *s, const uint8_t kh[32],
                                uint64_t variant)
{
    char name[CACHE_DISK_NAME_LEN + 1];
    cache_disk_name(kh, variant, name);
    struct cache_entry *e = read_entry(s, name);
    pthread_mutex_lock(&s->lock);
    struct node *x = node_find(s, kh, variant);
    if (x && !e && !x->mem) {
        disk_drop(s, x, true); /* torn, corrupt, too large or already gone */
        node_gc(s, x);
    } else if (x && e && !x->mem) {
        mem_put(s, x, e);
        touch(s, x);
        evict(s);
    }
    pthread_mutex_unlock(&s->lock);
    return e;
}

struct disk_ref {
    uint8_t kh[32];
    uint64_t variant;
};

/* Under the lock: memory-resident variants of kh (referenced) into mem[],
 * disk-only ones into disk[]. */
static void candidates(struct cache_store *s, const uint8_t kh[32],
                       struct cache_entry **mem, size_t *nm, struct disk_ref *disk,
                       size_t *nd)
{
    *nm = *nd = 0;
    for (struct node *x = s->buckets[bucket_of(s, kh)]; x; x = x->hnext) {
        if (memcmp(x->keyhash, kh, 32) != 0)
            continue;
        if (x->mem && *nm < MAX_CANDIDATES) {
            cache_entry_ref(x->mem);
            mem[(*nm)++] = x->mem;
        } else if (!x->mem && x->disk_size && *nd < MAX_CANDIDATES) {
            memcpy(disk[*nd].kh, kh, 32);
            disk[(*nd)++].variant = x->variant;
        }
    }
}

static void touch_entry(struct cache_store *s, const uint8_t kh[32],
                        struct cache_entry *e)
{
    struct node *x = node_find(s, kh, cache_entry_variant(e));
    if (x && x->mem == e)
        touch(s, x);
}

/* The most recent of the matching memory candidates; releases the rest. */
static struct cache_entry *best_of(struct cache_entry **mem, size_t nm,
                                   struct http_str key, const struct http_header *req,
                                   size_t nreq)
{
    struct cache_entry *best = NULL;
    for (size_t i = 0; i < nm; i++) {
        struct cache_entry *e = mem[i];
        if (entry_matches(e, key, req, nreq) &&
            (!best || cache_entry_response(e)->response_time >
                          cache_entry_response(best)->response_time)) {
            cache_entry_release(best);
            best = e;
        } else {
            cache_entry_release(e);
        }
    }
    return best;
}

struct cache_entry *cache_store_lookup(struct cache_store *s, struct http_str key,
                                       const struct http_header *req, size_t nreq)
{
    uint8_t kh[32];
    cache_key_hash_md(s->sha256, key, kh);
    struct cache_entry *mem[MAX_CANDIDATES];
    struct disk_ref disk[MAX_CANDIDATES];
    size_t nm, nd;
    /* One critical section for a memory hit: the Vary match is short. */
    pthread_mutex_lock(&s->lock);
    maybe_sync_purged(s);
    candidates(s, kh, mem, &nm, disk, &nd);
    struct cache_entry *best = best_of(mem, nm, key, req, nreq);
    if (best)
        touch_entry(s, kh, best);
    pthread_mutex_unlock(&s->lock);
    if (best)
        return best;
    for (size_t i = 0; i < nd; i++) {
        struct cache_entry *e = load(s, disk[i].kh, disk[i].variant);
        if (e && entry_matches(e, key, req, nreq))
            return e;
        cache_entry_release(e);
    }
    return NULL;
}

size_t cache_store_variants(struct cache_store *s, struct http_str key,
                            struct cache_entry **out, size_t cap)
{
    uint8_t kh[32];
    cache_key_hash_md(s->sha256, key, kh);
    struct cache_entry *mem[MAX_CANDIDATES];
    struct disk_ref disk[MAX_CANDIDATES];
    size_t nm, nd, k = 0;
    pthread_mutex_lock(&s->lock);
    candidates(s, kh, mem, &nm, disk, &nd);
    pthread_mutex_unlock(&s->lock);
    for (size_t i = 0; i < nm; i++) {
        if (k < cap && key_eq(cache_entry_key(mem[i]), key))
            out[k++] = mem[i];
        else
            cache_entry_release(mem[i]);
    }
    for (size_t i = 0; i < nd; i++) {
        struct cache_entry *e = load(s, disk[i].kh, disk[i].variant);
        if (e && k < cap && key_eq(cache_entry_key(e), key))
            out[k++] = e;
        else
            cache_entry_release(e);
    }
    return k;
}

/* ---- inserting ----------------------------------------------------------------- */

struct cache_insert *cache_store_begin(struct cache_store *s, struct http_str key,
                                       const struct http_header *req, size_t nreq,
                                       const struct cache_response *r)
{
    if ((s->cfg.memory_max == 0 && s->cfg.disk_max == 0) || r->n > CACHE_ENTRY_MAX_FIELDS)
        return NULL;
    struct cache_insert *ins = malloc(sizeof *ins);
    struct http_header *f = malloc(CACHE_ENTRY_MAX_FIELDS * sizeof *f);
    int rc = -1;
    if (ins && f) {
        struct cache_response fr = *r;
        fr.h = f;
        fr.n = cache_fields_filter(r->h, r->n, f, CACHE_ENTRY_MAX_FIELDS);
        ins->s = s;
        rc = entry_builder_init(&ins->b, key, &fr, req, nreq, s->cfg.object_max);
    }
    free(f);
    if (rc < 0) {
        free(ins);
        return NULL;
    }
    return ins;
}

int cache_insert_append(struct cache_insert *ins, const void *p, size_t n)
{
    return entry_builder_append(&ins->b, p, n);
}

void cache_insert_abort(struct cache_insert *ins)
{
    if (!ins)
        return;
    entry_builder_discard(&ins->b);
    free(ins);
}

static void publish(struct cache_store *s, struct cache_entry *e, bool on_disk,
                    size_t len)
{
    uint8_t kh[32];
    cache_key_hash_md(s->sha256, cache_entry_key(e), kh);
    pthread_mutex_lock(&s->lock);
    struct node *x = node_get(s, kh, cache_entry_variant(e));
    if (x) {
        if (on_disk)
            disk_put(s, x, len);
        else
            disk_drop(s, x, true); /* an older file of this variant must not come back */
        mem_put(s, x, e);
        evict(s);
        node_gc(s, x);
    }
    pthread_mutex_unlock(&s->lock);
}

/* A large entry just written to the file open as fd: the memory copy of
 * its body is let go, the file serves it (entry.h). */
static struct cache_entry *file_twin(struct cache_entry *e, int fd)
{
    if (fd < 0)
        return e;
    struct cache_entry *fe = cache_entry_with_file(e, fd);
    if (!fe) {
        close(fd);
        return e;
    }
    cache_entry_release(e);
    return fe;
}

struct cache_entry *cache_insert_commit(struct cache_insert *ins)
{
    struct cache_store *s = ins->s;
    struct cache_entry *e = entry_builder_finish(&ins->b);
    free(ins);
    if (!e)
        return NULL;
    size_t len;
    const uint8_t *blob = cache_entry_blob(e, &len);
    bool on_disk = false;
    if (s->dfd >= 0 && len <= s->cfg.disk_max) {
        char name[CACHE_DISK_NAME_LEN + 1];
        uint8_t kh[32];
        cache_key_hash_md(s->sha256, cache_entry_key(e), kh);
        cache_disk_name(kh, cache_entry_variant(e), name);
        int keep = -1;
        on_disk = cache_disk_write(s->dfd, name, blob, len,
                                   len >= FILE_BACKED_MIN ? &keep : NULL) == 0;
        e = file_twin(e, keep);
    }
    publish(s, e, on_disk, len);
    return e;
}

/* The stored body into ins: at once from memory, or read from the file
 * in pieces. */
static int copy_body(struct cache_insert *ins, const struct cache_entry *stored)
{
    uint64_t len;
    const uint8_t *body = cache_entry_body(stored, &len);
    if (body)
        return cache_insert_append(ins, body, (size_t)len);
    uint8_t *buf = malloc(UPDATE_CHUNK);
    int rc = buf ? 0 : -1;
    for (uint64_t off = 0; rc == 0 && off < len;) {
        size_t n = len - off < UPDATE_CHUNK ? (size_t)(len - off) : UPDATE_CHUNK;
        rc = cache_entry_read_body(stored, off, buf, n);
        if (rc == 0)
            rc = cache_insert_append(ins, buf, n);
        off += n;
    }
    free(buf);
    return rc;
}

struct cache_entry *cache_store_update(struct cache_store *s, struct cache_entry *stored,
                                       const struct http_header *h304, size_t n304,
                                       time_t request_time, time_t response_time)
{
    const struct cache_response *old = cache_entry_response(stored);
    struct http_header *merged = malloc(CACHE_ENTRY_MAX_FIELDS * sizeof *merged);
    if (!merged)
        return NULL;
    struct cache_response r = {old->status, merged, 0, request_time, response_time};
    r.n = cache_merge_304(old->h, old->n, h304, n304, merged, CACHE_ENTRY_MAX_FIELDS);
    size_t nsel;
    const struct http_header *sel = cache_entry_request_fields(stored, &nsel);
    struct cache_insert *ins =
        cache_store_begin(s, cache_entry_key(stored), sel, nsel, &r);
    free(merged);
    if (!ins)
        return NULL;
    if (copy_body(ins, stored) < 0) {
        cache_insert_abort(ins);
        return NULL;
    }
    return cache_insert_commit(ins);
}

/* ---- invalidation and purge ------------------------------------------------------ */

static int remove_key(struct cache_store *s, const uint8_t kh[32])
{
    int n = 0;
    for (struct node *x = s->buckets[bucket_of(s, kh)], *next; x; x = next) {
        next = x->hnext;
        if (memcmp(x->keyhash, kh, 32) == 0) {
            node_remove(s, x);
            n++;
        }
    }
    return n;
}

int cache_store_invalidate(struct cache_store *s, struct http_str uri)
{
    static const char *const methods[] = {"GET", "HEAD"};
    char *key = malloc(CACHE_URI_MAX + 8);
    int removed = 0;
    for (int i = 0; key && i < 2; i++) {
        int n = cache_key(methods[i], uri, key, CACHE_URI_MAX + 8);
        if (n < 0)
            break;
        uint8_t kh[32];
        cache_key_hash_md(s->sha256, (struct http_str){key, (size_t)n}, kh);
        pthread_mutex_lock(&s->lock);
        removed += remove_key(s, kh);
        pthread_mutex_unlock(&s->lock);
    }
    free(key);
    return removed;
}

void cache_store_purge_all(struct cache_store *s)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nbuckets; i++)
        while (s->buckets[i])
            node_remove(s, s->buckets[i]);
    if (s->dir)
        cache_disk_purge_all(s->dir);
    if (s->dfd >= 0)
        s->purged_seen = cache_disk_purged_mtime(s->dfd);
    pthread_mutex_unlock(&s->lock);
}

void cache_store_get_stats(struct cache_store *s, struct cache_store_stats *st)
{
    pthread_mutex_lock(&s->lock);
    *st = s->st;
    pthread_mutex_unlock(&s->lock);
}
