/* keys: the SORT and THREAD keys of the matched messages, copied out of
 * their cached summaries on the pool (RFC 5256 2.1 base subject, 2.2 sent
 * date, 3 addresses; RFC 5957 display names; Message-ID, In-Reply-To and
 * References). One allocation per message holds its strings. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mailbox;
struct mailbox_msg;

struct msg_keys {
    int64_t sent_date; /* 0 when missing: callers fall back to INTERNALDATE */
    bool reply;        /* RFC 5256 2.1: a Re:/Fwd: was removed */
    const char *subject, *from, *to, *cc, *display_from, *display_to;
    const char *message_id, *in_reply_to, *references;
    char *block; /* owns the strings */
};

/* Loads the keys of m (all "" when it has no summary). 0 or -1. */
int msg_keys_load(struct mailbox *mb, const struct mailbox_msg *m, struct msg_keys *out);
/* The keys of msgs[match[i]] for i < n (match ascending) into out[i]: the
 * cached summaries in one index query, the others computed. 0 or -1. */
int msg_keys_load_all(struct mailbox *mb, const struct mailbox_msg *msgs,
                      const size_t *match, size_t n, struct msg_keys *out);
void msg_keys_free(struct msg_keys *k);
