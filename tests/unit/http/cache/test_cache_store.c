/* Unit tests of http/cache/store.c, entry.c and disk.c: both tiers' LRU
 * eviction, torn and corrupted disk entries (dropped, never served),
 * variants, readers while an entry is replaced (threads), 304 updates,
 * invalidation and purge. Each test gets its own temporary cache dir. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fields_util.h"
#include "http/cache/disk.h"
#include "http/cache/fields.h"
#include "http/cache/store.h"

static char dir[256];
static struct hdrs rs, rq;

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/portico-cache-test.XXXXXX");
    assert_non_null(mkdtemp(dir));
    strncat(dir, "/cache", sizeof dir - strlen(dir) - 1);
    return 0;
}

static int teardown(void **state)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[600];
    while (d && (de = readdir(d)) != NULL) {
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    *strrchr(dir, '/') = '\0';
    rmdir(dir);
    return 0;
}

static struct cache_store *open_store(uint64_t mem, uint64_t disk)
{
    struct cache_store_config cfg = {disk ? dir : NULL, mem, disk, 1 << 20};
    struct cache_store *s = cache_store_new(&cfg);
    assert_non_null(s);
    return s;
}

static char keybuf[512];

static struct http_str key(const char *uri)
{
    int n = cache_key("GET", S(uri), keybuf, sizeof keybuf);
    assert_true(n > 0);
    return (struct http_str){keybuf, (size_t)n};
}

/* Stores body under uri with the response fields `fields`. */
static void put(struct cache_store *s, const char *uri, const char *fields,
                const char *reqf, const char *body, size_t len)
{
    hdrs_set(&rs, fields);
    hdrs_set(&rq, reqf);
    struct cache_response r = {200, rs.h, rs.n, T0, T0};
    struct cache_insert *ins = cache_store_begin(s, key(uri), rq.h, rq.n, &r);
    assert_non_null(ins);
    /* In two chunks, as a body arrives. */
    assert_int_equal(cache_insert_append(ins, body, len / 2), 0);
    assert_int_equal(cache_insert_append(ins, body + len / 2, len - len / 2), 0);
    struct cache_entry *e = cache_insert_commit(ins);
    assert_non_null(e);
    cache_entry_release(e);
}

static struct cache_entry *get(struct cache_store *s, const char *uri, const char *reqf)
{
    hdrs_set(&rq, reqf);
    return cache_store_lookup(s, key(uri), rq.h, rq.n);
}

static bool has(struct cache_store *s, const char *uri)
{
    struct cache_entry *e = get(s, uri, "");
    cache_entry_release(e);
    return e != NULL;
}

static int count_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    uint8_t kh[32];
    uint64_t v;
    while (d && (de = readdir(d)) != NULL)
        n += cache_disk_parse_name(de->d_name, kh, &v);
    if (d)
        closedir(d);
    return n;
}

/* The path of the only entry file. */
static void only_file(char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    uint8_t kh[32];
    uint64_t v;
    out[0] = '\0';
    while (d && (de = readdir(d)) != NULL)
        if (cache_disk_parse_name(de->d_name, kh, &v))
            snprintf(out, cap, "%s/%s", dir, de->d_name);
    closedir(d);
    assert_true(out[0] != '\0');
}

static const char *CC = "Cache-Control: max-age=60\nContent-Type: text/plain\n";

static void store_roundtrip_memory(void **state)
{
    struct cache_store *s = open_store(1 << 20, 0);
    put(s, "http://a.example/x", CC, "", "hello world", 11);
    struct cache_entry *e = get(s, "http://A.EXAMPLE:80/x", "");
    assert_non_null(e);
    uint64_t len;
    const uint8_t *b = cache_entry_body(e, &len);
    assert_int_equal(len, 11);
    assert_memory_equal(b, "hello world", 11);
    const struct cache_response *r = cache_entry_response(e);
    assert_int_equal(r->status, 200);
    assert_int_equal(r->response_time, T0);
    assert_non_null(cache_field_get(r->h, r->n, "content-type"));
    cache_entry_release(e);
    assert_false(has(s, "http://a.example/y"));
    cache_store_free(s);
}

