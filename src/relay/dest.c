/* dest: destinations (a domain's MX set, a route or the smarthost). Each
 * has a queue of jobs and at most [relay] max_per_destination connections
 * (and all together at most max_connections); a connection takes job after
 * job, so one connection delivers every waiting message for it. A
 * destination failing as a whole (no connection, no greeting, TLS refused)
 * is backed off as a whole: its waiting jobs are deferred with that reason
 * and no connection is tried before the back-off ends. */
#include "relay/relay_int.h"

#include "core/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOBS_PER_CONN 2 /* another connection when more jobs wait per open one */

static struct dest *dest_get(const char *domain)
{
    struct relay_hop hop;
    if (relay_hop_for(relay->cfg, domain, &hop) < 0)
        return NULL;
    for (struct dest *d = relay->dests; d; d = d->next)
        if (strcmp(d->key, hop.key) == 0)
            return d;
    struct dest *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->hop = hop;
    snprintf(d->key, sizeof d->key, "%s", hop.key);
    d->next = relay->dests;
    relay->dests = d;
    return d;
}

/* Every recipient of j deferred (or failed, for a 5xx) with why. */
static void job_all(struct job *j, int code, const char *why, int64_t not_before)
{
    for (size_t i = 0; i < j->n; i++) {
        relay_rcpt_result(j->it, j->idx[i], code, why, "", not_before);
        log_info(0, "relay attempt id=%s rcpt=%s mx=- tls=no reply=\"%s\"", j->it->id,
                 j->it->env.rcpts[j->idx[i]].addr, why);
    }
    relay_job_done(j, NULL, NULL);
}

static void dest_kick(struct dest *d)
{
    const struct config *c = relay->cfg;
    for (int guard = 0; guard < 1000; guard++) {
        if (d->nqueued == 0 || d->nconns >= c->relay_max_per_destination ||
            relay->nconns >= c->relay_max_connections)
            return;
        /* Backed off: no new connection (the last one to end defers the
         * waiting jobs, relay_dest_conn_done). */
        if (d->backoff_until > relay_now())
            return;
        if (d->nconns > 0 && d->nqueued <= (size_t)d->nconns * JOBS_PER_CONN)
            return;
        d->nconns++;
        relay->nconns++;
        if (relay_attempt_start(d) < 0) {
            d->nconns--;
            relay->nconns--;
            relay_dest_conn_done(d, true, "451 4.3.0 cannot start a connection");
            return;
        }
    }
}

void relay_dest_submit(struct job *j)
{
    struct dest *d = dest_get(j->domain);
    if (!d) {
        job_all(j, 451, "451 4.3.0 bad [relay] route or smarthost setting", 0);
        return;
    }
    if (d->backoff_until > relay_now()) {
        job_all(j, 451, d->last_error, d->backoff_until);
        return;
    }
    if (d->tail)
        d->tail->next = j;
    else
        d->head = j;
    d->tail = j;
    d->nqueued++;
    relay_attempt_wake(d);
    dest_kick(d);
}

struct job *relay_dest_next_job(struct dest *d)
{
    struct job *j = d->head;
    if (!j)
        return NULL;
    d->head = j->next;
    if (!d->head)
        d->tail = NULL;
    j->next = NULL;
    d->nqueued--;
    return j;
}

void relay_dest_conn_done(struct dest *d, bool failed_whole, const char *why)
{
    if (failed_whole) {
        const struct config *c = relay->cfg;
        d->fails++;
        d->backoff_until = relay_now() + relay_retry_delay(d->fails, c->relay_retry_min,
                                                           c->relay_retry_max);
        queue_line_copy(d->last_error, sizeof d->last_error, why);
        log_info(0, "relay destination_backoff dest=%s fails=%d seconds=%lld why=\"%s\"",
                 d->key, d->fails, (long long)(d->backoff_until - relay_now()), why);
        /* The jobs no other connection of d is going to take. */
        struct job *j;
        while (d->nconns <= 1 && (j = relay_dest_next_job(d)) != NULL)
            job_all(j, 451, why, d->backoff_until);
    } else {
        d->fails = 0;
        d->backoff_until = 0;
    }
    d->nconns--;
    relay->nconns--;
    dest_kick(d);
}

void relay_dests_free(void)
{
    struct dest *next;
    for (struct dest *d = relay->dests; d; d = next) {
        next = d->next;
        struct job *j, *jn;
        for (j = d->head; j; j = jn) {
            jn = j->next;
            free(j->idx);
            free(j);
        }
        free(d);
    }
    relay->dests = NULL;
}
