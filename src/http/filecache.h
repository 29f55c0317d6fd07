/* filecache: the web root's open files, one small cache per loop thread
 * (as nginx's open_file_cache): a path served before is answered from a
 * kept descriptor and its stat result, without open, fstat, read or close
 * per request. See filecache.c for why an entry is never stale. */
#pragma once
#include <stdbool.h>
#include <sys/stat.h>

struct loop;
struct evbuffer_file_segment;

/* A file of the cache: its stat result and its bytes (a mapping for small
 * files, a sendfile segment for larger ones; NULL for an empty file). */
struct http_cached {
    struct stat st;
    struct evbuffer_file_segment *seg;
};

/* What http_filecache_open found: a cached file (hit, fd -1), or a file it
 * could not keep, opened through the sandbox (fd, owned by the caller). */
struct http_open {
    int fd;
    struct stat st;
    const struct http_cached *hit;
};

/* This loop's web root (data_dir/www), opened once and watched, after
 * checking that nothing watched has changed since the last request (the
 * cache is emptied and the root reopened if it has). -1 when no watch is
 * possible: the caller opens the root itself and nothing is cached. */
int http_filecache_root(struct loop *loop);
/* True when rootfd is that root (so paths beneath it may be cached). */
bool http_filecache_covers(struct loop *loop, int rootfd);
/* Opens vpath beneath the loop's web root, from the cache or into it.
 * 0 (o filled), or -1 with errno as sandbox_open gives it. An entry stays
 * valid until the next http_filecache_root call on this loop. */
int http_filecache_open(struct loop *loop, const char *vpath, struct http_open *o);
/* Opens vpath beneath rootfd through the sandbox, uncached (o->hit NULL,
 * o->fd and o->st set). 0, or -1 with errno. */
int http_open_plain(int rootfd, const char *vpath, struct http_open *o);
/* Frees the loop's cache (loop->svc_state_free, with the loop). */
void http_filecache_free(void *state);
