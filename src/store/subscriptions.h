/* subscriptions: the account's subscribed folder names (RFC 9051 6.3.7,
 * 6.3.8), kept in a `subscriptions` file in the Maildir root as Courier
 * and Dovecot (version 1 format) do: one name per line, here the API's
 * UTF-8 form with '/' between levels. The file is the truth (the index is
 * a cache and is not consulted). Internal to store/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define SUBSCRIPTIONS_FILE "subscriptions"
#define SUBSCRIPTIONS_MAX 10000 /* names kept; more are ignored when read */

/* The names (malloc'd array of malloc'd strings; free with subs_free). A
 * missing file is the empty list. 0 or -1. */
int subs_read(int mailfd, char ***names, size_t *n);
void subs_free(char **names, size_t n);
/* Adds or removes a canonical name; durable (tmp/, fsync, rename, fsync of
 * the directory). Calls are serialised within the process. 0 or -1. */
int subs_set(int mailfd, const char *name, bool on);
