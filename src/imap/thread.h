/* thread: RFC 5256 THREAD=ORDEREDSUBJECT (section 3, "ORDEREDSUBJECT")
 * and THREAD=REFERENCES (section 3, "REFERENCES", steps 1-6) as pure
 * functions over arrays of keys from the cached summary, plus the
 * rendering of a thread tree as the IMAP THREAD response's data
 * (RFC 5256 4). No I/O: the HTTP mail API reuses the trees. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One message's threading keys. Strings are never NULL ("" if absent). */
struct thread_item {
    uint32_t id;         /* what the response shows: sequence number or UID */
    uint32_t seq;        /* mailbox order: ties in sent date */
    int64_t date;        /* RFC 5256 2.2 sent date (INTERNALDATE if no Date:) */
    const char *subject; /* RFC 5256 2.1 base subject */
    bool is_reply;       /* the subject was a reply or forward (2.1) */
    const char *message_id, *in_reply_to, *references; /* "<a@b> <c@d>" */
};

/* A thread tree: node 0 is the root (no message); item is an index into
 * the items array, or -1 for a dummy (a message referred to but absent). */
struct thread_node {
    int32_t item;
    int32_t parent, child, next, prev; /* node indexes, -1 for none */
};
struct thread_tree {
    struct thread_node *nodes;
    size_t n;
};

/* Build the tree. 0, or -1 when out of memory. */
int thread_orderedsubject(const struct thread_item *items, size_t n,
                          struct thread_tree *out);
int thread_references(const struct thread_item *items, size_t n, struct thread_tree *out);
void thread_tree_free(struct thread_tree *t); /* zeroed or NULL: no-op */

/* The THREAD response data (RFC 5256 4): "(2)(3 6 (4 23)(44 7 96))",
 * "" for no messages. malloc'd, NULL when out of memory. */
char *thread_render(const struct thread_tree *t, const struct thread_item *items);

/* Whether a raw Subject is a reply or forward in the sense of RFC 5256
 * 2.1: a leading "re:"/"fw:"/"fwd:" (after [blobs]) or a trailing "(fwd)",
 * or a "[fwd: ...]" wrapper. */
bool thread_subject_is_reply(const char *subject);
