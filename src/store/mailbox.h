/* mailbox: the mail store's API for the protocols (POP3, IMAP, SMTP): folder
 * snapshots, opening a message by UID, durable expunge, usage and quota.
 * Every call is blocking (directory scans, SQLite, fsync): protocols run
 * them on the work pool, never on a loop thread. Changes are published on
 * the change bus (store/bus.h). The POP3 maildrop lock is store/lock.h.
 *
 * Folders are named as IMAP shows them: "INBOX", "Sent", "A/B". */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "core/limits.h"
#include "store/deliver.h"

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

/* ---- The mailbox handle: IMAP's (and later the web client's) read-write
 * view of one folder. Every call blocks (pool threads only). Each write is
 * durable before it returns 0 (files fsynced, directories fsynced, index
 * committed) and publishes on the change bus (store/bus.h). ---- */

/* System flags (RFC 9051 2.3.2) and their Maildir letters (Maildir's
 * "info" semantics: D F P R S T, kept in ASCII order in new names). */
enum {
    MAIL_SEEN = 1 << 0,      /* S */
    MAIL_ANSWERED = 1 << 1,  /* R */
    MAIL_FLAGGED = 1 << 2,   /* F */
    MAIL_DELETED = 1 << 3,   /* T */
    MAIL_DRAFT = 1 << 4,     /* D */
    MAIL_FORWARDED = 1 << 5, /* P, IMAP keyword $Forwarded */
};
/* Keywords: space-separated atoms, kept in the index (RFC 9051 2.3.2).
 * Compared case-insensitively; "$Forwarded" is stored as MAIL_FORWARDED.
 * A keyword that is not an atom (or starts with '\') is EINVAL, more than
 * the limits below E2BIG. */
#define MAIL_MAX_KEYWORDS 64       /* distinct keywords per message */
#define MAIL_MAX_KEYWORDS_LEN 2048 /* their text, space-separated */

/* One message of a mailbox snapshot. keywords is NULL when there are none
 * (owned by the snapshot). Its EMAILID is asked for (mailbox_emailid). */
struct mailbox_msg {
    uint32_t uid;
    unsigned flags; /* MAIL_* */
    char *keywords;
    uint64_t modseq;
    int64_t internaldate;
    uint64_t size, vsize;
};

struct mailbox_snapshot {
    uint32_t uidvalidity, uidnext;
    uint64_t highest_modseq;
    char mailboxid[40]; /* RFC 8474 MAILBOXID, stable across RENAME */
    size_t n;
    struct mailbox_msg *msgs; /* in UID order */
};
void mailbox_snapshot_free(struct mailbox_snapshot *snap); /* NULL: no-op */
/* The index of uid in s->msgs (binary search), or -1. */
long mailbox_snapshot_find(const struct mailbox_snapshot *s, uint32_t uid);

struct mailbox;

/* Opens a folder ("INBOX", "Sent", "A/B"; INBOX case-insensitive). NULL with
 * errno ENOENT when it does not exist, EINVAL for a bad name (empty, over
 * MAIL_MAX_FOLDER or NAME_MAX on disk, not UTF-8, control characters, '/'
 * at an end or doubled, '.', '%' or '*'). */
struct mailbox *mailbox_open(int datadirfd, const struct account *a, const char *folder);
void mailbox_close(struct mailbox *mb); /* NULL is a no-op */
const char *mailbox_name(const struct mailbox *mb);

/* Syncs with the Maildir (files others added, moved or re-flagged) and
 * lists every message. 0 or -1. */
int mailbox_snapshot(struct mailbox *mb, struct mailbox_snapshot *out);

/* Shared snapshots (store/mailbox_version.c): the folder as one immutable,
 * reference-counted version, the same object for every handle of the same
 * (account, folder) while nothing changed, replaced by a new version when
 * something did. Syncs with the Maildir first, like mailbox_snapshot. Each
 * get or ref is matched by one put (any thread; NULL is a no-op). The
 * snapshot is never written to: copy it to change it. NULL on error. */
struct mailbox_version;
const struct mailbox_version *mailbox_version_get(struct mailbox *mb);
const struct mailbox_version *mailbox_version_ref(const struct mailbox_version *v);
void mailbox_version_put(const struct mailbox_version *v);
const struct mailbox_snapshot *mailbox_version_snap(const struct mailbox_version *v);
/* Versions in the table now, held or retained (tests); and dropping the
 * retained ones (tests, shutdown). */
size_t mailbox_version_count(void);
void mailbox_version_flush(void);

/* RFC 7162 3.1/RFC 7162 3.2.5.2: messages whose modseq > since (in out),
 * and UIDs expunged after since (malloc'd array in *vanished, ascending). */
int mailbox_changes_since(struct mailbox *mb, uint64_t since,
                          struct mailbox_snapshot *out, uint32_t **vanished,
                          size_t *nvanished);

/* Appends the message in srcfd (offset 0, CRLF or LF form; stored as LF)
 * through the same durable path as delivery (tmp/, fsync, rename, fsync),
 * with flags, keywords (may be NULL) and an internal date (0: now).
 * Checks the account's quota first: STORE_OVER_QUOTA. *uid gets its UID,
 * *uidvalidity the folder's (RFC 4315 APPENDUID). */
