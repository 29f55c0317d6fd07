/* disk: the disk tier's files (see disk.h): names, write-then-rename,
 * whole-file reads, opening an entry file, the directory scan at start and purges. */
#include "http/cache/disk.h"

#include "http/cache/entry.h"
#include "http/cache/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_tmp(const char *name)
{
    return strncmp(name, "tmp.", 4) == 0;
}

/* A directory stream over a duplicate of dfd (closedir leaves dfd open). */
static DIR *dir_stream(int dfd)
{
    int fd = dup(dfd);
    if (fd < 0)
        return NULL;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return NULL;
    }
    rewinddir(d);
    return d;
}

int cache_disk_open(const char *dir)
{
    if (mkdir(dir, 0700) < 0 && errno != EEXIST)
        return -1;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    DIR *d = dir_stream(dfd);
    if (!d)
        return dfd;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (is_tmp(de->d_name))
            unlinkat(dfd, de->d_name, 0);
    closedir(d);
    return dfd;
}

void cache_disk_name(const uint8_t keyhash[32], uint64_t variant, char *out)
{
    char hex[65];
    cache_key_hex(keyhash, hex);
    snprintf(out, CACHE_DISK_NAME_LEN + 1, "%s-%016llx", hex,
             (unsigned long long)variant);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool cache_disk_parse_name(const char *name, uint8_t keyhash[32], uint64_t *variant)
{
    if (strlen(name) != CACHE_DISK_NAME_LEN || name[64] != '-')
        return false;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(name[2 * i]), lo = hexval(name[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        keyhash[i] = (uint8_t)(hi << 4 | lo);
    }
    uint64_t v = 0;
    for (int i = 65; i < CACHE_DISK_NAME_LEN; i++) {
        int x = hexval(name[i]);
        if (x < 0)
            return false;
        v = v << 4 | (uint64_t)x;
    }
    *variant = v;
    return true;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int cache_disk_write(int dfd, const char *name, const uint8_t *blob, size_t len,
                     int *keep)
{
    /* Unique per entry and writing thread: tmp.NAME.TID. */
    char tmp[128];
    snprintf(tmp, sizeof tmp, "tmp.%s.%ld", name, (long)gettid());
    int mode = keep ? O_RDWR : O_WRONLY;
    int fd = openat(dfd, tmp, mode | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = write_all(fd, blob, len);
    if (!keep && close(fd) < 0)
        rc = -1;
    if (rc == 0)
        rc = renameat(dfd, tmp, dfd, name);
    if (rc < 0)
        unlinkat(dfd, tmp, 0);
    if (keep && rc < 0)
        close(fd);
    else if (keep)
        *keep = fd;
    return rc;
}

int cache_disk_open_entry(int dfd, const char *name, uint64_t *size)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

uint8_t *cache_disk_read(int dfd, const char *name, size_t max, size_t *len)
{
    int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint8_t *buf = NULL;
    if (fstat(fd, &st) == 0 && st.st_size > 0 && (uint64_t)st.st_size <= max)
        buf = malloc((size_t)st.st_size);
    size_t got = 0;
    while (buf && got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(buf);
            buf = NULL;
            break;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = got;
    return buf;
}

int cache_disk_scan(int dfd,
                    void (*fn)(const char *name, uint64_t size, int64_t mtime, void *arg),
                    void *arg)
{
    DIR *d = dir_stream(dfd);
    if (!d)
        return -1;
    struct dirent *de;
    uint8_t kh[32];
    uint64_t v;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (!cache_disk_parse_name(de->d_name, kh, &v))
            continue;
        if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode))
            fn(de->d_name, (uint64_t)st.st_size, (int64_t)st.st_mtime, arg);
    }
    closedir(d);
    return 0;
}

void cache_disk_touch_purged(int dfd)
{
    int fd = openat(dfd, CACHE_PURGED_STAMP, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    futimens(fd, NULL); /* now, to the nanosecond */
    close(fd);
}

int64_t cache_disk_purged_mtime(int dfd)
{
    struct stat st;
    if (fstatat(dfd, CACHE_PURGED_STAMP, &st, 0) < 0)
        return 0;
    return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

/* Removes every entry file whose name starts with one of the prefixes
 * (all entry files when n is 0). */
static int remove_matching(const char *dir, char prefixes[][65], size_t n)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    DIR *d = dir_stream(dfd);
    if (!d) {
        close(dfd);
        return -1;
    }
    int removed = 0;
    struct dirent *de;
    uint8_t kh[32];
    uint64_t v;
    while ((de = readdir(d)) != NULL) {
        if (!cache_disk_parse_name(de->d_name, kh, &v))
            continue;
        bool hit = n == 0;
        for (size_t i = 0; i < n && !hit; i++)
            hit = strncmp(de->d_name, prefixes[i], 64) == 0;
        if (hit && unlinkat(dfd, de->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    cache_disk_touch_purged(dfd);
    close(dfd);
    return removed;
}

int cache_disk_purge_uri(const char *dir, struct http_str uri)
{
    static const char *const methods[] = {"GET", "HEAD"};
    char prefixes[2][65];
    char *key = malloc(CACHE_URI_MAX + 8);
    if (!key)
        return -1;
    for (int i = 0; i < 2; i++) {
        int n = cache_key(methods[i], uri, key, CACHE_URI_MAX + 8);
        if (n < 0) {
            free(key);
            return -1;
        }
        uint8_t kh[32];
        cache_key_hash((struct http_str){key, (size_t)n}, kh);
        cache_key_hex(kh, prefixes[i]);
    }
    free(key);
    return remove_matching(dir, prefixes, 2);
}

int cache_disk_purge_all(const char *dir)
{
    return remove_matching(dir, NULL, 0);
}
