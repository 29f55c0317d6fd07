/* index_cache: a small table of idle index handles keyed by the account's
 * mail/ directory (device and inode), least recently used out first. The
 * lock covers only the table; opening and closing happen outside it. */
#include "store/index_cache.h"

#include "store/index_internal.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct idle_index {
    struct mail_index *idx;
    dev_t dev;
    ino_t ino;
    uint64_t used;
};

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct idle_index idle[INDEX_CACHE_IDLE];
static uint64_t cache_clock;

static struct mail_index *take(dev_t dev, ino_t ino)
{
    struct mail_index *idx = NULL;
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < INDEX_CACHE_IDLE; i++) {
        if (idle[i].idx && idle[i].dev == dev && idle[i].ino == ino) {
            idx = idle[i].idx;
            idle[i].idx = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&cache_lock);
    return idx;
}

struct mail_index *index_cache_get(int mailfd)
{
    struct stat st;
    if (fstat(mailfd, &st) < 0)
        return NULL;
    struct mail_index *idx;
    while ((idx = take(st.st_dev, st.st_ino)) != NULL) {
        if (index_is_current(idx))
            return idx;
        index_close(idx); /* index.db was deleted: rebuild in a new one */
    }
    return index_open(mailfd);
}

void index_cache_put(struct mail_index *idx)
{
    struct stat st;
    if (!idx)
        return;
    if (!index_is_current(idx) || fstat(idx->mailfd, &st) < 0) {
        index_close(idx);
        return;
    }
    struct mail_index *evicted = NULL;
    pthread_mutex_lock(&cache_lock);
    struct idle_index *slot = &idle[0];
    for (size_t i = 0; i < INDEX_CACHE_IDLE; i++) {
        if (!idle[i].idx) {
            slot = &idle[i];
            break;
        }
        if (idle[i].used < slot->used)
            slot = &idle[i];
    }
    evicted = slot->idx;
    *slot = (struct idle_index){idx, st.st_dev, st.st_ino, ++cache_clock};
    pthread_mutex_unlock(&cache_lock);
    index_close(evicted);
}

void index_cache_flush(void)
{
    struct mail_index *all[INDEX_CACHE_IDLE];
    pthread_mutex_lock(&cache_lock);
    for (size_t i = 0; i < INDEX_CACHE_IDLE; i++) {
        all[i] = idle[i].idx;
        idle[i].idx = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    for (size_t i = 0; i < INDEX_CACHE_IDLE; i++)
        index_close(all[i]);
}
