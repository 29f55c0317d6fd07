/* keycount: how many of something each key (an account name) holds, across
 * all threads, in a fixed table: FTP passive listeners per account. */
#pragma once
#include <stdbool.h>

struct keycount;

struct keycount *keycount_new(void);
void keycount_free(struct keycount *k); /* NULL is a no-op */
/* Counts one for key; false (nothing counted) at max or when full. */
bool keycount_acquire(struct keycount *k, const char *key, int max);
void keycount_release(struct keycount *k, const char *key);
