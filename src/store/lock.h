/* lock: the in-process POP3 maildrop lock (RFC 1939 8: one session holds an
 * account's maildrop at a time). Thread-safe; per account address. */
#pragma once
#include <stdbool.h>

/* 0 if taken now, -1 if another session holds it (or no memory). */
int store_maildrop_trylock(const char *account);
void store_maildrop_unlock(const char *account);
bool store_maildrop_locked(const char *account);