enum store_result mailbox_append(struct mailbox *mb, int srcfd, unsigned flags,
                                 const char *keywords, int64_t internaldate,
                                 const struct store_quota *quota, uint32_t *uid,
                                 uint32_t *uidvalidity);

/* STORE (RFC 9051 6.4.6, RFC 7162 3.1.3). */
enum mailbox_flag_op { MAILBOX_FLAGS_SET, MAILBOX_FLAGS_ADD, MAILBOX_FLAGS_REMOVE };
struct mailbox_flag_change {
    enum mailbox_flag_op op;
    unsigned flags;          /* MAIL_* */
    const char *keywords;    /* space-separated, may be NULL */
    uint64_t unchangedsince; /* 0: no condition */
};
/* RFC 7162 3.1.3 "UNCHANGEDSINCE 0" (always fails) cannot be written here
 * (0 means no condition): the caller answers it without calling.
 * Applies ch to each UID in uids (unknown ones skipped): renames the file
 * (new/ -> cur/ with the new info part), fsyncs its directory, bumps the
 * message's modseq. UIDs that failed UNCHANGEDSINCE go to *modified
 * (malloc'd, may be NULL when none). The result (every UID that still
 * exists, changed or not, with its flags and modseq) goes to out. */
int mailbox_store_flags(struct mailbox *mb, const uint32_t *uids, size_t n,
                        const struct mailbox_flag_change *ch,
                        struct mailbox_snapshot *out, uint32_t **modified,
                        size_t *nmodified);

/* COPY / MOVE (RFC 9051 6.4.7, RFC 6851) to another folder of the same
 * account. Copy hard-links where it can (else copies the bytes), move
 * renames the file across folders and expunges the source rows. Flags and
 * keywords go with the message; MOVE keeps its EMAILID. dst_uids (n
 * entries, 0 for a UID that did not exist) and *dst_uidvalidity feed
 * RFC 4315 COPYUID. Durable before return. ENOENT: no such destination.
 * Checks the quota for copies. */
enum store_result mailbox_copy(struct mailbox *mb, const uint32_t *uids, size_t n,
                               const char *dest, bool move,
                               const struct store_quota *quota, uint32_t *dst_uids,
                               uint32_t *dst_uidvalidity);

/* Expunges uids (NULL: every message with MAIL_DELETED) durably; the UIDs
 * really removed go to *expunged (malloc'd, ascending). Records them with
 * the new modseq for mailbox_changes_since. */
int mailbox_expunge(struct mailbox *mb, const uint32_t *uids, size_t n,
                    uint32_t **expunged, size_t *nexpunged);

/* Message bytes (LF line ends, as store_message_open). */
int mailbox_message_open(struct mailbox *mb, uint32_t uid);
/* The RFC 8474 EMAILID of uid into out (MAILBOX_EMAILID_LEN): stable
 * across MOVE and index rebuilds, derived from the file's base name; asked
 * for, not kept in snapshots (a hash per message was a fourteenth of a
 * cold SELECT). Uses a batch's names (mailbox_expect_opens). 0, or -1
 * (ENOENT: no such UID). */
#define MAILBOX_EMAILID_LEN 24
int mailbox_emailid(struct mailbox *mb, uint32_t uid, char *out, size_t outlen);
/* The next opens (mailbox_message_open, mailbox_summary) are of UIDs in
 * lo..hi, until mailbox_summary_flush: the first one reads every file name
 * of the range in one query. At most MAILBOX_NAMES_MAX UIDs; a wider range
 * is ignored (each open looks its name up). */
#define MAILBOX_NAMES_MAX 2048
void mailbox_expect_opens(struct mailbox *mb, uint32_t lo, uint32_t hi);

/* The cached parse of a message (mime/summary.h, serialised): computed on
 * first use with the mime module and kept in the index. malloc'd string or
 * NULL (ENOENT: no such UID; EIO: the message cannot be parsed or the
 * mime module is missing). */
char *mailbox_summary(struct mailbox *mb, uint32_t uid);
/* Summaries computed by mailbox_summary are written to the index in one
 * transaction per MAILBOX_SUMMARY_PENDING (a cache fill: one commit, one
 * fsync, for a batch instead of one per message); this writes the ones
 * still pending. mailbox_close does it too.
 * The handle holds no index connection between calls: the one-shot calls
 * (snapshot, versions, changes, writes) check one out of the cache and
 * give it back; the per-message reads (message_open, summary, summary_range,
 * summary_put) keep theirs until mailbox_summary_flush or mailbox_close,
 * so a batch pays one checkout. */
#define MAILBOX_SUMMARY_PENDING 256
/* The cached summaries of UIDs lo..hi in UID order, in one index query
 * (FETCH, SORT and THREAD over a whole mailbox): cb(arg, uid, text) for
 * each UID whose summary is cached; the others are not reported (call
 * mailbox_summary for those after, never from cb); cb returning -1 stops.
 * 0 or -1. */
