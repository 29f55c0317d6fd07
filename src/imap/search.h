/* search: evaluating a SEARCH program (search_parse.h) over the selected
 * mailbox (RFC 9051 6.4.4), shared by SEARCH, SORT and THREAD. Keys are
 * evaluated in three rounds, each only when the earlier left the answer
 * open: the snapshot (flags, dates, sizes, UIDs, modseq), then the cached
 * summary (sent dates), then the message text (headers, body). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;
struct imap_parser;
struct imap_search;
struct imap_search_node;
struct imap_seqset;
struct imap_view;
struct mailbox;
struct mailbox_msg;
struct mime_summary;

enum search_level { SEARCH_SNAPSHOT, SEARCH_SUMMARY, SEARCH_TEXT };

/* What a key may need beyond the snapshot, fetched lazily per message by
 * the caller (search_run's on the pool; tests' fakes). Strings returned
 * are case-folded UTF-8 owned by the source; NULL when unreadable. */
struct search_src {
    void *arg;
    const struct mime_summary *(*summary)(void *arg);
    const char *(*header)(void *arg, const char *name); /* decoded values */
    const char *(*body)(void *arg);                     /* decoded text parts */
    const char *(*text)(void *arg);    /* the whole header, then the body */
    const char *(*emailid)(void *arg); /* RFC 8474 EMAILID, NULL if unknown */
};

struct search_msg {
    const struct mailbox_msg *m;
    uint32_t seq;
};

/* 1 matches, 0 does not, -1 unknown without a later level. Sets in the
 * program must be resolved first (search_prepare). */
int search_eval(const struct imap_search_node *n, const struct search_msg *msg,
                enum search_level level, const struct search_src *src);

/* Before evaluation: case-folds the string arguments (through fold, e.g.
 * mime_casefold; the copies are kept in *owned for search_release),
 * resolves "*" in UID sets against maxuid and in sequence sets against
 * nmsgs, and substitutes "$" (RFC 5182) with saved (UIDs; NULL: empty).
 * The deepest level any key needs goes to *need. 0 or -1. */
struct search_owned;
int search_prepare(struct imap_search *prog, char *(*fold)(const char *), uint32_t maxuid,
                   uint32_t nmsgs, const struct imap_seqset *saved,
                   enum search_level *need, struct search_owned **owned);
void search_release(struct search_owned **owned);

/* ---- running a program over the view (cmd_search.c), on the pool ---- */
struct search_run {
    struct imap_view *view;
    struct imap_search *prog;
    enum search_level need;
    size_t *match; /* ascending snapshot indexes */
    size_t n;
    uint64_t modseq; /* the highest modseq of the matches (RFC 7162 3.1.5) */
    int rc;
    struct mail_known *known; /* dates, sizes a sync did not learn (view_fill.c) */
};
/* Evaluates r->prog over every message of r->view. */
void search_run(struct search_run *r);

/* What SEARCH, SORT and THREAD share, first in each command's job. */
struct search_job {
    struct search_run run;
    struct imap_parser *p;
    struct search_owned *owned;
    bool uid;
    char err[256];
};
/* Starts one: the arguments parsed by parse (the command's own criteria
 * and j->run.prog; a negative result is replied with
 * imap_reply_parse_error), the program prepared over the view
 * (search_setup), then work on the pool and done back on the loop. If it
 * cannot start it has replied and called release(j). */
void search_job_start(struct session *s, struct search_job *j, char *args, bool uid,
                      int (*parse)(struct search_job *j), void (*work)(void *job),
                      void (*done)(struct session *s, void *job),
                      void (*release)(struct search_job *j));
/* Frees what the shared part holds (not j itself). */
void search_job_release(struct search_job *j);
/* On the loop, before search_run: search_prepare with the session's view,
 * saved result and the shared case folding. Replies BAD/NO itself on
 * error and returns -1. */
int search_setup(struct session *s, struct search_run *r, struct search_owned **owned);

/* Resolves a FETCH/STORE-style set, with "$" (RFC 5182) taken from the
 * saved result, into snapshot indexes (see imap_view_resolve). */
int imap_search_resolve_set(struct session *s, struct imap_seqset *set, bool uid,
                            size_t **idx, size_t *n);
/* Saves the matches (UIDs) as the RFC 5182 "$" result. */
void imap_search_save(struct session *s, const struct imap_view *v, const size_t *idx,
                      size_t n);

/* ---- responses (esearch.c) ---- */
/* RFC 4731 3.1 / RFC 5267 3.2 / RFC 9051 7.3.4: "* ESEARCH (TAG "t") [UID]
 * MIN MAX COUNT ALL" of vals[0..n) in result order (ascending for SEARCH,
 * the sort order for SORT), and MODSEQ when modseq (RFC 7162 3.1.5). */
void imap_reply_esearch(struct session *s, bool uid, unsigned ret, const uint32_t *vals,
                        size_t n, uint64_t modseq);
/* A parse failure of SEARCH/SORT/THREAD: BAD, or NO [BADCHARSET] (RFC
 * 9051 6.4.4) for an unsupported CHARSET. */
void imap_reply_parse_error(struct session *s, int rc, const char *err);
