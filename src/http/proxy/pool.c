/* pool: a per-thread list of idle origin conns. An idle conn that reads
 * anything (the origin has nothing to say between requests) or times out
 * is closed; one that the origin closes leaves the list in its on_free. */
#include "http/proxy/pool.h"

#include "core/conn.h"
#include "core/log.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct idle {
    struct conn *c;
    char key[300];
    struct idle *prev, *next;
};

static __thread struct idle *head;
static __thread int count;

void pool_key(const struct upstream_target *t, char *key, size_t len)
{
    snprintf(key, len, "%s|%u|%d|%d", t->host, t->port, t->tls, t->guard);
}

static void unlink_idle(struct idle *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    count--;
}

static void on_input(struct conn *c)
{
    conn_abort(c);
}

static void on_shutdown(struct conn *c)
{
    conn_abort(c);
}

static void on_free(struct conn *c)
{
    struct idle *e = c->ctx;
    unlink_idle(e);
    free(e);
}

static void nop_free(struct conn *c) {}

static const struct conn_ops dropped_ops = {.on_free = nop_free};

static const struct conn_ops idle_ops = {
    .on_input = on_input,
    .on_shutdown = on_shutdown,
    .on_free = on_free,
};

struct conn *pool_take(const char *key)
{
    for (struct idle *e = head; e; e = e->next) {
        if (strcmp(e->key, key) != 0 || e->c->closing)
            continue;
        struct conn *c = e->c;
        unlink_idle(e);
        free(e);
        c->ops = NULL;
        c->ctx = NULL;
        return c;
    }
    return NULL;
}

void pool_put(struct conn *c, const char *key)
{
    struct idle *e = count < POOL_MAX_PER_LOOP ? calloc(1, sizeof *e) : NULL;
    if (!e || evbuffer_get_length(conn_input(c)) || evbuffer_get_length(conn_output(c))) {
        free(e); /* bytes past the end, or full: not kept */
        c->ops = &dropped_ops;
        c->ctx = NULL;
        conn_abort(c);
        return;
    }
    e->c = c;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->next = head;
    if (head)
        head->prev = e;
    head = e;
    count++;
    c->ops = &idle_ops;
    c->ctx = e;
    conn_set_idle_timeout(c, POOL_IDLE_SEC);
    conn_resume(c);
}
