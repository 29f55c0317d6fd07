/* fetch: what cmd_fetch.c (the command on the loop) and fetch_render.c
 * (the responses, built on the pool) share. A batch of messages is
 * rendered on the pool into segments: bytes ready to send, or a large
 * literal still in the file, streamed (LF to CRLF) by the loop with
 * bounded memory. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "imap/fetch_body.h"

struct evbuffer;
struct imap_fetch;
struct mailbox;
struct mailbox_msg;

/* Literals up to this size are read and converted on the pool; larger
 * ones are streamed from the file by the loop. */
#define FETCH_INLINE_MAX (256u << 10)
/* A batch ends after this many messages or this many rendered bytes. */
#define FETCH_BATCH_MSGS 512
#define FETCH_BATCH_BYTES (1u << 20)
/* HEADER.FIELDS filters headers up to this size in memory. */
#define FETCH_MAX_HEADER (8u << 20)

struct fetch_seg {
    struct evbuffer *buf; /* bytes ready, or NULL for a file range */
    int fd;               /* owned */
    uint64_t off, left;   /* LF bytes still to read */
    struct crlf_conv conv;
    uint64_t pad; /* bytes still owed to the announced literal size */
};

struct fetch_batch {
    struct fetch_seg *segs;
    size_t n, cap, cur;
    size_t bytes;
};

/* The command's settings, read-only while batches render. */
struct fetch_ctx {
    const struct imap_fetch *f;
    struct mailbox *mb;
    bool uid_cmd;     /* UID FETCH: UID in every response */
    bool want_modseq; /* MODSEQ asked, or implied by CHANGEDSINCE */
    bool need_summary, need_file;
    bool need_vsize;     /* RFC822.SIZE, a body section, BODY without a summary */
    unsigned need_known; /* MAIL_NEED_* to learn first (store/mailbox.h) */
};

struct fetch_msg {
    uint32_t seq;
    const struct mailbox_msg *m;
    bool flags;          /* FLAGS changed by this FETCH (\Seen): include them */
    const char *summary; /* its cached summary text if prefetched, or NULL */
};

/* Appends the "* n FETCH (...)" response of one message to b. 0 or -1
 * (out of memory). Pool thread. */
int fetch_render_msg(const struct fetch_ctx *c, const struct fetch_msg *fm,
                     struct fetch_batch *b);
/* Frees the segments (closing their files). */
void fetch_batch_clear(struct fetch_batch *b);
/* Writes about room bytes of b's segments to out; 1 when b is sent, 0 for
 * more, -1 on a read error. Loop thread. */
int fetch_batch_send(struct fetch_batch *b, struct evbuffer *out, size_t room);
/* Which items need the summary / the file / figures a sync may not have
 * learned (fills c->need_*). */
void fetch_ctx_needs(struct fetch_ctx *c);
