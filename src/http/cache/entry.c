/* entry: the immutable, reference-counted stored response and its blob
 * format (see entry.h), checked with SHA-256 when read back; a file-backed
 * entry keeps only its head in memory and its verified file open. */
#include "http/cache/entry.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define VERIFY_CHUNK (64u << 10) /* file bytes hashed per read */

struct cache_entry {
    atomic_int refs;
    uint8_t *blob;
    size_t blob_len;
    struct http_str key;
    struct cache_response resp;
    struct http_header *req_fields;
    size_t nreq;
    const uint8_t *body; /* NULL for a file-backed entry */
    uint64_t body_len;
    int fd;            /* file-backed: the entry file, verified; else -1 */
    uint64_t body_off; /* file-backed: where the body starts in it */
    uint64_t variant;
    struct http_header fields[]; /* response fields, then request fields */
};

static const uint8_t magic[4] = {'P', 'C', 'E', '1'};

/* ---- little-endian integers ----------------------------------------- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void sha256(const void *p, size_t n, uint8_t out[32])
{
    unsigned int len = 32;
    EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void cache_key_hash(struct http_str key, uint8_t out[32])
{
    sha256(key.p, key.n, out);
}

void cache_key_hash_md(const struct evp_md_st *md, struct http_str key, uint8_t out[32])
{
    unsigned int len = 32;
    EVP_Digest(key.p, key.n, out, &len, md, NULL);
}

void cache_key_hex(const uint8_t hash[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[hash[i] >> 4];
        out[2 * i + 1] = hex[hash[i] & 15];
    }
    out[64] = '\0';
}

/* ---- accessors -------------------------------------------------------- */

const struct cache_response *cache_entry_response(const struct cache_entry *e)
{
    return &e->resp;
}

const uint8_t *cache_entry_body(const struct cache_entry *e, uint64_t *len)
{
    *len = e->body_len;
    return e->body;
}

struct http_str cache_entry_key(const struct cache_entry *e)
{
    return e->key;
}

const struct http_header *cache_entry_request_fields(const struct cache_entry *e,
                                                     size_t *n)
{
    *n = e->nreq;
    return e->req_fields;
}

uint64_t cache_entry_variant(const struct cache_entry *e)
{
    return e->variant;
}

const uint8_t *cache_entry_blob(const struct cache_entry *e, size_t *len)
{
    *len = e->blob_len;
    return e->blob;
}

uint64_t cache_entry_size(const struct cache_entry *e)
{
    if (e->fd >= 0)
        return e->body_off + e->body_len;
    return e->blob_len;
}

bool cache_entry_file(const struct cache_entry *e, int *fd, uint64_t *off)
{
    if (e->fd < 0)
        return false;
    *fd = e->fd;
    *off = e->body_off;
    return true;
}

