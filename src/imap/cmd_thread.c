/* cmd_thread: THREAD and UID THREAD (RFC 5256 3 ORDEREDSUBJECT and
 * REFERENCES, 4 the response): the program runs on the pool (search.h),
 * the keys come from the cached summaries (keys.h), thread.c builds and
 * renders the tree; no message is re-read. */
#include "imap/imap.h"

#include <stdlib.h>
#include <string.h>

#include "imap/keys.h"
#include "imap/parse.h"
#include "imap/search.h"
#include "imap/search_parse.h"
#include "imap/thread.h"

struct thread_cmd {
    struct search_job job; /* first: the command is its job */
    enum imap_thread_alg alg;
    char *result;
    int rc;
};

static void thread_cmd_free(struct search_job *j)
{
    struct thread_cmd *c = (struct thread_cmd *)j;
    search_job_release(j);
    free(c->result);
    free(c);
}

static void fill_item(struct thread_item *it, const struct mailbox_msg *m, size_t idx,
                      const struct msg_keys *k, bool uid)
{
    it->id = (uint32_t)idx + 1;
    if (uid)
        it->id = m->uid;
    it->seq = (uint32_t)idx + 1;
    /* RFC 5256 2.2: the Date: header, else INTERNALDATE. */
    it->date = k->sent_date;
    if (!it->date)
        it->date = m->internaldate;
    it->subject = k->subject;
    it->is_reply = k->reply;
    it->message_id = k->message_id;
    it->in_reply_to = k->in_reply_to;
    it->references = k->references;
}

static int thread_matches(struct thread_cmd *c)
{
    size_t n = c->job.run.n;
    struct thread_item *items = calloc(n + 1, sizeof *items);
    struct msg_keys *keys = calloc(n + 1, sizeof *keys);
    int rc = 0;
    if (!items || !keys)
        rc = -1;
    const struct mailbox_msg *msgs = c->job.run.view->snap->msgs;
    if (rc == 0)
        rc = msg_keys_load_all(c->job.run.view->mb, msgs, c->job.run.match, n, keys);
    struct mail_known *known = NULL;
    if (rc == 0)
        known = imap_view_fill_undated(c->job.run.view, c->job.run.match, n, keys);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        struct mailbox_msg tmp;
        const struct mailbox_msg *m = &msgs[c->job.run.match[i]];
        if (known)
            m = imap_msg_known(m, &known[i], &tmp);
        fill_item(&items[i], m, c->job.run.match[i], &keys[i], c->job.uid);
    }
    free(known);
    struct thread_tree t = {0};
    if (rc == 0 && c->alg == IMAP_THREAD_REFERENCES)
        rc = thread_references(items, n, &t);
    else if (rc == 0)
        rc = thread_orderedsubject(items, n, &t);
    if (rc == 0) {
        c->result = thread_render(&t, items);
        if (!c->result)
            rc = -1;
    }
    thread_tree_free(&t);
    for (size_t i = 0; keys && i < n; i++)
        msg_keys_free(&keys[i]);
    free(keys);
    free(items);
    mailbox_summary_flush(c->job.run.view->mb);
    return rc;
}

static void thread_work(void *arg)
{
    struct thread_cmd *c = arg;
    search_run(&c->job.run);
    c->rc = c->job.run.rc;
    if (c->rc == 0)
        c->rc = thread_matches(c);
}

static void thread_done(struct session *s, void *arg)
{
    struct thread_cmd *c = arg;
    if (!s) {
        thread_cmd_free(&c->job);
        return;
    }
    if (c->rc < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] thread failed");
        thread_cmd_free(&c->job);
        return;
    }
    /* RFC 5256 4: thread-data = "THREAD" [SP 1*thread-list] */
    if (c->result[0])
        imap_untagged(s, "THREAD %s", c->result);
    else
        imap_untagged(s, "THREAD");
    bool uid = c->job.uid;
    thread_cmd_free(&c->job);
    if (uid)
        imap_done(s, IMAP_REFRESH_NO_EXPUNGE, "OK", "UID THREAD completed");
    else
        imap_done(s, IMAP_REFRESH_NO_EXPUNGE, "OK", "THREAD completed");
}

static int thread_parse(struct search_job *j)
{
    struct thread_cmd *c = (struct thread_cmd *)j;
    return imap_thread_parse(j->p, &c->alg, &j->run.prog);
}

static void thread_start(struct session *s, char *args, bool uid)
{
    struct thread_cmd *c = calloc(1, sizeof *c);
    if (!c) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return;
    }
    search_job_start(s, &c->job, args, uid, thread_parse, thread_work, thread_done,
                     thread_cmd_free);
}

void imap_cmd_thread(struct session *s, char *args)
{
    thread_start(s, args, false);
}

void imap_cmd_uid_thread(struct session *s, char *args)
{
    thread_start(s, args, true);
}
