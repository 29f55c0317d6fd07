/* metrics: sharded counters and the Prometheus text rendering (see
 * metrics.h). Shard 0 is shared by the threads that are no loop (the work
 * pool, SFTP sessions); loops use 1..METRICS_SHARDS-1. */
#include "core/metrics.h"

#include <event2/buffer.h>
#include <stdatomic.h>
#include <time.h>

#define METRICS_SHARDS 17
/* Upper bounds of the latency buckets, microseconds; +Inf follows. */
static const uint64_t bucket_us[] = {100,    500,    1000,    5000,    10000,   50000,
                                     100000, 500000, 1000000, 5000000, 10000000};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0])

struct shard {
    _Atomic uint64_t counter[SVC_COUNT][MET_COUNT];
    _Atomic uint64_t bucket[SVC_COUNT][NBUCKETS + 1]; /* not cumulative */
    _Atomic uint64_t sum_us[SVC_COUNT];
} __attribute__((aligned(64)));

static struct shard shards[METRICS_SHARDS];
static __thread unsigned my_shard;

struct counter_doc {
    enum metric m;
    const char *name, *type, *help;
};

static const struct counter_doc counters[] = {
    {MET_CONNECTIONS, "portico_connections_total", "counter", "Connections accepted."},
    {MET_COMMANDS, "portico_commands_total", "counter",
     "Commands (HTTP and SFTP: requests) handled."},
    {MET_ERRORS, "portico_command_errors_total", "counter",
     "Commands refused, HTTP requests answered 4xx/5xx."},
    {MET_AUTH_FAILURES, "portico_auth_failures_total", "counter", "Failed logins."},
    {MET_AUTH_LOCKOUTS, "portico_auth_lockouts_total", "counter",
     "Logins refused by the throttle (address or account locked out)."},
    {MET_BYTES_IN, "portico_received_bytes_total", "counter",
     "TCP payload bytes received, counted when a session ends."},
    {MET_BYTES_OUT, "portico_sent_bytes_total", "counter",
     "TCP payload bytes sent, counted when a session ends."},
    {MET_DELIVERIES, "portico_deliveries_total", "counter",
     "Messages accepted for delivery (one per message and recipient)."},
    {MET_TLS_HANDSHAKES, "portico_tls_handshakes_total", "counter",
     "TLS handshakes completed (implicit TLS and STARTTLS)."},
    {MET_UPSTREAM, "portico_proxy_upstream_requests_total", "counter",
     "Requests the proxy sent to an origin (forward and reverse)."},
    {MET_UPSTREAM_FAIL, "portico_proxy_upstream_failures_total", "counter",
     "Origins that failed: unreachable, timed out or malformed (502/504)."},
    {MET_TUNNELS, "portico_proxy_tunnels_total", "counter",
     "CONNECT and WebSocket tunnels opened."},
    {MET_CACHE_HITS, "portico_proxy_cache_hits_total", "counter",
     "Requests the proxy cache answered from storage (fresh, or stale where allowed)."},
    {MET_CACHE_MISSES, "portico_proxy_cache_misses_total", "counter",
     "Cacheable requests the proxy cache forwarded to the origin."},
    {MET_CACHE_REVALIDATIONS, "portico_proxy_cache_revalidations_total", "counter",
     "Stored responses refreshed by a 304 from the origin."},
    {MET_CACHE_STORED_BYTES, "portico_proxy_cache_stored_bytes_total", "counter",
     "Bytes of responses stored by the proxy cache."},
};

void metrics_thread_shard(int index)
{
    my_shard = 1 + (unsigned)index % (METRICS_SHARDS - 1);
}

void metrics_add(enum service svc, enum metric m, uint64_t n)
{
    if (svc >= SVC_COUNT || m >= MET_COUNT)
        return;
    atomic_fetch_add_explicit(&shards[my_shard].counter[svc][m], n, memory_order_relaxed);
}

