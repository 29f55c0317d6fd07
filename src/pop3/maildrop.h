/* maildrop: a POP3 session's view of an account's INBOX, fixed at login
 * (RFC 1939 5: message numbers are stable for the session), with DELE marks
 * applied only by maildrop_commit in the UPDATE state; and the in-process
 * lock that keeps a second POP3 session out. The only pop3/ file that talks
 * to the mail store. Load and commit block: run them on the work pool. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"

struct maildrop;

/* Locks / unlocks the account's maildrop against other POP3 sessions
 * (store/lock.h). */
bool maildrop_lock(const char *account);
void maildrop_unlock(const char *account);

/* Syncs the index and snapshots INBOX. NULL on failure. Blocking. */
struct maildrop *maildrop_load(const struct account *a);
void maildrop_free(struct maildrop *d); /* NULL is a no-op */

/* Counts and sizes of the messages not marked deleted. */
size_t maildrop_count(const struct maildrop *d);
uint64_t maildrop_octets(const struct maildrop *d);

/* Message n (1-based, as the client numbers them): 0 if it exists and is not
 * deleted, -1 if out of range, -2 if marked deleted. */
int maildrop_check(const struct maildrop *d, uint32_t n);
uint64_t maildrop_size(const struct maildrop *d, uint32_t n);      /* CRLF octets */
uint64_t maildrop_file_size(const struct maildrop *d, uint32_t n); /* bytes stored */
/* The UIDL string: "<uidvalidity>.<uid>", the IMAP identity (RFC 1939 7). */
void maildrop_uidl(const struct maildrop *d, uint32_t n, char *out, size_t outlen);
/* Total number of messages, deleted or not (for listing loops). */
uint32_t maildrop_total(const struct maildrop *d);

void maildrop_mark_deleted(struct maildrop *d, uint32_t n);
void maildrop_unmark_all(struct maildrop *d);
/* Opens message n read-only; -1 with errno. Cheap (openat). */
int maildrop_open_message(struct maildrop *d, uint32_t n);

/* Removes the marked messages durably (files unlinked, directories fsynced,
 * index updated, the change published). Returns 0 or -1. Blocking. */
int maildrop_commit(struct maildrop *d);
/* True once maildrop_commit succeeded. */
bool maildrop_committed(const struct maildrop *d);
