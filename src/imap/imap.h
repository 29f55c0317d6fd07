/* imap: the IMAP server (RFC 9051 IMAP4rev2, serving RFC 3501 IMAP4rev1
 * clients too) on the shared line-protocol session. This header is what
 * the command files of imap/ share: the states, the per-session data, the
 * selected mailbox (the view), the reply helpers and the handlers by file.
 * Pure syntax lives in parse.h, seqset.h and friends (core/mutf7.h for
 * modified UTF-7). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/accounts.h"
#include "auth/sasl_server.h"
#include "core/loop.h"
#include "core/session.h"
#include "store/mailbox.h"

struct evbuffer;
struct imap_seqset;
struct imap_parser;
struct imap_flags;

extern const struct service_impl imap_service;

/* RFC 9051 3: the four states. */
enum imap_state {
    IMAP_NOT_AUTHENTICATED,
    IMAP_AUTHENTICATED,
    IMAP_SELECTED,
    IMAP_LOGOUT,
    IMAP_STATE_COUNT
};

/* What the client turned on with ENABLE (RFC 5161), or implied by using a
 * CONDSTORE-enabling command (RFC 7162 3.1). */
enum {
    IMAP_ENABLED_REV2 = 1 << 0,      /* RFC 9051 */
    IMAP_ENABLED_UTF8 = 1 << 1,      /* RFC 6855 UTF8=ACCEPT */
    IMAP_ENABLED_CONDSTORE = 1 << 2, /* RFC 7162 3.1 */
    IMAP_ENABLED_QRESYNC = 1 << 3,   /* RFC 7162 3.2 (implies CONDSTORE) */
};

/* RFC 9051 6.3.12 / RFC 7889: [imap] max_message_size (APPENDLIMIT) when
 * not set: the same default as SMTP's. */
#define IMAP_DEFAULT_APPENDLIMIT (50ull << 20)
/* RFC 9051 5.4: the autologout timer is at least 30 minutes once
 * authenticated; before, a server may close sooner. */
#define IMAP_TIMEOUT_PREAUTH_SEC 60
#define IMAP_TIMEOUT_AUTH_SEC 1800

/* The selected mailbox (RFC 9051 6.3.2). Message number i+1 is
 * snap->msgs[i]; the numbering changes only when the session tells the
 * client (EXPUNGE / VANISHED), so messages expunged by others stay in the
 * view, marked gone, until a command may announce it (RFC 9051 7.5.1).
 * Usually snap is the shared version ver (store/mailbox.h: one immutable
 * copy per folder for every session on it) and gone is NULL; while the
 * view differs from every version (its own STORE before the store's next
 * version, unannounced expunges) it is a private copy, own, with gone
 * marks, until the next moment the session may catch up (view_apply.c). */
struct imap_view {
    struct mailbox *mb; /* store handle; used on the pool only */
    char name[MAIL_MAX_FOLDER + 1];
    bool readonly;                       /* EXAMINE, or the store refused writes */
    const struct mailbox_snapshot *snap; /* in UID order: &own or ver's */
    const struct mailbox_version *ver;   /* shared, or NULL when snap is &own */
    struct mailbox_snapshot own;
    bool *gone; /* snap->n marks (own only): expunged, not yet announced */
    size_t ngone;
    uint64_t modseq; /* HIGHESTMODSEQ the client knows */
    bool changed;    /* the bus said the folder changed */
    bool refreshing; /* a refresh is on the pool */
};

/* Whether view index i was expunged by others and not announced yet. */
static inline bool imap_view_gone(const struct imap_view *v, size_t i)
{
    return v->gone && v->gone[i];
}

struct imap {
    struct account account;
    unsigned enabled;          /* IMAP_ENABLED_* */
    struct imap_view *view;    /* while SELECTED */
    uint64_t bus_sub;          /* store/bus.h subscription, once logged in */
    bool idling;               /* inside IDLE (RFC 2177) */
    struct imap_seqset *saved; /* RFC 5182 SEARCHRES "$" (imapfetch's) */
    /* A long reply streaming (FETCH): freed here if the session ends
     * before it does (imapfetch's). */
    void (*stream_free)(void *arg);
    void *stream_arg;
    /* AUTHENTICATE's replies carry the tag (auth/sasl_server.h). */
    struct sasl_replies sasl_replies;
    char sasl_text[4][128];
};

static inline struct imap *imap_of(struct session *s)
{
    return s->data;
}

/* ---- session.c ---- */
/* The capability list for the current state into buf ("IMAP4rev1 ..."). */
void imap_capabilities(struct session *s, char *buf, size_t len);
/* The configured APPENDLIMIT ([imap] max_message_size). */
uint64_t imap_appendlimit(void);
/* The parser for the current command (IMAP_PARSE_UTF8 / _MUTF7 as the
 * client's ENABLEd state says); err is the buffer for its message. NULL on
 * out of memory (a NO has been sent). */