void metrics_latency(enum service svc, uint64_t usec)
{
    if (svc >= SVC_COUNT)
        return;
    size_t b = 0;
    while (b < NBUCKETS && usec > bucket_us[b])
        b++;
    struct shard *s = &shards[my_shard];
    atomic_fetch_add_explicit(&s->bucket[svc][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us[svc], usec, memory_order_relaxed);
}

uint64_t metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t sum_counter(enum service svc, enum metric m)
{
    uint64_t v = 0;
    for (int i = 0; i < METRICS_SHARDS; i++)
        v += atomic_load_explicit(&shards[i].counter[svc][m], memory_order_relaxed);
    return v;
}

static uint64_t sum_bucket(enum service svc, size_t b)
{
    uint64_t v = 0;
    for (int i = 0; i < METRICS_SHARDS; i++)
        v += atomic_load_explicit(&shards[i].bucket[svc][b], memory_order_relaxed);
    return v;
}

static uint64_t sum_us(enum service svc)
{
    uint64_t v = 0;
    for (int i = 0; i < METRICS_SHARDS; i++)
        v += atomic_load_explicit(&shards[i].sum_us[svc], memory_order_relaxed);
    return v;
}

static void render_counter(struct evbuffer *out, const struct counter_doc *d)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", d->name, d->help, d->name,
                        d->type);
    for (int svc = 0; svc < SVC_COUNT; svc++)
        evbuffer_add_printf(out, "%s{proto=\"%s\"} %llu\n", d->name,
                            config_service_name(svc),
                            (unsigned long long)sum_counter(svc, d->m));
}

static void render_active(struct evbuffer *out)
{
    evbuffer_add_printf(out, "# HELP portico_connections_active Connections open now.\n"
                             "# TYPE portico_connections_active gauge\n");
    for (int svc = 0; svc < SVC_COUNT; svc++) {
        uint64_t open = sum_counter(svc, MET_CONNECTIONS);
        uint64_t closed = sum_counter(svc, MET_CLOSED);
        uint64_t active = 0;
        if (open > closed)
            active = open - closed;
        evbuffer_add_printf(out, "portico_connections_active{proto=\"%s\"} %llu\n",
                            config_service_name(svc), (unsigned long long)active);
    }
}

static void render_histogram(struct evbuffer *out)
{
    const char *name = "portico_command_duration_seconds";
    evbuffer_add_printf(out,
                        "# HELP %s Time from a command's dispatch to its last reply.\n"
                        "# TYPE %s histogram\n",
                        name, name);
    for (int svc = 0; svc < SVC_COUNT; svc++) {
        const char *p = config_service_name(svc);
        uint64_t cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += sum_bucket(svc, b);
            evbuffer_add_printf(out, "%s_bucket{proto=\"%s\",le=\"%g\"} %llu\n", name, p,
                                (double)bucket_us[b] / 1e6, (unsigned long long)cum);
        }
        cum += sum_bucket(svc, NBUCKETS);
        evbuffer_add_printf(out, "%s_bucket{proto=\"%s\",le=\"+Inf\"} %llu\n", name, p,
                            (unsigned long long)cum);
        evbuffer_add_printf(out, "%s_sum{proto=\"%s\"} %.6f\n", name, p,
                            (double)sum_us(svc) / 1e6);
        evbuffer_add_printf(out, "%s_count{proto=\"%s\"} %llu\n", name, p,
                            (unsigned long long)cum);
    }
}

static void render_gauge(struct evbuffer *out, const char *name, const char *help, long v)
{
    evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %ld\n", name, help, name,
                        name, v);
}

int metrics_render(struct evbuffer *out, const struct metrics_gauges *g)
{
    for (size_t i = 0; i < sizeof counters / sizeof *counters; i++)
        render_counter(out, &counters[i]);
    render_active(out);
    render_histogram(out);
    render_gauge(out, "portico_workpool_threads", "Threads of the work pool.",
                 g->pool_threads);
    render_gauge(out, "portico_workpool_idle_threads",
                 "Work-pool threads waiting for a job.", g->pool_idle);
    render_gauge(out, "portico_workpool_queued_jobs",
                 "Jobs waiting for a work-pool thread.", g->pool_queued);
    if (g->queue_messages >= 0)
        render_gauge(out, "portico_queue_messages", "Messages in the outbound queue.",
                     g->queue_messages);
    return 0;
}
