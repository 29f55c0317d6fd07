/* dns: asynchronous DNS on the loop threads with c-ares (MX, A, AAAA, TXT,
 * TLSA). One resolver per loop thread: its c-ares sockets are libevent
 * events of that loop, so a query is asked and answered on the loop that
 * asked it, without locks and never with getaddrinfo on a loop thread.
 * Answers are cached per resolver for their TTL (a bounded cache). The
 * servers are the system's (/etc/resolv.conf) or `[relay] resolver =
 * ADDR:PORT`. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct loop;
struct dns;
struct dns_query;

#define DNS_CACHE_MAX 1024  /* entries per resolver; the oldest go first */
#define DNS_MAX_TTL 86400   /* a longer TTL is cached this long */
#define DNS_NEGATIVE_TTL 60 /* NXDOMAIN / no data is cached this long */
#define DNS_MAX_RECORDS 64  /* records kept per answer; more are dropped */
#define DNS_TIMEOUT_MS 2000 /* per try, per server */
#define DNS_TRIES 2

enum dns_type { DNS_A, DNS_AAAA, DNS_MX, DNS_TXT, DNS_TLSA };

enum dns_status {
    DNS_OK,       /* n >= 1 records */
    DNS_NXDOMAIN, /* the name does not exist (a permanent answer) */
    DNS_NODATA,   /* the name exists, no record of this type */
    DNS_TEMPFAIL, /* timeout, SERVFAIL, refused, unreachable: try later */
    DNS_BADNAME,  /* the name is not a valid DNS name (nothing was asked) */
};

struct dns_mx {
    uint16_t preference;
    char host[256]; /* lower case, no trailing dot; "" is the null MX "." */
};

struct dns_tlsa { /* RFC 6698 2.1 */
    uint8_t usage, selector, mtype;
    size_t len;
    const unsigned char *data;
};

/* A result, borrowed for the duration of the callback only (copy what you
 * keep). Records are in the order of the answer, except MX which is sorted
 * by preference (RFC 5321 5.1; equal preferences keep the answer's order). */
struct dns_result {
    enum dns_status status;
    enum dns_type type;
    const char *name; /* as asked */
    uint32_t ttl;     /* seconds left (the smallest TTL of the records) */
    bool cached;      /* answered from the cache */
    size_t n;
    union {
        const struct in_addr *a;     /* DNS_A */
        const struct in6_addr *aaaa; /* DNS_AAAA */
        const struct dns_mx *mx;     /* DNS_MX */
        const char *const *txt;      /* DNS_TXT: each record's strings
                                      * joined (RFC 7208 3.3), NUL-ended */
        const struct dns_tlsa *tlsa; /* DNS_TLSA */
    } u;
    const char *error; /* DNS_TEMPFAIL: c-ares' reason, for logs */
};

/* Called once on the resolver's loop thread, never inside dns_query's own
 * frame (a cached answer is delivered from the loop too), unless the query
 * was cancelled first. The query handle is invalid once fn runs. */
typedef void (*dns_done_fn)(const struct dns_result *r, void *arg);

/* A resolver driven by base. server: "ADDR:PORT" / "[ADDR]:PORT" / "ADDR"
 * (port 53), or NULL/"" for the system's servers. NULL with err set on
 * failure. Use it only on the thread running base. */
struct dns *dns_new(struct event_base *base, const char *server, char *err,
                    size_t errlen);
/* The same with c-ares' per-try timeout and tries (dns_new uses
 * DNS_TIMEOUT_MS and DNS_TRIES); tests make a silent server fail fast. */
struct dns *dns_new_timeout(struct event_base *base, const char *server, int timeout_ms,
                            int tries, char *err, size_t errlen);
/* Cancels every outstanding query (their callbacks never run) and frees
 * the resolver. dns_free(NULL) is a no-op. */
void dns_free(struct dns *d);

/* The resolver of loop's thread, made on first use from the runtime's
 * [relay] resolver (or the system's), freed by dns_loop_free on that thread
 * when the loop ends. NULL if it cannot be made (logged). Call only on the
 * loop's own thread. */
struct dns *dns_for_loop(struct loop *loop);
void dns_loop_free(void);

/* Asks for name's records of type. Returns a handle for dns_cancel, or NULL
 * if the query could not start (no memory): fn then never runs. An invalid
 * name is not an error here: fn gets DNS_BADNAME from the loop. */
struct dns_query *dns_query(struct dns *d, enum dns_type type, const char *name,
                            dns_done_fn fn, void *arg);
/* The requester is gone: fn never runs; the handle is invalid afterwards.
 * Only before fn has run, on the resolver's thread. */
void dns_cancel(struct dns_query *q);

/* "A", "AAAA", "MX", "TXT", "TLSA"; and back (case-insensitive; 0/-1). */
const char *dns_type_name(enum dns_type t);
int dns_type_parse(const char *s, enum dns_type *out);
/* "ok", "nxdomain", "nodata", "tempfail", "badname". */
const char *dns_status_name(enum dns_status s);

/* Cache statistics of a resolver (tests, metrics). */
void dns_cache_stats(struct dns *d, size_t *entries, uint64_t *hits, uint64_t *misses);
