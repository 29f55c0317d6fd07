/* password: crypt(3) hashing (yescrypt by default) and verification. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Hashes with a fresh yescrypt ($y$) salt. Returns 0 or -1. */
int password_hash(const char *password, char *out, size_t outlen);
/* True if hash is a scheme we accept: $y$, $6$ (sha512crypt), $2b$ (bcrypt). */
bool password_hash_supported(const char *hash);
/* True if hash is supported and well-formed: crypt(3) accepts it and it
 * has the length its scheme produces (for importing existing hashes). */
bool password_hash_valid(const char *hash);
/* True if password matches hash (constant-time comparison). */
bool password_verify(const char *password, const char *hash);
/* Fills out with len random characters from [A-Za-z0-9] and a NUL. */
int password_random(char *out, size_t len);
