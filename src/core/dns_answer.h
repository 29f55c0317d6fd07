/* dns_answer: a DNS answer as dns.c keeps it (in the cache and while it is
 * delivered), and the pure parser of a raw DNS message into one
 * (RFC 1035 4.1). No I/O: dns.c and the unit tests feed it. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "core/dns.h"

struct dns_answer {
    enum dns_status status;
    enum dns_type type;
    uint32_t ttl;
    size_t n;
    void *recs;  /* n records of the type's struct (dns.h's union) */
    char **strs; /* DNS_TXT: the n strings (recs points here too) */
};

/* Parses the records of type from a response message of len bytes into
 * out (DNS_OK with n >= 1, or DNS_NODATA when none; CNAME records are
 * skipped: the resolver follows them). ttl is the smallest record TTL,
 * capped at DNS_MAX_TTL. MX are sorted by preference (stable). 0, or -1
 * if the message is malformed (out is then empty). */
int dns_answer_parse(const unsigned char *msg, size_t len, enum dns_type type,
                     struct dns_answer *out);
/* Frees what dns_answer_parse allocated; out becomes empty. */
void dns_answer_clear(struct dns_answer *a);
/* Fills a borrowed result view of a (name and type from the caller). */
void dns_answer_view(const struct dns_answer *a, struct dns_result *r);
