/* dkim: DKIM signing of outbound mail (RFC 6376) with Debian's libopendkim:
 * relaxed/relaxed, the usual header set, RSA-SHA256 (2048-bit keys) and
 * Ed25519-SHA256 (RFC 8463), both when the domain has both keys. Keys are
 * data_dir/dkim/<domain>.rsa.pem and <domain>.ed25519.pem (PEM, made by
 * `portico dkim keygen`), with the selectors DKIM_SELECTOR_RSA and
 * DKIM_SELECTOR_ED25519. Blocking (file reads): the work pool only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define DKIM_SELECTOR_RSA "portico"
#define DKIM_SELECTOR_ED25519 "portico-ed25519"
#define DKIM_MAX_SIG 4096 /* bytes of DKIM-Signature header fields */

/* The DKIM-Signature header fields (Ed25519 only when ed25519 is set) (LF form, each
 * ending in LF) for the message msg (LF form, len bytes) signed for domain, in out. 1
 * signed, 0 the domain has no key, -1 error (why filled). */
int dkim_sign_message(int datadirfd, const char *domain, bool ed25519, const char *msg,
                      size_t len, char *out, size_t outlen, char *why, size_t whylen);
