/* srs: the Sender Rewriting Scheme for mail a local alias forwards to
 * another domain: the envelope sender becomes an address of ours, so the
 * destination's SPF check (RFC 7208) sees our domain, and a bounce still
 * names the original sender:
 *   SRS0=HHHH=TT=orig-domain=orig-local@our-domain
 * TT is the day (base32, mod 1024), HHHH the first 4 base64 characters of
 * HMAC-SHA1(secret, TT orig-domain orig-local) in lower case. Pure except
 * srs_secret_load. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define SRS_SECRET_MAX 128

/* Rewrites sender (local@domain) for our_domain at time now into out.
 * 0, or -1 (no '@', or out too small). */
int srs_forward(const char *secret, const char *sender, const char *our_domain,
                int64_t now, char *out, size_t len);
/* The configured secret, or data_dir/queue/srs.key (made with 32 random
 * bytes, hex, on first use). 0 or -1. Blocking: pool only. */
int srs_secret_load(int datadirfd, const char *configured, char *out, size_t len);
