/* queue: the outbound spool, data_dir/queue/ (DESIGN.md "Storage"). An
 * entry is one file, two when its record is large or rewritten:
 *   <id>.msg  the message with LF line ends, and in its extended
 *             attribute user.portico.queue (QUEUE_ATTR) the envelope
 *             record as first written (record.c: sender, DSN parameters,
 *             one block per recipient with its state); replaced
 *             (atomically, with the attribute) only once, when DKIM
 *             signatures are prepended before the first attempt
 *   <id>.env  the record as a file: every rewrite after the first write
 *             (deferred with the last reply and the next attempt,
 *             delivered, failed, held), and a first record too large for
 *             the attribute or on a file system without them. When it
 *             exists it is the record; the attribute is then stale.
 * A new entry: the .msg is written (with its attribute) and fsynced under
 * another name (tmp., or a reused free. file: pool.c) and renamed, never
 * over an existing name; then queue/ is fsynced in a group commit (sync.c:
 * one directory fsync for every writer waiting at that moment). One
 * file and one file fsync a message (DECISIONS.md "The first record lives
 * in the message file"). A .msg without a record (no .env, no attribute)
 * is an orphan of a write that never got its 250.
 * A rewrite writes the .env the same way (write-new, fsync, rename,
 * grouped fsync of queue/), so a kill -9 leaves the old record or the new
 * one and at most the attempts in flight are repeated (at-least-once).
 * Removing a finished entry is not fsynced (DECISIONS.md "Queue removals
 * are not fsynced"): a removal lost in a crash brings back an entry whose
 * recipients all had their final answer, and it is delivered again; that
 * is the at-least-once duplicate, never a loss. In the running server the
 * removed files go to the pool for reuse.
 * A record that cannot be read is moved to queue/corrupt/ and reported.
 * Requests from `portico queue` arrive as files in queue/ctl/ (ctl.c).
 * Every function here blocks: call it on the work pool or in the CLI. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define QUEUE_ID_MAX 64
#define QUEUE_ADDR_MAX 512 /* RFC 5321 4.5.3.1.3: 256-octet paths, with room */
#define QUEUE_REPLY_MAX 512
#define QUEUE_ENVID_MAX 101 /* RFC 3461 4.4: 100 characters */
#define QUEUE_ORCPT_MAX 520 /* RFC 3461 4.2: "rfc822;" + xtext address */
#define QUEUE_MAX_RCPT 10000
#define QUEUE_RECORD_MAX (4u << 20) /* a larger .env is garbage */
/* The extended attribute of a .msg that holds its first record, and the
 * largest record written there (ext4 keeps one attribute block of 4 KiB). */
#define QUEUE_ATTR "user.portico.queue"
#define QUEUE_ATTR_MAX 3072

enum queue_state { QR_PENDING, QR_DEFERRED, QR_DELIVERED, QR_FAILED };

/* RFC 3461 4.1 NOTIFY, as bits; 0 means not given (the default: FAILURE
 * and perhaps DELAY, 4.1). */
enum {
    QN_NEVER = 1,
    QN_SUCCESS = 2,
    QN_FAILURE = 4,
    QN_DELAY = 8,
};
/* RFC 3461 4.3 RET. */
enum queue_ret { QRET_DEFAULT, QRET_FULL, QRET_HDRS };

struct queue_rcpt {
    char addr[QUEUE_ADDR_MAX];
    enum queue_state state;
    int64_t next;    /* next attempt (unix seconds), 0 = now */
    int tries;       /* attempts so far */
    unsigned notify; /* QN_* bits */
    char orcpt[QUEUE_ORCPT_MAX];
    char reply[QUEUE_REPLY_MAX]; /* the last reply (or why), one line */
    char mx[256];                /* the host that gave it */
};

struct queue_env {
    char id[QUEUE_ID_MAX];
    char from[QUEUE_ADDR_MAX]; /* "" = the null sender */
    int64_t created;           /* unix seconds */
    char envid[QUEUE_ENVID_MAX];
    enum queue_ret ret;
    bool held;          /* `queue hold`: not attempted until released */
    bool delay_noticed; /* the "delayed" DSN went out */
    bool is_bounce;     /* a DSN we made: never bounced itself (no loops) */
    bool smtputf8, body8;
    bool dkim_done; /* the signer has seen it (relay/dkim.c) */
    size_t nrcpt;
    struct queue_rcpt *rcpts;
};

/* ---- record.c: the .env text (pure, no I/O) ---- */

/* Parses a record (the whole file) into env (rcpts allocated; free with
 * queue_env_clear). 0, or -1 with why set and env cleared. */
int queue_env_parse(const char *buf, size_t len, struct queue_env *env, const char **why);
/* The record text of env in a malloc'd buffer (NUL-terminated), or NULL. */
char *queue_env_format(const struct queue_env *env, size_t *len);
void queue_env_clear(struct queue_env *env);
/* Copies s into dst as one printable line (CR, LF, controls become spaces),
 * truncated to size. Used for replies before they go in a record. */