struct imap_parser *imap_parser_for(struct session *s, char *args, char *err,
                                    size_t errlen);
/* Sets the state (logged) and keeps the view in step: leaving SELECTED
 * frees the view. */
void imap_set_state(struct session *s, enum imap_state st);

/* ---- reply.c: every byte the server sends goes through these ---- */
/* "tag OK text" (status "OK", "NO" or "BAD"; text may start with a
 * response code "[...]"). Without a tag (the command's tag was unknown):
 * "* BAD text". */
void imap_tagged(struct session *s, const char *status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "* text" */
void imap_untagged(struct session *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "tag BAD <the parser's message>". */
void imap_bad(struct session *s, const char *msg);
/* Appends an IMAP string (RFC 9051 4.3) of data[0..len): quoted when it
 * can be (no CR, LF, NUL; 8-bit only with utf8), else a literal. */
void imap_buf_string(struct evbuffer *out, const char *data, size_t len, bool utf8);
/* NIL for NULL, else imap_buf_string. */
void imap_buf_nstring(struct evbuffer *out, const char *data, size_t len, bool utf8);
/* An astring: as an atom when it is one, else as imap_buf_string. */
void imap_buf_astring(struct evbuffer *out, const char *data, size_t len, bool utf8);
/* A mailbox name (UTF-8 inside): UTF-8 for IMAP4rev2 / UTF8=ACCEPT clients,
 * modified UTF-7 for rev1 (RFC 3501 5.1.3), as an astring. */
void imap_buf_mailbox(struct session *s, struct evbuffer *out, const char *name);
/* Flags of a message: "(\Seen \Deleted kw1 kw2)". */
void imap_buf_flags(struct evbuffer *out, unsigned flags, const char *keywords);
/* Sends out (emptied) to the client. */
void imap_send(struct session *s, struct evbuffer *out);
/* True if 8-bit UTF-8 may be sent in strings (RFC 9051 / RFC 6855). */
bool imap_utf8(struct session *s);

/* ---- view.c: the selected mailbox ---- */
/* A new view of an open mailbox on a shared version (its reference taken
 * over). */
struct imap_view *imap_view_new(struct mailbox *mb, const char *name, bool readonly,
                                const struct mailbox_version *ver);
/* Closes the mailbox on the pool and frees the view (NULL: no-op). */
void imap_view_free(struct imap_view *v);
/* Resolves a parsed sequence set against the view: by UID when uid, else
 * by message number; "*" is the last message (RFC 9051 6.4.8: for UIDs
 * "*" is the highest UID, and "n:*" matches it even when n is greater).
 * *idx (malloc'd, ascending snapshot indexes, may be NULL when *n is 0).
 * Message numbers beyond the mailbox make it -1 (RFC 9051 9 seq-number:
 * "BAD"); unknown UIDs are skipped (6.4.8). "$" must be substituted first. */
int imap_view_resolve(const struct imap_view *v, struct imap_seqset *set, bool uid,
                      size_t **idx, size_t *n);
/* The UIDs of the resolved indexes (malloc'd; NULL on out of memory). */
uint32_t *imap_view_uids(const struct imap_view *v, const size_t *idx, size_t n);
/* The snapshot index of a UID, or -1. */
long imap_view_find(const struct imap_view *v, uint32_t uid);

/* "* n FETCH (FLAGS (...))" for view index i: UID when with_uid (UID
 * STORE) or under QRESYNC, MODSEQ under CONDSTORE (RFC 7162 3.1.4). */
void imap_view_send_flags(struct session *s, size_t i, bool with_uid);
/* The same line for message number msn with m's flags, appended to out
 * (many lines, one send: STORE 1:*), or sent. */
void imap_buf_flags_line(struct session *s, struct evbuffer *out, size_t msn,
                         const struct mailbox_msg *m, bool with_uid);
void imap_send_flags_of(struct session *s, size_t msn, const struct mailbox_msg *m,
                        bool with_uid);
/* "* n EXPUNGE" (descending) or "* VANISHED uids" (QRESYNC) for the view
 * indexes idx (ascending); the caller then drops them from the view. */
void imap_view_announce_expunged(struct session *s, const size_t *idx, size_t n);
/* Takes the store's new state of a message (after STORE) into the view;
 * false if the UID is not in it. */
bool imap_view_update(struct imap_view *v, const struct mailbox_msg *m, size_t *at);
/* Makes the view a private copy (before changing it). -1 on out of memory. */
int imap_view_own(struct imap_view *v);
/* Drops the view's snapshot (shared or own) and its gone marks. */
void imap_view_clear(struct imap_view *v);

/* view_fill.c (pool): the internal dates and sizes (store/mailbox.h
 * mail_need) of the view messages at idx (ascending; NULL: all of
 * 0..n-1) with the ones the store had not learned yet learned (and kept
 * by the store), only for entries k with want[k] (want NULL: all):
 * malloc'd n values, or NULL when none lacks what need asks (or on
 * error: the snapshot's figures stand). */
struct mail_known *imap_view_fill(const struct imap_view *v, const size_t *idx, size_t n,
                                  unsigned need, const bool *want);
/* imap_view_fill of the internal dates of the entries whose keys[k] has
 * no sent date (RFC 5256 2.2: SORT DATE and THREAD use INTERNALDATE
 * then; imap/keys.h). */
struct msg_keys;
struct mail_known *imap_view_fill_undated(const struct imap_view *v, const size_t *idx,
                                          size_t n, const struct msg_keys *keys);
/* m, or m copied into tmp with k's figures (k may be NULL: m). */
const struct mailbox_msg *imap_msg_known(const struct mailbox_msg *m,
                                         const struct mail_known *k,
                                         struct mailbox_msg *tmp);

/* Flags for imap_view_refresh / imap_done. */
enum {
    IMAP_REFRESH_NO_EXPUNGE = 1 << 0, /* RFC 9051 7.5.1: FETCH, STORE, SEARCH */
    IMAP_REFRESH_ALWAYS = 1 << 1,     /* sync even without a bus signal (NOOP) */
};
/* Syncs the view with the store on the pool and sends the untagged
 * updates allowed now (EXISTS; EXPUNGE, or VANISHED under QRESYNC, unless
 * IMAP_REFRESH_NO_EXPUNGE; FETCH FLAGS, with UID under QRESYNC and MODSEQ
 * under CONDSTORE, for changes made by others), then calls then(s, arg) on
 * the loop (s NULL if the session went meanwhile). Returns -1 if the work
 * could not start (then is not called). */
typedef void (*imap_then_fn)(struct session *s, void *arg);
int imap_view_refresh(struct session *s, unsigned flags, imap_then_fn then, void *arg);
/* view_apply.c: sends the updates of fresh versus the view and adopts
 * fresh (its reference taken over), keeping unannounced expunges in a
 * private copy when no_expunge. Loop only. */
void imap_view_apply(struct session *s, const struct mailbox_version *fresh,
                     bool no_expunge);
/* Announces expunged UIDs of the view's own command (EXPUNGE, MOVE):
 * EXPUNGE n (descending) or VANISHED (QRESYNC), and removes them. */
void imap_view_expunged(struct session *s, const uint32_t *uids, size_t n);
/* Ends the command: if the bus signalled a change of the selected mailbox
 * (and the command allows, see the flags), refreshes first; then sends
 * "tag status text". */
void imap_done(struct session *s, unsigned flags, const char *status, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));
/* Subscribes the session to its account's changes (after login) and
 * unsubscribes (on close). */
void imap_bus_start(struct session *s);
void imap_bus_stop(struct session *s);
/* True if CONDSTORE is on (ENABLE CONDSTORE/QRESYNC or a CONDSTORE
 * command, RFC 7162 3.1): MODSEQ goes into FETCH responses. */
bool imap_condstore(struct session *s);

/* cmd_quota.c: true when [mail] quota or quota_messages sets a limit;
 * the capabilities that say which (" QUOTA QUOTA=RES-..." or ""); bytes
 * as the STORAGE resource's units of 1024 octets, a started one counted
 * (RFC 9208 5.1, STATUS DELETED-STORAGE too). */
bool imap_quota_on(void);
const char *imap_quota_caps(void);
uint64_t imap_quota_kib(uint64_t bytes);

/* cmd_mailbox.c: "* STATUS name (...)" (RFC 9051 7.3.4) for STATUS and
 * LIST RETURN (STATUS) (RFC 5819); items are IMAP_STATUS_* bits. */
void imap_status_line(struct session *s, struct evbuffer *out, const char *name,
                      unsigned items, const struct mail_status *st);
/* cmd_append.c: parsed flags to the store's MAIL_* bits and keyword text
 * (space-separated, truncated to kwlen). */
void imap_flags_to_store(const struct imap_flags *f, unsigned *flags, char *kw,
                         size_t kwlen);

/* ---- Handlers (imap_cmd_<verb>), by file ---- */
/* session.c: any state (RFC 9051 6.1) */
void imap_cmd_capability(struct session *s, char *args);
void imap_cmd_noop(struct session *s, char *args);
void imap_cmd_logout(struct session *s, char *args);
/* cmd_auth.c: not authenticated (RFC 9051 6.2) */
void imap_cmd_starttls(struct session *s, char *args);
void imap_cmd_login(struct session *s, char *args);
void imap_cmd_authenticate(struct session *s, char *args);
/* cmd_misc.c: ENABLE (RFC 5161), ID (RFC 2971), NAMESPACE (RFC 2342) */
void imap_cmd_enable(struct session *s, char *args);
void imap_cmd_id(struct session *s, char *args);
void imap_cmd_namespace(struct session *s, char *args);
void imap_cmd_compress(struct session *s, char *args);
/* cmd_select.c: SELECT, EXAMINE (RFC 9051 6.3.2/3, RFC 7162 3.1.2/3.2.5),
 * UNSELECT (RFC 3691), CLOSE (6.4.1) */
void imap_cmd_select(struct session *s, char *args);
void imap_cmd_examine(struct session *s, char *args);
void imap_cmd_unselect(struct session *s, char *args);
void imap_cmd_close(struct session *s, char *args);
/* cmd_mailbox.c: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS */
void imap_cmd_create(struct session *s, char *args);
void imap_cmd_delete(struct session *s, char *args);
void imap_cmd_rename(struct session *s, char *args);
void imap_cmd_subscribe(struct session *s, char *args);
void imap_cmd_unsubscribe(struct session *s, char *args);
void imap_cmd_status(struct session *s, char *args);
/* cmd_quota.c (RFC 9208) */
void imap_cmd_getquota(struct session *s, char *args);
void imap_cmd_getquotaroot(struct session *s, char *args);
void imap_cmd_setquota(struct session *s, char *args);
/* cmd_list.c: LIST (RFC 9051 6.3.9, RFC 5258, RFC 5819, RFC 6154), LSUB */
void imap_cmd_list(struct session *s, char *args);
void imap_cmd_lsub(struct session *s, char *args);
/* cmd_append.c: APPEND (RFC 9051 6.3.12, RFC 4315 APPENDUID, RFC 3502) */
void imap_cmd_append(struct session *s, char *args);
/* cmd_idle.c: IDLE (RFC 2177) */
void imap_cmd_idle(struct session *s, char *args);
/* cmd_expunge.c: EXPUNGE (6.4.3), UID EXPUNGE (RFC 4315 2.1) */
void imap_cmd_expunge(struct session *s, char *args);
void imap_cmd_uid_expunge(struct session *s, char *args);
/* cmd_store.c: STORE / UID STORE (6.4.6, RFC 7162 3.1.3) */
void imap_cmd_store(struct session *s, char *args);
void imap_cmd_uid_store(struct session *s, char *args);
/* cmd_copy.c: COPY / MOVE and UID forms (6.4.7, RFC 6851, RFC 4315) */
void imap_cmd_copy(struct session *s, char *args);
void imap_cmd_uid_copy(struct session *s, char *args);
void imap_cmd_move(struct session *s, char *args);
void imap_cmd_uid_move(struct session *s, char *args);
/* imapfetch's files: cmd_fetch*.c, cmd_search.c, cmd_sort.c, cmd_thread.c */
void imap_cmd_fetch(struct session *s, char *args);
void imap_cmd_uid_fetch(struct session *s, char *args);
void imap_cmd_search(struct session *s, char *args);
void imap_cmd_uid_search(struct session *s, char *args);
void imap_cmd_sort(struct session *s, char *args);
void imap_cmd_uid_sort(struct session *s, char *args);
void imap_cmd_thread(struct session *s, char *args);
void imap_cmd_uid_thread(struct session *s, char *args);

/* imapfetch's rows of the command table in session.c (FETCH, SEARCH, SORT,
 * THREAD and their UID forms), e.g.
 *   {"UID FETCH", STATE_BIT(IMAP_SELECTED), 0, imap_cmd_uid_fetch},
 * two-word verbs first. Empty until those handlers exist. */
#define IMAP_FETCH_COMMANDS                                                              \
    {"UID FETCH", SEL, 0, imap_cmd_uid_fetch},                                           \
        {"UID SEARCH", SEL, 0, imap_cmd_uid_search},                                     \
        {"UID SORT", SEL, 0, imap_cmd_uid_sort},                                         \
        {"UID THREAD", SEL, 0, imap_cmd_uid_thread}, {"FETCH", SEL, 0, imap_cmd_fetch},  \
        {"SEARCH", SEL, 0, imap_cmd_search}, {"SORT", SEL, 0, imap_cmd_sort},            \
        {"THREAD", SEL, 0, imap_cmd_thread},

/* Capabilities of imapfetch's commands, advertised once they work. */
#define IMAP_CAPS_SEARCH "ESEARCH SORT ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES"