static int pread_all(int fd, void *buf, size_t n, uint64_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int cache_entry_read_body(const struct cache_entry *e, uint64_t off, void *buf, size_t n)
{
    if (off > e->body_len || n > e->body_len - off)
        return -1;
    if (e->fd < 0) {
        memcpy(buf, e->body + off, n);
        return 0;
    }
    return pread_all(e->fd, buf, n, e->body_off + off);
}

void cache_entry_ref(struct cache_entry *e)
{
    atomic_fetch_add_explicit(&e->refs, 1, memory_order_relaxed);
}

void cache_entry_release(struct cache_entry *e)
{
    if (!e || atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (e->fd >= 0)
        close(e->fd);
    free(e->blob);
    free(e);
}

/* ---- reading a blob ----------------------------------------------------- */

struct reader {
    const uint8_t *p;
    size_t left;
    bool bad;
};

static const uint8_t *take(struct reader *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = true;
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint32_t take_u32(struct reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? get_u32(p) : 0;
}

static void take_field(struct reader *r, struct http_header *f)
{
    uint32_t nl = take_u32(r), vl = take_u32(r);
    const uint8_t *name = take(r, nl), *value = take(r, vl);
    f->name = (struct http_str){(const char *)name, name ? nl : 0};
    f->value = (struct http_str){(const char *)value, value ? vl : 0};
}

/* The checksum covers the whole blob but its own 32 bytes (24..56). */
static void blob_sum(const uint8_t *b, size_t len, uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 32;
    memset(out, 0, 32);
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_DigestUpdate(ctx, b, 24);
        EVP_DigestUpdate(ctx, b + 56, len - 56);
        EVP_DigestFinal_ex(ctx, out, &n);
    }
    EVP_MD_CTX_free(ctx);
}

/* The fixed header's magic and lengths add up to len. */
static bool lengths_ok(const uint8_t *b, uint64_t len)
{
    if (len < CACHE_ENTRY_HEADER || memcmp(b, magic, 4) != 0)
        return false;
    if (get_u32(b + 4) != CACHE_ENTRY_HEADER)
        return false;
    uint64_t total = (uint64_t)CACHE_ENTRY_HEADER + get_u32(b + 8) + get_u32(b + 12);
    return get_u64(b + 16) <= UINT64_MAX - total && total + get_u64(b + 16) == len;
}

static bool header_ok(const uint8_t *b, size_t len)
{
    if (!lengths_ok(b, len))
        return false;
    uint8_t sum[32];
    blob_sum(b, len, sum);
    return memcmp(sum, b + 24, 32) == 0;
}

static struct cache_entry *parse_meta(uint8_t *b, size_t len)
{
    uint32_t klen = get_u32(b + 8), mlen = get_u32(b + 12);
    struct reader r = {b + CACHE_ENTRY_HEADER + klen, mlen, false};
    const uint8_t *times = take(&r, 16);
    uint32_t status = take_u32(&r), nresp = take_u32(&r), nreq = take_u32(&r);
    if (r.bad || nresp > CACHE_ENTRY_MAX_FIELDS || nreq > CACHE_VARY_MAX_FIELDS)
        return NULL;
    struct cache_entry *e =
        calloc(1, sizeof *e + (nresp + nreq) * sizeof(struct http_header));
    if (!e)
        return NULL;
    for (uint32_t i = 0; i < nresp + nreq; i++)
        take_field(&r, &e->fields[i]);
    if (r.bad || r.left != 0) {
        free(e);
        return NULL;
    }
    atomic_init(&e->refs, 1);
    e->fd = -1;
    e->blob = b;
    e->blob_len = len;
    e->key = (struct http_str){(const char *)b + CACHE_ENTRY_HEADER, klen};
    e->resp = (struct cache_response){(int)status, e->fields, nresp,
                                      (time_t)(int64_t)get_u64(times),
                                      (time_t)(int64_t)get_u64(times + 8)};
    e->req_fields = e->fields + nresp;
    e->nreq = nreq;
    e->body = b + CACHE_ENTRY_HEADER + klen + mlen;
    e->body_len = get_u64(b + 16);
    e->variant = get_u64(b + 56);
    return e;
}

struct cache_entry *cache_entry_from_blob(uint8_t *blob, size_t len)
{
    if (!header_ok(blob, len))
        return NULL;
    return parse_meta(blob, len);
}

/* The checksum of a file whose head (header, key, meta) is in memory: the
 * body is read through in VERIFY_CHUNK pieces, never whole. */
static bool file_sum_ok(int fd, const uint8_t *head, size_t hlen, uint64_t body_len)
{
    uint8_t *buf = malloc(VERIFY_CHUNK);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = buf && ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(ctx, head, 24) &&
              EVP_DigestUpdate(ctx, head + 56, hlen - 56);
    for (uint64_t off = 0; ok && off < body_len;) {
        size_t n =
            body_len - off < VERIFY_CHUNK ? (size_t)(body_len - off) : VERIFY_CHUNK;
        ok = pread_all(fd, buf, n, hlen + off) == 0 && EVP_DigestUpdate(ctx, buf, n);
        off += n;
    }
    uint8_t sum[32];
    unsigned int n = 32;
    ok = ok && EVP_DigestFinal_ex(ctx, sum, &n) && memcmp(sum, head + 24, 32) == 0;
    EVP_MD_CTX_free(ctx);
    free(buf);
    return ok;
}

/* A file-backed twin of the parsed head h[0..hlen) (owned on success). */
static struct cache_entry *file_entry(uint8_t *h, size_t hlen, int fd)
{
    struct cache_entry *e = parse_meta(h, hlen + get_u64(h + 16));
    if (!e)
        return NULL;
    e->blob_len = hlen;
    e->body = NULL;
    e->fd = fd;
    e->body_off = hlen;
    return e;
}

struct cache_entry *cache_entry_from_file(int fd, uint64_t file_len, uint64_t head_max)
{
    uint8_t fixed[CACHE_ENTRY_HEADER];
    if (pread_all(fd, fixed, sizeof fixed, 0) < 0 || !lengths_ok(fixed, file_len))
        return NULL;
    uint64_t hlen =
        (uint64_t)CACHE_ENTRY_HEADER + get_u32(fixed + 8) + get_u32(fixed + 12);
    if (hlen > head_max)
        return NULL;
    uint8_t *h = malloc((size_t)hlen);
    if (!h || pread_all(fd, h, (size_t)hlen, 0) < 0 ||
        memcmp(h, fixed, sizeof fixed) != 0 ||
        !file_sum_ok(fd, h, (size_t)hlen, file_len - hlen)) {
        free(h);
        return NULL;
    }
    struct cache_entry *e = file_entry(h, (size_t)hlen, fd);
    if (!e)
        free(h);
    return e;
}

struct cache_entry *cache_entry_with_file(const struct cache_entry *mem, int fd)
{
    if (mem->fd >= 0)
        return NULL;
    size_t hlen = mem->blob_len - (size_t)mem->body_len;
    uint8_t *h = malloc(hlen);
    if (!h)
        return NULL;
    memcpy(h, mem->blob, hlen);
    struct cache_entry *e = file_entry(h, hlen, fd);
    if (!e)
        free(h);
    return e;
}

/* ---- variants ------------------------------------------------------------- */

/* The Vary-selected request fields, lowercased names and normalised values,
 * written into names/values; returns the count or -1. */
static int select_fields(const struct http_header *resp, size_t nresp,
                         const struct http_header *req, size_t nreq,
                         struct http_header out[CACHE_VARY_MAX_FIELDS],
                         char vals[CACHE_VARY_MAX_FIELDS][CACHE_VARY_MAX_VALUE],
                         char names[CACHE_VARY_MAX_FIELDS][64])
{
    struct http_str vn[CACHE_VARY_MAX_FIELDS];
    int nn = cache_vary_names(resp, nresp, vn), k = 0;
    for (int i = 0; i < nn; i++) {
        int l = cache_vary_normalize(req, nreq, vn[i], vals[k], CACHE_VARY_MAX_VALUE);
        if (l == -2 || vn[i].n >= 64)
            return -1;
        if (l == -1)
            continue; /* absent: matches absent only, and is not stored */
        for (size_t c = 0; c < vn[i].n; c++) {
            char ch = vn[i].p[c];
            names[k][c] = (char)((ch >= 'A' && ch <= 'Z') ? ch + 32 : ch);
        }
        out[k] = (struct http_header){{names[k], vn[i].n}, {vals[k], (size_t)l}};
        k++;
    }
    return nn < 0 ? -1 : k;
}

static uint64_t hash_fields(const struct http_header *f, int n)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint8_t sum[32] = {0};
    unsigned int len = 32;
    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        for (int i = 0; i < n; i++) {
            EVP_DigestUpdate(ctx, f[i].name.p, f[i].name.n);
            EVP_DigestUpdate(ctx, "", 1);
            EVP_DigestUpdate(ctx, f[i].value.p, f[i].value.n);
            EVP_DigestUpdate(ctx, "", 1);
        }
        EVP_DigestFinal_ex(ctx, sum, &len);
    }
    EVP_MD_CTX_free(ctx);
    return get_u64(sum);
}