void queue_line_copy(char *dst, size_t size, const char *s);
const char *queue_state_name(enum queue_state st);
/* True when every recipient is delivered or failed. */
bool queue_env_done(const struct queue_env *env);

/* ---- store.c: the files ---- */

/* Opens data_dir/queue (creating it and its ctl/ and corrupt/ folders). */
int queue_open_dir(int datadirfd);
/* Reads the record (<id>.env, else <id>.msg's attribute). 0; -1 with
 * errno (ENOENT: gone); -2 garbage (why set). */
int queue_env_load(int qfd, const char *id, struct queue_env *env, const char **why);
/* Rewrites <id>.env durably (tmp, fsync, rename, grouped fsync of queue/).
 * 0 or -1. */
int queue_env_store(int qfd, const struct queue_env *env);
/* Removes the entry (the .env first, then the .msg), without an fsync:
 * after a crash the entry may be back, with its last or its first record
 * (see above). 0, or -1 (ENOENT: no .msg). */
int queue_remove(int qfd, const char *id);
/* Makes every rename this thread did in qfd durable: one fsync of the
 * directory shared with every other thread waiting at the same time
 * (sync.c). 0, or -1 with errno. */
int queue_sync_dir(int qfd);
/* Moves <id>.env and <id>.msg (whichever exist) to corrupt/. 0 or -1. */
int queue_move_aside(int qfd, const char *id);
/* Opens <id>.msg read-only, or -1. */
int queue_open_msg(int qfd, const char *id);
/* Calls fn for every entry id (a name ending in .msg), in no order; at
 * most max ids. Returns the count, or -1. */
int queue_list_ids(int qfd, size_t max, void (*fn)(const char *id, void *arg), void *arg);
/* True when id is a queue id we could have made (no '/', no dots at the
 * start, bounded): checked before any file name is built from it. */
bool queue_id_valid(const char *id);

/* ---- pool.c: spent queue files reused (DECISIONS.md) ---- */

struct stat;
/* Turns reuse on for queue/ (qfd), taking in the free, tmp. and orphan
 * files last changed before `before` (the server's start). The running
 * server's scheduler calls it once, on the pool. 0 or -1. */
int queue_pool_start(int qfd, time_t before);
void queue_pool_stop(void);
/* Writes name in qfd durably but for the directory (the caller's
 * queue_sync_dir): fill writes into a ready free file (or a new tmp.
 * file), which is cut to what was written, fsynced and renamed to name;
 * with noreplace an existing name fails with EEXIST. 0, or -1 with errno. */
int queue_pool_publish(int qfd, const char *name, bool noreplace,
                       int (*fill)(int fd, void *arg), void *arg);
/* Removes name (in qfd) into the pool, or unlinks it. 0, or -1 (ENOENT). */
int queue_pool_remove(int qfd, const char *name);
/* How many free files may be written now (tests). */
size_t queue_pool_ready(void);
/* sync.c: the number a flush of queue/ must reach to have begun after this
 * call, and the flush's report (dir: the queue/ it fsynced). */
uint64_t queue_sync_next(void);
void queue_pool_synced(const struct stat *dir, uint64_t seq);

/* ---- writer.c: new entries ---- */

struct queue_new {
    const char *from;
    const char *const *rcpts; /* addresses */
    const unsigned *notify;   /* per recipient, or NULL */
    const char *const *orcpt; /* per recipient, or NULL */
    size_t nrcpt;
    const char *envid; /* or NULL */
    enum queue_ret ret;
    bool is_bounce, smtputf8, body8;
};

/* Queues the message in srcfd (CRLF or LF form, read from offset 0) after
 * prefix (LF form, may be ""). id gets the new entry's name (at least
 * QUEUE_ID_MAX bytes). 0 or -1. */
int queue_write(int datadirfd, const char *prefix, int srcfd, const struct queue_new *n,
                char *id, size_t idlen);
/* Replaces <id>.msg by prefix + its old content (tmp, fsync, rename,
 * fsync dir): DKIM signatures. 0 or -1 (the old file stays). */
int queue_prepend_msg(int qfd, const char *id, const char *prefix);
/* The same from a memory buffer (bounces). */
int queue_write_buf(int datadirfd, const char *msg, size_t len, const struct queue_new *n,
                    char *id, size_t idlen);

/* ---- announce.c: telling the scheduler about new entries ---- */

/* The scheduler's listener (relay/), called on the writer's thread with the
 * new id; it must be thread-safe. NULL to unset. */
void queue_set_listener(void (*fn)(const char *id));
/* Called by writers once an entry is durable (after queue_write). */
void queue_announce(const char *id);