int mailbox_summary_range(struct mailbox *mb, uint32_t lo, uint32_t hi,
                          int (*cb)(void *arg, uint32_t uid, const char *summary),
                          void *arg);
void mailbox_summary_flush(struct mailbox *mb);
/* A summary text the caller computed (mime_summary_fd + _serialise, e.g.
 * on several threads at once, outside the handle's lock) to cache like
 * mailbox_summary's own. 0 or -1. */
int mailbox_summary_put(struct mailbox *mb, uint32_t uid, const char *text);
/* The same with what the parse learned besides, kept where the index
 * lacks it (mailbox_unknown): the CRLF size it counted
 * (mime_summary_vsize, 0: none) and, from fd (the message file it read,
 * or -1), the internal date and size, so the commands that asked for
 * the summary stat nothing more. */
int mailbox_summary_put_file(struct mailbox *mb, uint32_t uid, const char *text,
                             uint64_t vsize, int fd);

/* What a sync may leave unknown (store/index_fill.c): a file another
 * program put in the Maildir is recorded from its name alone, so its
 * snapshot row says internaldate 0 (not stat'd yet), size 0 (unless the
 * name has S=) and vsize 0 (unless it has W=) until a reader needs them.
 * mailbox_unknown says which of need are unknown for m. */
enum mail_need {
    MAIL_NEED_DATE = 1 << 0,  /* INTERNALDATE (the file's mtime) */
    MAIL_NEED_SIZE = 1 << 1,  /* bytes on disk (quota, body ranges) */
    MAIL_NEED_VSIZE = 1 << 2, /* RFC822.SIZE: the file is read (its LFs) */
    MAIL_NEED_ALL = MAIL_NEED_DATE | MAIL_NEED_SIZE | MAIL_NEED_VSIZE,
};
struct mail_known {
    uint32_t uid;
    int64_t internaldate;
    uint64_t size, vsize;
};
unsigned mailbox_unknown(const struct mailbox_msg *m, unsigned need);
bool mailbox_vsize_unknown(const struct mailbox_msg *m); /* its RFC822.SIZE */
/* Learns what need asks of the messages uids (n, ascending) that the
 * index does not know yet, from their files (a stat, or a read for the
 * CRLF size), keeps it in the index (one transaction) and hands
 * cb(arg, known) every one of uids that still exists, in UID order. A
 * file that is not where the index says is looked for again after one
 * sync (then cb hears every UID a second time, in order: the later call
 * is the one to keep); one that is gone gets now as its date, as a
 * sync's failed stat did, and is not stored (the next sync expunges
 * it). 0 or -1. */
int mailbox_fill(struct mailbox *mb, const uint32_t *uids, size_t n, unsigned need,
                 void (*cb)(void *arg, const struct mail_known *k), void *arg);

/* ---- Folders of an account ---- */

/* RFC 6154 special uses of the default folders. */
enum mail_special {
    MAIL_SPECIAL_NONE,
    MAIL_SPECIAL_SENT,
    MAIL_SPECIAL_DRAFTS,
    MAIL_SPECIAL_TRASH,
    MAIL_SPECIAL_JUNK,
    MAIL_SPECIAL_ARCHIVE
};
struct mail_folder {
    char name[MAIL_MAX_FOLDER + 1]; /* "INBOX", "A/B" (UTF-8, '/' separated) */
    enum mail_special special;
    bool subscribed, exists; /* exists false: subscribed but not there */
    bool has_children;
    char mailboxid[40];
};
/* Every folder (and subscribed names that no longer exist), sorted by name
 * with INBOX first. 0 or -1. */
int store_folder_list(int datadirfd, const struct account *a, struct mail_folder **out,
                      size_t *n);
/* CREATE (RFC 9051 6.3.4: missing parents are created too), DELETE (6.3.5:
 * the folder and its messages; INBOX refused with EPERM; children stay),
 * RENAME (6.3.6: with its children; renaming INBOX moves its messages into
 * the new folder and leaves INBOX empty), SUBSCRIBE/UNSUBSCRIBE (6.3.7/8).
 * -1 with errno EEXIST / ENOENT / EINVAL (bad name) / EPERM. Durable. */
int store_folder_create(int datadirfd, const struct account *a, const char *name);
int store_folder_delete(int datadirfd, const struct account *a, const char *name);
int store_folder_rename(int datadirfd, const struct account *a, const char *from,
                        const char *to);
int store_folder_subscribe(int datadirfd, const struct account *a, const char *name,
                           bool on);
/* 1 when the folder exists, 0 when not (or its name is not one), -1 on
 * error. */
int store_folder_exists(int datadirfd, const struct account *a, const char *name);
/* STATUS figures without a snapshot (RFC 9051 6.3.11, RFC 8438 SIZE). */
struct mail_status {
    uint32_t messages, unseen, deleted, uidnext, uidvalidity;
    uint64_t size, highest_modseq;
    uint64_t deleted_size; /* bytes on disk an EXPUNGE would free */
    char mailboxid[40];
};
int store_folder_status(int datadirfd, const struct account *a, const char *name,
                        struct mail_status *out);
