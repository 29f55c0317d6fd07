/* deliver: putting one message into one account's folder durably
 * (DESIGN.md "Storage"): write to tmp/, fsync, rename into new/, fsync new/;
 * only then may the sender be told 250. Staging and committing are apart so
 * that a message for several accounts is staged everywhere first and
 * committed only when every copy is safely on disk. Blocking: pool only. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"

/* Line-end normaliser for the stored form (LF only). RFC 5322 2.3: CR and LF
 * occur only together, so CRLF, a bare LF and a bare CR each become one LF. */
struct lf_norm {
    bool cr; /* the last byte seen was a CR */
};
/* Converts n bytes into out (room for n + 1); returns the bytes written. */
size_t lf_normalise(struct lf_norm *st, const char *in, size_t n, char *out);
/* Flushes a pending CR at the end of input (0 or 1 byte into out). */
size_t lf_normalise_end(struct lf_norm *st, char *out);

enum store_result { STORE_OK, STORE_OVER_QUOTA, STORE_ERROR, STORE_NO_SPACE };

struct store_delivery;

struct store_quota {
    uint64_t bytes, messages; /* 0 = unlimited */
};

/* Stages prefix (already LF form, e.g. Return-Path and Received) followed by
 * the message in srcfd (read from offset 0, CRLF form; normalised to LF)
 * into tmp/ of the account's folder, fsynced. Checks the quota first. */
enum store_result store_delivery_stage(int datadirfd, const struct account *a,
                                       const char *folder, const char *prefix, int srcfd,
                                       const struct store_quota *quota,
                                       struct store_delivery **out);
/* Renames into new/, fsyncs new/ (the message is now safe), then records it
 * in the index and publishes BUS_DELIVERED. 0, or -1 if it is not safe.
 * Blocks while other threads' commits share the same fsync (group commit). */
int store_delivery_commit(struct store_delivery *d);
/* store_delivery_commit for n copies (NULL entries skipped), in one group.
 * Returns how many copies are not safe (0: every copy is). */
int store_delivery_commit_all(struct store_delivery **d, size_t n);
/* Removes a staged file that was not committed. NULL is a no-op. */
void store_delivery_free(struct store_delivery *d);

/* ---- store/ internal: what mailbox_append adds to a delivery ---- */
struct delivery_meta {
    const char *info;     /* Maildir flag letters; the file goes to cur/ */
    const char *keywords; /* normalised, may be NULL */
    int64_t internaldate; /* also the file's mtime; 0 for now */
};
enum store_result store_delivery_stage_meta(int datadirfd, const struct account *a,
                                            const char *folder, const char *prefix,
                                            int srcfd, const struct store_quota *quota,
                                            const struct delivery_meta *meta,
                                            struct store_delivery **out);
/* After a commit: the UID (0 if the index did not record it), the folder's
 * UIDVALIDITY and the file's base name (valid until store_delivery_free). */
void store_delivery_result(const struct store_delivery *d, uint32_t *uid,
                           uint32_t *uidvalidity, const char **base);