struct vary_sel {
    struct http_header f[CACHE_VARY_MAX_FIELDS];
    char vals[CACHE_VARY_MAX_FIELDS][CACHE_VARY_MAX_VALUE];
    char names[CACHE_VARY_MAX_FIELDS][64];
    int n;
};

/* ---- building ------------------------------------------------------------- */

static int reserve(struct entry_builder *b, size_t n)
{
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
        cap *= 2;
    uint8_t *p = realloc(b->buf, cap);
    if (!p)
        return -1;
    b->buf = p;
    b->cap = cap;
    return 0;
}

static int append_raw(struct entry_builder *b, const void *p, size_t n)
{
    if (reserve(b, n) < 0)
        return -1;
    if (n)
        memcpy(b->buf + b->len, p, n);
    b->len += n;
    return 0;
}

static int append_u32(struct entry_builder *b, uint32_t v)
{
    uint8_t x[4];
    put_u32(x, v);
    return append_raw(b, x, 4);
}

static int append_field(struct entry_builder *b, const struct http_header *f)
{
    if (append_u32(b, (uint32_t)f->name.n) < 0 || append_u32(b, (uint32_t)f->value.n) < 0)
        return -1;
    if (append_raw(b, f->name.p, f->name.n) < 0)
        return -1;
    return append_raw(b, f->value.p, f->value.n);
}

