/* sync: the group commit of queue/. A writer that has renamed its files
 * into queue/ (a new entry, a rewritten record) joins store/commit.h's
 * leader/follower group, the one the Maildir deliveries use; the leader
 * fsyncs the directory once for every writer queued so far, so the new
 * entries of several sessions become durable with one fsync of queue/,
 * and each writer returns (and its 250 goes out) only after a directory
 * fsync that began after its rename. */
#include "queue/queue.h"

#include "store/commit.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

struct dir_sync {
    int fd;
    bool known; /* st holds the directory's identity */
    struct stat st;
    int err;
};

static bool same_dir(const struct dir_sync *a, const struct dir_sync *b)
{
    return a->known && b->known && a->st.st_dev == b->st.st_dev &&
           a->st.st_ino == b->st.st_ino;
}

/* Numbers the flushes: each takes the next number before its first fsync,
 * so a flush numbered above what queue_sync_next() returned began after
 * that call (pool.c waits for one before reusing a file). */
static atomic_uint_fast64_t flush_seq;

uint64_t queue_sync_next(void)
{
    return atomic_load(&flush_seq) + 1;
}

/* One fsync per distinct directory of the batch (in practice one queue/). */
static void sync_flush(struct commit_unit *batch)
{
    uint64_t seq = atomic_fetch_add(&flush_seq, 1) + 1;
    for (struct commit_unit *u = batch; u; u = u->next) {
        struct dir_sync *s = u->item;
        struct commit_unit *o = batch;
        while (o != u && !same_dir(o->item, s))
            o = o->next;
        if (o != u) {
            u->rc = o->rc;
            s->err = ((struct dir_sync *)o->item)->err;
            continue;
        }
        u->rc = fsync(s->fd);
        s->err = u->rc < 0 ? errno : 0;
        if (u->rc == 0 && s->known)
            queue_pool_synced(&s->st, seq);
    }
}

static struct commit_group syncs = COMMIT_GROUP_INIT(sync_flush);

int queue_sync_dir(int qfd)
{
    struct dir_sync s = {.fd = qfd};
    s.known = fstat(qfd, &s.st) == 0;
    struct commit_unit u = {.item = &s};
    commit_group_join(&syncs, &u);
    if (u.rc < 0)
        errno = s.err;
    return u.rc;
}
