/* lock: a mutex-guarded list of locked account addresses. Small by nature
 * (one entry per open POP3 session), so a list is enough. */
#include "store/lock.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct held {
    struct held *next;
    char account[];
};

static pthread_mutex_t lock_mu = PTHREAD_MUTEX_INITIALIZER;
static struct held *held_list;

static struct held **find(const char *account)
{
    struct held **p = &held_list;
    while (*p && strcasecmp((*p)->account, account) != 0)
        p = &(*p)->next;
    return p;
}

int store_maildrop_trylock(const char *account)
{
    size_t n = strlen(account) + 1;
    struct held *h = malloc(sizeof *h + n);
    if (!h)
        return -1;
    memcpy(h->account, account, n);
    pthread_mutex_lock(&lock_mu);
    struct held **p = find(account);
    int rc = *p ? -1 : 0;
    if (rc == 0) {
        h->next = NULL;
        *p = h;
        h = NULL;
    }
    pthread_mutex_unlock(&lock_mu);
    free(h);
    return rc;
}

void store_maildrop_unlock(const char *account)
{
    pthread_mutex_lock(&lock_mu);
    struct held **p = find(account), *h = *p;
    if (h)
        *p = h->next;
    pthread_mutex_unlock(&lock_mu);
    free(h);
}

bool store_maildrop_locked(const char *account)
{
    pthread_mutex_lock(&lock_mu);
    bool held = *find(account) != NULL;
    pthread_mutex_unlock(&lock_mu);
    return held;
}
