/* metrics: the process's counters and histograms for the Prometheus
 * endpoint ([metrics] listen). Each thread adds to its own shard (a loop
 * thread to its loop's, every other thread to a shared one) with relaxed
 * atomic adds: no lock on the hot path. A scrape sums the shards. */
#pragma once
#include <stdint.h>

#include "core/config.h"

struct evbuffer;

/* Counters per protocol (enum service). */
enum metric {
    MET_CONNECTIONS,         /* accepted */
    MET_CLOSED,              /* gone (active = accepted - closed) */
    MET_COMMANDS,            /* commands, HTTP requests, SFTP requests */
    MET_ERRORS,              /* refused commands, HTTP 4xx/5xx answers */
    MET_AUTH_FAILURES,       /* wrong user or password */
    MET_AUTH_LOCKOUTS,       /* refused by the login throttle */
    MET_BYTES_IN,            /* TCP payload received, counted when a session ends */
    MET_BYTES_OUT,           /* TCP payload sent (acknowledged), likewise */
    MET_DELIVERIES,          /* messages stored in a local mailbox or queued */
    MET_TLS_HANDSHAKES,      /* completed (implicit TLS and upgrades) */
    MET_UPSTREAM,            /* proxy: requests sent to an origin */
    MET_UPSTREAM_FAIL,       /* proxy: origins that failed (502/504) */
    MET_TUNNELS,             /* proxy: CONNECT and WebSocket tunnels opened */
    MET_CACHE_HITS,          /* proxy cache: answered from storage (fresh or stale) */
    MET_CACHE_MISSES,        /* proxy cache: looked up, forwarded to the origin */
    MET_CACHE_REVALIDATIONS, /* proxy cache: 304s that refreshed a stored response */
    MET_CACHE_STORED_BYTES,  /* proxy cache: bytes of entries stored */
    MET_COUNT
};

/* Point-in-time values a scrape gathers (off the loops). */
struct metrics_gauges {
    long pool_threads, pool_idle, pool_queued;
    long queue_messages; /* envelopes in data_dir/queue, -1 if unknown */
};

/* The calling thread (loop `index`) adds to that loop's shard from now on. */
void metrics_thread_shard(int index);
void metrics_add(enum service svc, enum metric m, uint64_t n);
/* One command's latency. */
void metrics_latency(enum service svc, uint64_t usec);
/* Monotonic microseconds, for latencies and durations. */
uint64_t metrics_now_us(void);
/* Appends the text exposition format (version 0.0.4). 0, or -1. */
int metrics_render(struct evbuffer *out, const struct metrics_gauges *g);
