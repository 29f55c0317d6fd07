/* cache_wait: a request waiting for another request's fetch of the same
 * key (collapse.h). The leader may run on another loop thread: its
 * callback posts the news to the waiter's own loop (event_base_once is
 * thread-safe here), where the request runs again: a lookup (the leader
 * stored a response that may or may not match its Vary) or a fetch of its
 * own. A waiter whose client leaves cancels; if the callback is already on
 * its way, the posted event finds no request and only frees the wait. */
#include "http/proxy/cache_glue.h"

#include "core/conn.h"
#include "core/log.h"
#include "core/loop.h"
#include "http/http.h"

#include <event2/event.h>
#include <stdlib.h>

struct cache_wait {
    struct http_conn *h; /* NULL once the request is gone */
    struct event_base *base;
    struct cache_waiter *cw;
};

struct cache_wait *proxy_cache_wait_new(struct http_conn *h)
{
    struct cache_wait *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->h = h;
    w->base = h->c->loop->base;
    return w;
}

void proxy_cache_wait_set(struct cache_wait *w, struct cache_waiter *cw)
{
    w->cw = cw;
}

/* On the waiter's loop. */
static void resumed(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cache_wait *w = arg;
    struct http_conn *h = w->h;
    free(w);
    if (h)
        proxy_exchange_retry(h);
}

void proxy_cache_wait_cb(void *arg, enum cache_collapse_outcome outcome)
{
    (void)outcome; /* either way the waiter looks up again, then fetches alone */
    struct cache_wait *w = arg;
    struct timeval now = {0, 0};
    if (event_base_once(w->base, -1, EV_TIMEOUT, resumed, w, &now) < 0)
        log_error(0, "proxy cache_wait_post_failed");
}

void proxy_cache_wait_cancel(struct cache_wait *w)
{
    struct proxy_cache *pc = proxy_cache();
    if (pc && cache_collapse_cancel(pc->collapse, w->cw)) {
        free(w);
        return;
    }
    w->h = NULL; /* the posted event frees it */
}
