/* srs: the Sender Rewriting Scheme for mail a local alias forwards to
 * another domain: the envelope sender becomes an address of ours, so the
 * destination's SPF check (RFC 7208) sees our domain, and a bounce still
 * names the original sender:
 *   SRS0=HHHH=TT=orig-domain=orig-local@our-domain
 * TT is the day (base32, mod 1024), HHHH the first 4 base64 characters of
 * HMAC-SHA1(secret, TT orig-domain orig-local) in lower case. A bounce to
 * such an address is checked (srs_reverse) and sent on to orig-local@
 * orig-domain. Pure except srs_secret_load. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define SRS_SECRET_MAX 128
#define SRS_DAYS 1024 /* TT counts days modulo this */

enum srs_result {
    SRS_OK,        /* out holds the original sender */
    SRS_NOT_SRS,   /* not an SRS0 address of our_domain: an ordinary one */
    SRS_MALFORMED, /* SRS0= but not HHHH=TT=domain=local */
    SRS_BAD_HASH,  /* not made with our secret: forged */
    SRS_EXPIRED,   /* older than the allowed age */
};

/* Rewrites sender (local@domain) for our_domain at time now into out.
 * 0, or -1 (no '@', or out too small). */
int srs_forward(const char *secret, const char *sender, const char *our_domain,
                int64_t now, char *out, size_t len);
/* The reverse (a bounce to addr): the original sender when addr is an
 * SRS0 address of our_domain whose hash verifies and whose timestamp is at
 * most max_age_days old at now. */
enum srs_result srs_reverse(const char *secret, const char *addr, const char *our_domain,
                            int64_t now, int max_age_days, char *out, size_t len);
/* The configured secret, or data_dir/queue/srs.key (made with 32 random
 * bytes, hex, on first use). 0 or -1. Blocking: pool only. */
int srs_secret_load(int datadirfd, const char *configured, char *out, size_t len);