static void store_lru_memory(void **state)
{
    char body[1000];
    memset(body, 'x', sizeof body);
    /* Room for two entries of ~1.1 KB. */
    struct cache_store *s = open_store(2600, 0);
    put(s, "http://a.example/1", CC, "", body, sizeof body);
    put(s, "http://a.example/2", CC, "", body, sizeof body);
    assert_true(has(s, "http://a.example/1")); /* 1 is now the most recent */
    put(s, "http://a.example/3", CC, "", body, sizeof body);
    assert_true(has(s, "http://a.example/1"));
    assert_false(has(s, "http://a.example/2")); /* the least recently used went */
    assert_true(has(s, "http://a.example/3"));
    struct cache_store_stats st;
    cache_store_get_stats(s, &st);
    assert_int_equal(st.memory_entries, 2);
    assert_true(st.memory_bytes <= 2600);
    cache_store_free(s);
}

static void store_lru_disk(void **state)
{
    char body[1000];
    memset(body, 'y', sizeof body);
    /* Disk only (no memory tier): room for two files. */
    struct cache_store *s = open_store(0, 2600);
    put(s, "http://a.example/1", CC, "", body, sizeof body);
    put(s, "http://a.example/2", CC, "", body, sizeof body);
    assert_int_equal(count_files(), 2);
    assert_true(has(s, "http://a.example/1"));
    put(s, "http://a.example/3", CC, "", body, sizeof body);
    assert_int_equal(count_files(), 2);
    assert_true(has(s, "http://a.example/1"));
    assert_false(has(s, "http://a.example/2"));
    assert_true(has(s, "http://a.example/3"));
    cache_store_free(s);
}

static void store_disk_reindexed_at_start(void **state)
{
    struct cache_store *s = open_store(1 << 20, 1 << 20);
    put(s, "http://a.example/kept", CC, "", "persisted", 9);
    cache_store_free(s);
    /* A leftover temporary file is removed at start. */
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s/tmp.1.1", dir);
    close(open(tmp, O_CREAT | O_WRONLY, 0600));
    s = open_store(1 << 20, 1 << 20);
    assert_int_equal(access(tmp, F_OK), -1);
    struct cache_entry *e = get(s, "http://a.example/kept", "");
    assert_non_null(e);
    uint64_t len;
    assert_memory_equal(cache_entry_body(e, &len), "persisted", 9);
    cache_entry_release(e);
    cache_store_free(s);
}

static void store_disk_truncated_dropped(void **state)
{
    struct cache_store *s = open_store(1 << 20, 1 << 20);
    put(s, "http://a.example/t", CC, "", "0123456789abcdef", 16);
    cache_store_free(s);
    char path[600];
    only_file(path, sizeof path);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(truncate(path, st.st_size - 5), 0);
    s = open_store(1 << 20, 1 << 20);
    assert_false(has(s, "http://a.example/t"));
    assert_int_equal(count_files(), 0); /* and removed */
    cache_store_free(s);
}

static void store_disk_flipped_byte_dropped(void **state)
{
    struct cache_store *s = open_store(1 << 20, 1 << 20);
    put(s, "http://a.example/f", CC, "", "0123456789abcdef", 16);
    cache_store_free(s);
    char path[600];
    only_file(path, sizeof path);
    int fd = open(path, O_RDWR);
    struct stat st;
    fstat(fd, &st);
    unsigned char c;
    assert_int_equal(pread(fd, &c, 1, st.st_size - 3), 1);
    c ^= 0x20;
    assert_int_equal(pwrite(fd, &c, 1, st.st_size - 3), 1);
    close(fd);
    s = open_store(1 << 20, 1 << 20);
    assert_false(has(s, "http://a.example/f"));
    assert_int_equal(count_files(), 0);
    cache_store_free(s);
}

