/* keys: SORT/THREAD keys copied from the cached summary (see keys.h). */
#include "imap/keys.h"

#include <stdlib.h>
#include <string.h>

#include "mime/summary.h"
#include "store/mailbox.h"

enum { NKEYS = 9 };

static const char *nz(const char *s)
{
    if (s)
        return s;
    return "";
}

/* Copies the keys of s into one block owned by out. 0 or -1. */
static int keys_copy(const struct mime_summary *s, struct msg_keys *out)
{
    const char **dst[NKEYS] = {&out->subject,    &out->from,         &out->to,
                               &out->cc,         &out->display_from, &out->display_to,
                               &out->message_id, &out->in_reply_to,  &out->references};
    const char *src[NKEYS] = {s->sort_subject, s->sort_from,    s->sort_to,
                              s->sort_cc,      s->display_from, s->display_to,
                              s->message_id,   s->in_reply_to,  s->references};
    size_t total = 0;
    for (int i = 0; i < NKEYS; i++)
        total += strlen(nz(src[i])) + 1;
    out->block = malloc(total);
    if (!out->block)
        return -1;
    char *p = out->block;
    for (int i = 0; i < NKEYS; i++) {
        size_t len = strlen(nz(src[i]));
        memcpy(p, nz(src[i]), len + 1);
        *dst[i] = p;
        p += len + 1;
    }
    out->sent_date = s->sent_date;
    out->reply = s->subject_reply != 0;
    return 0;
}

static void keys_empty(struct msg_keys *out)
{
    memset(out, 0, sizeof *out);
    out->subject = out->from = out->to = out->cc = "";
    out->display_from = out->display_to = "";
    out->message_id = out->in_reply_to = out->references = "";
}

/* Keys from a summary's cache text; 1 done, 0 unparsable, -1 no memory. */
static int keys_from_text(const char *text, struct msg_keys *out);

struct bulk {
    const struct mailbox_msg *msgs;
    const size_t *match;
    size_t n, at;
    struct msg_keys *out;
    bool *done;
    int rc;
};

static int bulk_row(void *arg, uint32_t uid, const char *text)
{
    struct bulk *b = arg;
    while (b->at < b->n && b->msgs[b->match[b->at]].uid < uid)
        b->at++;
    if (b->at == b->n || b->msgs[b->match[b->at]].uid != uid || !text)
        return 0;
    int r = keys_from_text(text, &b->out[b->at]);
    if (r < 0) {
        b->rc = -1;
        return -1;
    }
    b->done[b->at] = r == 1;
    return 0;
}

int msg_keys_load_all(struct mailbox *mb, const struct mailbox_msg *msgs,
                      const size_t *match, size_t n, struct msg_keys *out)
{
    if (n == 0)
        return 0;
    bool *done = calloc(n, sizeof *done);
    if (!done)
        return -1;
    struct bulk b = {msgs, match, n, 0, out, done, 0};
    mailbox_summary_range(mb, msgs[match[0]].uid, msgs[match[n - 1]].uid, bulk_row, &b);
    int rc = b.rc;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!done[i])
            rc = msg_keys_load(mb, &msgs[match[i]], &out[i]);
    free(done);
    return rc;
}

static int keys_from_text(const char *text, struct msg_keys *out)
{
    keys_empty(out);
    struct mime_summary *s = mime_summary_parse(text);
    if (!s)
        return 0;
    int rc = keys_copy(s, out);
    mime_summary_free(s);
    if (rc < 0)
        return -1;
    return 1;
}

int msg_keys_load(struct mailbox *mb, const struct mailbox_msg *m, struct msg_keys *out)
{
    keys_empty(out);
    char *text = mailbox_summary(mb, m->uid);
    int rc = 0;
    if (text)
        rc = keys_from_text(text, out);
    free(text);
    if (rc < 0)
        return -1;
    return 0;
}

void msg_keys_free(struct msg_keys *k)
{
    if (!k)
        return;
    free(k->block);
    k->block = NULL;
}
