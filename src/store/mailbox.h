/* mailbox: the mail store's API for the protocols (POP3, IMAP, SMTP): folder
 * snapshots, opening a message by UID, durable expunge, usage and quota.
 * Every call is blocking (directory scans, SQLite, fsync): protocols run
 * them on the work pool, never on a loop thread. Changes are published on
 * the change bus (store/bus.h). The POP3 maildrop lock is store/lock.h.
 *
 * Folders are named as IMAP shows them: "INBOX", "Sent", "A/B". */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "core/limits.h"

struct mail_msg {
    uint32_t uid;
    uint64_t size;  /* bytes on disk (LF line ends) */
    uint64_t vsize; /* bytes as sent with CRLF line ends (POP3 LIST, IMAP RFC822.SIZE) */
    uint64_t modseq;
    int64_t internaldate; /* seconds since the epoch */
    char flags[32];       /* Maildir letters after ":2,", as in the file name */
    char path[MAIL_MAX_FILENAME + 8]; /* "new/<name>" or "cur/<name>:2,<flags>" */
};

struct mail_snapshot {
    uint32_t uidvalidity, uidnext;
    uint64_t highest_modseq;
    size_t n;
    struct mail_msg *msgs; /* in UID order */
};

/* Syncs the folder's index with its Maildir (picking up files others dropped
 * in, rebuilding a lost index with a new UIDVALIDITY) and lists it. 0 or -1.
 * Free with store_snapshot_free. */
int store_snapshot(int datadirfd, const struct account *a, const char *folder,
                   struct mail_snapshot *out);
void store_snapshot_free(struct mail_snapshot *snap); /* NULL is a no-op */

/* Opens a message read-only by UID (O_CLOEXEC). The bytes have LF line ends:
 * send each LF as CRLF (vsize counts it that way). -1 with errno ENOENT if
 * there is no such UID (or it was expunged meanwhile). */
int store_message_open(int datadirfd, const struct account *a, const char *folder,
                       uint32_t uid);

/* Removes the messages durably: unlink, fsync the directories, then the
 * index rows, then a BUS_EXPUNGED event. Unknown UIDs are skipped. 0 or -1. */
int store_expunge(int datadirfd, const struct account *a, const char *folder,
                  const uint32_t *uids, size_t n);

/* Bytes and messages over all folders. 0 or -1. */
int store_usage(int datadirfd, const struct account *a, uint64_t *bytes,
                uint64_t *messages);

/* [mail] quota / quota_messages: would one more message of `bytes` fit?
 * 0 yes, 1 over quota (RFC 3463 4.2.2, a temporary failure), -1 error.
 * quota_bytes / quota_messages of 0 mean unlimited. */
int store_quota_check(int datadirfd, const struct account *a, uint64_t bytes,
                      uint64_t quota_bytes, uint64_t quota_messages);