/* A large body in the disk tier is file-backed: only its head stays in
 * memory, the body is read from the file (entry.h). */
static uint8_t large[100 * 1024 + 3];

static void assert_big_body(struct cache_entry *e)
{
    uint64_t len, off;
    int fd;
    assert_null(cache_entry_body(e, &len));
    assert_int_equal(len, sizeof large);
    assert_true(cache_entry_file(e, &fd, &off));
    uint8_t *got = malloc(sizeof large);
    assert_int_equal(cache_entry_read_body(e, 0, got, sizeof large), 0);
    assert_memory_equal(got, large, sizeof large);
    assert_int_equal(pread(fd, got, 16, (off_t)off + 1000), 16);
    assert_memory_equal(got, large + 1000, 16);
    free(got);
}

static void store_disk_large_entry_file_backed(void **state)
{
    for (size_t i = 0; i < sizeof large; i++)
        large[i] = (uint8_t)(i * 7 + (i >> 8));
    struct cache_store *s = open_store(1 << 20, 1 << 22);
    put(s, "http://a.example/big", CC, "", (const char *)large, sizeof large);
    struct cache_entry *e = get(s, "http://a.example/big", "");
    assert_non_null(e);
    assert_big_body(e);
    assert_true(cache_entry_size(e) > sizeof large);
    struct cache_store_stats st;
    cache_store_get_stats(s, &st);
    assert_true(st.memory_bytes < 4096); /* the head only */
    /* A 304 update copies the body from the file. */
    hdrs_set(&rs, "Cache-Control: max-age=120\n");
    struct cache_entry *u = cache_store_update(s, e, rs.h, rs.n, T0 + 5, T0 + 5);
    assert_non_null(u);
    assert_big_body(u);
    cache_entry_release(u);
    cache_entry_release(e);
    cache_store_free(s);
    /* After a restart: verified when opened, file-backed again. */
    s = open_store(1 << 20, 1 << 22);
    e = get(s, "http://a.example/big", "");
    assert_non_null(e);
    assert_big_body(e);
    cache_entry_release(e);
    cache_store_free(s);
}

/* The body of a file-backed entry is not read on a hit, but its checksum
 * is verified when the file is opened: a flipped body byte or a
 * truncation is a miss, and the file is removed. */
static void store_disk_large_entry_damage_dropped(void **state)
{
    for (size_t i = 0; i < sizeof large; i++)
        large[i] = (uint8_t)(i * 13);
    for (int damage = 0; damage < 2; damage++) {
        struct cache_store *s = open_store(1 << 20, 1 << 22);
        put(s, "http://a.example/bd", CC, "", (const char *)large, sizeof large);
        cache_store_free(s);
        char path[600];
        only_file(path, sizeof path);
        int fd = open(path, O_RDWR);
        struct stat st;
        fstat(fd, &st);
        if (damage == 0) {
            unsigned char c;
            assert_int_equal(pread(fd, &c, 1, st.st_size / 2), 1);
            c ^= 0x01;
            assert_int_equal(pwrite(fd, &c, 1, st.st_size / 2), 1);
        } else {
            assert_int_equal(ftruncate(fd, st.st_size - 4096), 0);
        }
        close(fd);
        s = open_store(1 << 20, 1 << 22);
        assert_false(has(s, "http://a.example/bd"));
        assert_int_equal(count_files(), 0);
        cache_store_free(s);
    }
}

/* A file too large to be an entry (object_max + head room) is removed at
 * start instead of being indexed forever. */
static void store_disk_oversized_removed(void **state)
{
    struct cache_store *s = open_store(1 << 20, 1 << 24);
    put(s, "http://a.example/o", CC, "", "small", 5);
    cache_store_free(s);
    char path[600];
    only_file(path, sizeof path);
    assert_int_equal(truncate(path, 3 << 20), 0); /* object_max is 1 MiB */
    s = open_store(1 << 20, 1 << 24);
    assert_int_equal(count_files(), 0);
    struct cache_store_stats st;
    cache_store_get_stats(s, &st);
    assert_int_equal(st.disk_bytes, 0);
    cache_store_free(s);
}

