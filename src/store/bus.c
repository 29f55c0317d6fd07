/* bus: a mutex-guarded list of subscriptions. A publish posts one
 * event_base_once per matching subscriber carrying the subscription id, not
 * a pointer: on arrival the id is looked up again, so an unsubscribe that
 * happened meanwhile (on the same thread) drops the event safely. */
#include "store/bus.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sub {
    struct sub *next;
    uint64_t id;
    char account[321];
    struct event_base *base;
    bus_fn cb;
    void *arg;
};

struct delivery {
    uint64_t id;
    struct bus_event ev;
};

static pthread_mutex_t bus_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sub *subs;
static uint64_t next_id = 1;

uint64_t bus_subscribe(const char *account, struct event_base *base, bus_fn cb, void *arg)
{
    struct sub *s = calloc(1, sizeof *s);
    if (!s || strlen(account) >= sizeof s->account) {
        free(s);
        return 0;
    }
    memcpy(s->account, account, strlen(account) + 1);
    s->base = base;
    s->cb = cb;
    s->arg = arg;
    pthread_mutex_lock(&bus_lock);
    s->id = next_id++;
    s->next = subs;
    subs = s;
    pthread_mutex_unlock(&bus_lock);
    return s->id;
}

void bus_unsubscribe(uint64_t id)
{
    pthread_mutex_lock(&bus_lock);
    for (struct sub **p = &subs; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            struct sub *s = *p;
            *p = s->next;
            free(s);
            break;
        }
    }
    pthread_mutex_unlock(&bus_lock);
}

/* On the subscriber's loop: still subscribed? Then call back (outside the
 * lock; only this thread can unsubscribe it meanwhile). */
static void arrive(evutil_socket_t fd, short what, void *p)
{
    struct delivery *d = p;
    bus_fn cb = NULL;
    void *arg = NULL;
    pthread_mutex_lock(&bus_lock);
    for (struct sub *s = subs; s; s = s->next) {
        if (s->id == d->id) {
            cb = s->cb;
            arg = s->arg;
            break;
        }
    }
    pthread_mutex_unlock(&bus_lock);
    if (cb)
        cb(arg, &d->ev);
    free(d);
}

void bus_publish(const struct bus_event *ev)
{
    static const struct timeval now = {0, 0};
    pthread_mutex_lock(&bus_lock);
    for (struct sub *s = subs; s; s = s->next) {
        if (strcasecmp(s->account, ev->account) != 0)
            continue;
        struct delivery *d = malloc(sizeof *d);
        if (!d)
            continue;
        d->id = s->id;
        d->ev = *ev;
        if (event_base_once(s->base, -1, EV_TIMEOUT, arrive, d, &now) < 0)
            free(d);
    }
    pthread_mutex_unlock(&bus_lock);
}
