/* announce: the one hook through which writers (smtp/ submission, bounces)
 * tell the scheduler (relay/) that an entry is ready, without smtp/
 * depending on relay/. */
#include "queue/queue.h"

#include <stdatomic.h>

static _Atomic(void (*)(const char *)) listener;

void queue_set_listener(void (*fn)(const char *id))
{
    atomic_store(&listener, fn);
}

void queue_announce(const char *id)
{
    void (*fn)(const char *) = atomic_load(&listener);
    if (fn)
        fn(id);
}
