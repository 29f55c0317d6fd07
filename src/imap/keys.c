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

int msg_keys_load(struct mailbox *mb, const struct mailbox_msg *m, struct msg_keys *out)
{
    memset(out, 0, sizeof *out);
    const char **dst[NKEYS] = {&out->subject,    &out->from,         &out->to,
                               &out->cc,         &out->display_from, &out->display_to,
                               &out->message_id, &out->in_reply_to,  &out->references};
    for (int i = 0; i < NKEYS; i++)
        *dst[i] = "";
    char *text = mailbox_summary(mb, m->uid);
    struct mime_summary *s = NULL;
    if (text)
        s = mime_summary_parse(text);
    free(text);
    if (!s)
        return 0;
    const char *src[NKEYS] = {s->sort_subject, s->sort_from,    s->sort_to,
                              s->sort_cc,      s->display_from, s->display_to,
                              s->message_id,   s->in_reply_to,  s->references};
    size_t total = 0;
    for (int i = 0; i < NKEYS; i++)
        total += strlen(nz(src[i])) + 1;
    out->block = malloc(total);
    if (!out->block) {
        mime_summary_free(s);
        return -1;
    }
    char *p = out->block;
    for (int i = 0; i < NKEYS; i++) {
        size_t len = strlen(nz(src[i]));
        memcpy(p, nz(src[i]), len + 1);
        *dst[i] = p;
        p += len + 1;
    }
    out->sent_date = s->sent_date;
    out->reply = s->subject_reply != 0;
    mime_summary_free(s);
    return 0;
}

void msg_keys_free(struct msg_keys *k)
{
    if (!k)
        return;
    free(k->block);
    k->block = NULL;
}
