/* spool: a small mutex-guarded stack of emptied spool files. Emptying is
 * ftruncate(0) plus a seek to 0, so no byte of one message can show up in
 * the next; a file that cannot be emptied, or that does not fit in the
 * stack, is closed. */
#include "smtp/spool.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

/* About one per concurrent transaction; beyond it files are closed. */
#define SPOOL_KEEP 64

static pthread_mutex_t spool_mu = PTHREAD_MUTEX_INITIALIZER;
static int spool_free[SPOOL_KEEP];
static int spool_nfree;

int smtp_spool_get(int datadirfd)
{
    int fd = -1;
    pthread_mutex_lock(&spool_mu);
    if (spool_nfree > 0)
        fd = spool_free[--spool_nfree];
    pthread_mutex_unlock(&spool_mu);
    if (fd >= 0)
        return fd;
    return openat(datadirfd, "queue", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

void smtp_spool_put(int fd)
{
    if (fd < 0)
        return;
    if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0) {
        pthread_mutex_lock(&spool_mu);
        bool kept = spool_nfree < SPOOL_KEEP;
        if (kept)
            spool_free[spool_nfree++] = fd;
        pthread_mutex_unlock(&spool_mu);
        if (kept)
            return;
    }
    close(fd);
}