static void store_disk_missing_file_is_miss(void **state)
{
    struct cache_store *s = open_store(0, 1 << 20);
    put(s, "http://a.example/m", CC, "", "body", 4);
    char path[600];
    only_file(path, sizeof path);
    unlink(path);
    assert_false(has(s, "http://a.example/m"));
    struct cache_store_stats st;
    cache_store_get_stats(s, &st);
    assert_int_equal(st.disk_entries, 0);
    cache_store_free(s);
}

static void store_vary_variants(void **state)
{
    struct cache_store *s = open_store(1 << 20, 1 << 20);
    const char *f = "Cache-Control: max-age=60\nVary: Accept-Encoding\n";
    put(s, "http://a.example/v", f, "Accept-Encoding: gzip\n", "GZIP", 4);
    put(s, "http://a.example/v", f, "Accept-Encoding: br\n", "BR", 2);
    put(s, "http://a.example/v", f, "", "IDENTITY", 8);
    uint64_t len;
    struct cache_entry *e = get(s, "http://a.example/v", "accept-encoding: GZIP\n");
    assert_non_null(e);
    assert_memory_equal(cache_entry_body(e, &len), "GZIP", 4);
    cache_entry_release(e);
    e = get(s, "http://a.example/v", "Accept-Encoding: br\n");
    assert_memory_equal(cache_entry_body(e, &len), "BR", 2);
    cache_entry_release(e);
    e = get(s, "http://a.example/v", "");
    assert_memory_equal(cache_entry_body(e, &len), "IDENTITY", 8);
    cache_entry_release(e);
    assert_null(get(s, "http://a.example/v", "Accept-Encoding: zstd\n"));
    struct cache_entry *all[8];
    size_t n = cache_store_variants(s, key("http://a.example/v"), all, 8);
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        cache_entry_release(all[i]);
    /* The same variant again replaces it. */
    put(s, "http://a.example/v", f, "Accept-Encoding: br\n", "BR2", 3);
    e = get(s, "http://a.example/v", "Accept-Encoding: br\n");
    assert_int_equal((cache_entry_body(e, &len), len), 3);
    cache_entry_release(e);
    assert_int_equal(count_files(), 3);
    cache_store_free(s);
}

static void store_object_max_abandoned(void **state)
{
    struct cache_store *s = open_store(1 << 22, 0); /* object_max is 1 MiB */
    static char big[600 * 1024];
    hdrs_set(&rs, CC);
    struct cache_response r = {200, rs.h, rs.n, T0, T0};
    struct cache_insert *ins =
        cache_store_begin(s, key("http://a.example/big"), NULL, 0, &r);
    assert_int_equal(cache_insert_append(ins, big, sizeof big), 0);
    assert_int_equal(cache_insert_append(ins, big, sizeof big), -1);
    assert_null(cache_insert_commit(ins));
    assert_false(has(s, "http://a.example/big"));
    /* Aborting stores nothing either. */
    ins = cache_store_begin(s, key("http://a.example/ab"), NULL, 0, &r);
    cache_insert_append(ins, "x", 1);
    cache_insert_abort(ins);
    assert_false(has(s, "http://a.example/ab"));
    cache_store_free(s);
}

