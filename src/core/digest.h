/* digest: message digests fetched from OpenSSL once per process. With
 * OpenSSL 3, EVP_sha256() is an implicit fetch that every EVP_Digest call
 * resolves again (a provider lookup under locks): per-message hashing
 * (EMAILIDs, 10,000 in one SELECT) paid more for the lookup than for the
 * hash. */
#pragma once
#include <openssl/evp.h>

/* SHA-256, fetched on first use; never NULL unless OpenSSL has none. */
const EVP_MD *digest_sha256(void);