static int append_meta(struct entry_builder *b, const struct cache_response *r,
                       const struct vary_sel *s)
{
    uint8_t times[16];
    put_u64(times, (uint64_t)(int64_t)r->request_time);
    put_u64(times + 8, (uint64_t)(int64_t)r->response_time);
    size_t nresp = r->n;
    if (nresp > CACHE_ENTRY_MAX_FIELDS)
        return -1;
    if (append_raw(b, times, 16) < 0 || append_u32(b, (uint32_t)r->status) < 0 ||
        append_u32(b, (uint32_t)nresp) < 0 || append_u32(b, (uint32_t)s->n) < 0)
        return -1;
    for (size_t i = 0; i < nresp; i++)
        if (append_field(b, &r->h[i]) < 0)
            return -1;
    for (int i = 0; i < s->n; i++)
        if (append_field(b, &s->f[i]) < 0)
            return -1;
    return 0;
}

int entry_builder_init(struct entry_builder *b, struct http_str key,
                       const struct cache_response *r, const struct http_header *req,
                       size_t nreq, uint64_t max_body)
{
    memset(b, 0, sizeof *b);
    b->max_body = max_body;
    struct vary_sel *s = malloc(sizeof *s);
    if (!s)
        return -1;
    s->n = select_fields(r->h, r->n, req, nreq, s->f, s->vals, s->names);
    int rc = -1;
    if (s->n >= 0 && key.n < UINT32_MAX) {
        b->variant = hash_fields(s->f, s->n);
        uint8_t zero[CACHE_ENTRY_HEADER] = {0};
        rc = append_raw(b, zero, sizeof zero);
        if (rc == 0)
            rc = append_raw(b, key.p, key.n);
        b->meta_off = b->len;
        if (rc == 0)
            rc = append_meta(b, r, s);
        b->body_off = b->len;
    }
    free(s);
    if (rc < 0)
        entry_builder_discard(b);
    return rc;
}

int entry_builder_append(struct entry_builder *b, const void *p, size_t n)
{
    if (b->failed)
        return -1;
    if (n > b->max_body || b->len - b->body_off > b->max_body - n ||
        append_raw(b, p, n) < 0) {
        b->failed = true;
        return -1;
    }
    return 0;
}

struct cache_entry *entry_builder_finish(struct entry_builder *b)
{
    if (b->failed || !b->buf) {
        entry_builder_discard(b);
        return NULL;
    }
    uint8_t *h = b->buf;
    memcpy(h, magic, 4);
    put_u32(h + 4, CACHE_ENTRY_HEADER);
    put_u32(h + 8, (uint32_t)(b->meta_off - CACHE_ENTRY_HEADER));
    put_u32(h + 12, (uint32_t)(b->body_off - b->meta_off));
    put_u64(h + 16, b->len - b->body_off);
    put_u64(h + 56, b->variant);
    blob_sum(h, b->len, h + 24);
    uint8_t *fit = realloc(b->buf, b->len); /* give back the slack */
    if (fit)
        b->buf = fit;
    struct cache_entry *e = parse_meta(b->buf, b->len);
    if (!e)
        free(b->buf);
    memset(b, 0, sizeof *b);
    return e;
}

void entry_builder_discard(struct entry_builder *b)
{
    free(b->buf);
    memset(b, 0, sizeof *b);
}