static void store_update_304(void **state)
{
    struct cache_store *s = open_store(1 << 20, 1 << 20);
    put(s, "http://a.example/u", "Cache-Control: max-age=1\nETag: \"e\"\nAge: 50\n", "",
        "same body", 9);
    struct cache_entry *old = get(s, "http://a.example/u", "");
    struct hdrs h3;
    hdrs_set(&h3, "Cache-Control: max-age=300\nETag: \"e\"\n");
    struct cache_entry *e = cache_store_update(s, old, h3.h, h3.n, T0 + 100, T0 + 101);
    assert_non_null(e);
    cache_entry_release(e);
    cache_entry_release(old);
    e = get(s, "http://a.example/u", "");
    const struct cache_response *r = cache_entry_response(e);
    assert_int_equal(r->response_time, T0 + 101);
    assert_true(
        http_str_ieq(*cache_field_get(r->h, r->n, "cache-control"), "max-age=300"));
    assert_null(cache_field_get(r->h, r->n, "age"));
    uint64_t len;
    assert_memory_equal(cache_entry_body(e, &len), "same body", 9);
    cache_entry_release(e);
    assert_int_equal(count_files(), 1);
    cache_store_free(s);
}

static void store_invalidate_and_purge(void **state)
{
    struct cache_store *s = open_store(1 << 20, 1 << 20);
    put(s, "http://a.example/i", CC, "", "i", 1);
    put(s, "http://a.example/j", CC, "", "j", 1);
    put(s, "http://a.example/k", CC, "", "k", 1);
    assert_int_equal(cache_store_invalidate(s, S("http://A.example/i")), 1);
    assert_false(has(s, "http://a.example/i"));
    assert_true(has(s, "http://a.example/j"));
    assert_int_equal(count_files(), 2);
    /* `portico cache purge URL` on the directory, the server running. */
    assert_int_equal(cache_disk_purge_uri(dir, S("http://a.example/j")), 1);
    cache_store_sync_purged(s);
    assert_false(has(s, "http://a.example/j"));
    assert_true(has(s, "http://a.example/k"));
    cache_store_purge_all(s);
    assert_false(has(s, "http://a.example/k"));
    assert_int_equal(count_files(), 0);
    put(s, "http://a.example/l", CC, "", "l", 1);
    assert_int_equal(cache_disk_purge_all(dir), 1);
    cache_store_sync_purged(s);
    assert_false(has(s, "http://a.example/l"));
    cache_store_free(s);
}

/* The blob format alone: every truncation and every flipped byte of a
 * committed entry is refused (entry.h: lengths and SHA-256). */
static void entry_blob_refuses_any_damage(void **state)
{
    struct cache_store *s = open_store(1 << 20, 0);
    hdrs_set(&rs, "Cache-Control: max-age=60\nVary: Accept\nETag: \"x\"\n");
    hdrs_set(&rq, "Accept: text/html\n");
    struct cache_response r = {200, rs.h, rs.n, T0, T0 + 1};
    struct cache_insert *ins =
        cache_store_begin(s, key("http://a.example/b"), rq.h, rq.n, &r);
    cache_insert_append(ins, "body bytes", 10);
    struct cache_entry *e = cache_insert_commit(ins);
    size_t len;
    const uint8_t *blob = cache_entry_blob(e, &len);
    uint8_t *copy = malloc(len);
    memcpy(copy, blob, len);
    struct cache_entry *again = cache_entry_from_blob(copy, len);
    assert_non_null(again); /* it now owns copy */
    const struct cache_response *ar = cache_entry_response(again);
    assert_int_equal(ar->status, 200);
    assert_int_equal(ar->response_time, T0 + 1);
    assert_int_equal(ar->n, 3);
    assert_int_equal(cache_entry_variant(again), cache_entry_variant(e));
    size_t nsel;
    const struct http_header *sel = cache_entry_request_fields(again, &nsel);
    assert_int_equal(nsel, 1);
    assert_true(http_str_ieq(sel[0].value, "text/html"));
    cache_entry_release(again);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *t = malloc(len);
        memcpy(t, blob, len);
        assert_null(cache_entry_from_blob(t, cut));
        free(t);
    }
    for (size_t i = 0; i < len; i++) {
        uint8_t *t = malloc(len);
        memcpy(t, blob, len);
        t[i] ^= 0x01;
        assert_null(cache_entry_from_blob(t, len));
        free(t);
    }
    cache_entry_release(e);
    cache_store_free(s);
}

/* Readers on several threads stream the entry while a writer replaces it:
 * every body read is whole and of one version. */
struct race {
    struct cache_store *s;
    atomic_bool stop;
    atomic_long reads;
    atomic_int bad;
};

#define RACE_BODY 65536
static char bodies[2][RACE_BODY];

static void *reader(void *arg)
{
    struct race *r = arg;
    char kb[256];
    int kn = cache_key("GET", S("http://a.example/race"), kb, sizeof kb);
    struct http_str k = {kb, (size_t)kn};
    for (long i = 0; i < 200000 && !atomic_load(&r->stop); i++) {
        struct cache_entry *e = cache_store_lookup(r->s, k, NULL, 0);
        if (!e)
            continue;
        uint64_t len;
        cache_entry_body(e, &len); /* file-backed (64 KiB): read from its file */
        char piece[512], first = 0;
        for (uint64_t j = 0; j < len; j += sizeof piece) { /* stream it in pieces */
            size_t n = len - j < sizeof piece ? (size_t)(len - j) : sizeof piece;
            if (cache_entry_read_body(e, j, piece, n) < 0)
                atomic_fetch_add(&r->bad, 1);
            if (j == 0)
                first = piece[0];
            if (memchr(piece, first == 'A' ? 'B' : 'A', n))
                atomic_fetch_add(&r->bad, 1);
        }
        if (len != RACE_BODY)
            atomic_fetch_add(&r->bad, 1);
        cache_entry_release(e);
        atomic_fetch_add(&r->reads, 1);
    }
    return NULL;
}

static void race_with(uint64_t memory_max)
{
    memset(bodies[0], 'A', RACE_BODY);
    memset(bodies[1], 'B', RACE_BODY);
    struct race r = {.s = open_store(memory_max, 1 << 22)};
    char kb[256];
    int kn = cache_key("GET", S("http://a.example/race"), kb, sizeof kb);
    struct http_str k = {kb, (size_t)kn};
    struct hdrs h;
    hdrs_set(&h, CC);
    struct cache_response resp = {200, h.h, h.n, T0, T0};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, reader, &r);
    for (int i = 0; i < 300; i++) {
        struct cache_insert *ins = cache_store_begin(r.s, k, NULL, 0, &resp);
        cache_insert_append(ins, bodies[i & 1], RACE_BODY);
        cache_entry_release(cache_insert_commit(ins));
        if (i % 50 == 0) /* and drop it from memory now and then */
            cache_store_invalidate(r.s, S("http://a.example/race"));
    }
    atomic_store(&r.stop, true);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&r.bad), 0);
    assert_true(atomic_load(&r.reads) > 0);
    cache_store_free(r.s);
}

static void store_concurrent_readers_replace(void **state)
{
    race_with(1 << 22);
}

/* The same with no memory tier: readers load the file while the writer
 * renames a new one over it. */
static void store_concurrent_disk_readers_replace(void **state)
{
    race_with(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(store_roundtrip_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(store_lru_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(store_lru_disk, setup, teardown),
        cmocka_unit_test_setup_teardown(store_disk_reindexed_at_start, setup, teardown),
        cmocka_unit_test_setup_teardown(store_disk_truncated_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(store_disk_flipped_byte_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(store_disk_large_entry_file_backed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(store_disk_large_entry_damage_dropped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(store_disk_missing_file_is_miss, setup, teardown),
        cmocka_unit_test_setup_teardown(store_vary_variants, setup, teardown),
        cmocka_unit_test_setup_teardown(store_object_max_abandoned, setup, teardown),
        cmocka_unit_test_setup_teardown(store_update_304, setup, teardown),
        cmocka_unit_test_setup_teardown(store_invalidate_and_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(store_concurrent_readers_replace, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(entry_blob_refuses_any_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(store_disk_oversized_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(store_concurrent_disk_readers_replace, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
