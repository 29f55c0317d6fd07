/* imap select: SELECT and EXAMINE (RFC 9051 6.3.2/6.3.3) with the
 * CONDSTORE and QRESYNC parameters (RFC 7162 3.1.8, 3.2.5), UNSELECT
 * (RFC 3691) and CLOSE (RFC 9051 6.4.1: a silent expunge). */
#include "imap/imap.h"

#include "core/log.h"
#include "imap/args_parse.h"
#include "imap/parse.h"
#include "imap/seqset.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft $Forwarded"

struct select_job {
    struct account account;
    char name[MAIL_MAX_FOLDER + 1];
    bool readonly, condstore, qresync;
    uint32_t uidvalidity; /* QRESYNC: the client's */
    uint64_t modseq;
    struct imap_seqset *known_uids;
    struct mailbox *mb;
    const struct mailbox_version *ver;
    struct mailbox_snapshot changes;
    uint32_t *vanished;
    size_t nvanished;
    int err; /* errno of a failure, 0 on success */
};

static void select_job_free(struct select_job *job)
{
    mailbox_close(job->mb);
    mailbox_version_put(job->ver);
    mailbox_snapshot_free(&job->changes);
    imap_seqset_free(&job->known_uids);
    free(job->vanished);
    free(job);
}

static void select_work(void *arg)
{
    struct select_job *job = arg;
    job->mb = mailbox_open(runtime->datadir_fd, &job->account, job->name);
    if (job->mb)
        job->ver = mailbox_version_get(job->mb);
    if (!job->ver) {
        job->err = errno ? errno : EIO;
        return;
    }
    /* RFC 7162 3.2.5.2: changes are reported only for the same UIDVALIDITY. */
    if (job->qresync && job->uidvalidity == mailbox_version_snap(job->ver)->uidvalidity &&
        mailbox_changes_since(job->mb, job->modseq, &job->changes, &job->vanished,
                              &job->nvanished) < 0)
        job->err = errno ? errno : EIO;
}

/* RFC 7162 3.2.5.2: VANISHED (EARLIER), limited to the known UIDs. */
static void send_vanished(struct session *s, struct select_job *job)
{
    size_t n = 0;
    for (size_t i = 0; i < job->nvanished; i++)
        if (!job->known_uids || imap_seqset_contains(job->known_uids, job->vanished[i]))
            job->vanished[n++] = job->vanished[i];
    if (n == 0)
        return;
    size_t need = imap_seqset_format(job->vanished, n, NULL, 0);
    char *set = malloc(need + 1);
    if (!set)
        return;
    imap_seqset_format(job->vanished, n, set, need + 1);
    session_printf(s, "* VANISHED (EARLIER) %s\r\n", set);
    free(set);
}

static void send_changes(struct session *s, struct select_job *job)
{
    struct imap_view *v = imap_of(s)->view;
    send_vanished(s, job);
    for (size_t i = 0; i < job->changes.n; i++) {
        long at = imap_view_find(v, job->changes.msgs[i].uid);
        if (at >= 0)
            imap_view_send_flags(s, (size_t)at, true);
    }
}

static long first_unseen(const struct mailbox_snapshot *snap)
{
    for (size_t i = 0; i < snap->n; i++)
        if (!(snap->msgs[i].flags & MAIL_SEEN))
            return (long)i + 1;
    return 0;
}

/* RFC 9051 6.3.2 (and RFC 3501 6.3.1 RECENT/UNSEEN for rev1 clients). */
static void send_select(struct session *s, struct select_job *job)
{
    struct imap *im = imap_of(s);
    struct imap_view *v = im->view;
    bool rev1 = !(im->enabled & IMAP_ENABLED_REV2);
    session_printf(s, "* %zu EXISTS\r\n", v->snap->n);
    if (rev1)
        session_printf(s, "* 0 RECENT\r\n");
    session_printf(s, "* FLAGS (" SYSTEM_FLAGS ")\r\n");
    if (v->readonly)
        session_printf(s, "* OK [PERMANENTFLAGS ()] read-only\r\n");
    else
        session_printf(s, "* OK [PERMANENTFLAGS (" SYSTEM_FLAGS
                          " \\*)] flags permitted\r\n");
    long unseen = first_unseen(v->snap);
    if (rev1 && unseen)
        session_printf(s, "* OK [UNSEEN %ld] first unseen\r\n", unseen);
    session_printf(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n", v->snap->uidvalidity);
    session_printf(s, "* OK [UIDNEXT %u] predicted next UID\r\n", v->snap->uidnext);
    session_printf(s, "* OK [HIGHESTMODSEQ %llu] highest\r\n",
                   (unsigned long long)v->snap->highest_modseq);
    session_printf(s, "* OK [MAILBOXID (%s)] id\r\n", v->snap->mailboxid);
    if (job->qresync && job->uidvalidity == v->snap->uidvalidity)
        send_changes(s, job);
}

static void select_done(struct session *s, void *arg)
{
    struct select_job *job = arg;
    if (!s) {
        select_job_free(job);
        return;
    }
    struct imap *im = imap_of(s);
    if (job->err) {
        log_info(s->id, "imap select_failed mailbox=%s errno=%d", job->name, job->err);
        if (job->err == ENOENT || job->err == EINVAL)
            imap_tagged(s, "NO", "[NONEXISTENT] no such mailbox");
        else
            imap_tagged(s, "NO", "[SERVERBUG] cannot open the mailbox");
        select_job_free(job);
        return;
    }
    im->view = imap_view_new(job->mb, job->name, job->readonly, job->ver);
    if (!im->view) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        select_job_free(job);
        return;
    }
    job->mb = NULL;
    job->ver = NULL;
    if (job->condstore)
        im->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1.8 */
    session_set_state(s, IMAP_SELECTED);
    send_select(s, job);
    log_info(s->id, "imap select mailbox=%s messages=%zu readonly=%d", job->name,
             im->view->snap->n, job->readonly);
    imap_tagged(s, "OK", "[%s] %s completed", job->readonly ? "READ-ONLY" : "READ-WRITE",
                job->readonly ? "EXAMINE" : "SELECT");
    select_job_free(job);
}

/* RFC 9051 6.3.2: SELECT first closes the selected mailbox; RFC 7162
 * 3.2.11: a QRESYNC client is told so with [CLOSED]. */
static void deselect(struct session *s)
{
    struct imap *im = imap_of(s);
    if (s->state != IMAP_SELECTED)
        return;
    imap_set_state(s, IMAP_AUTHENTICATED);
    if (im->enabled & IMAP_ENABLED_QRESYNC)
        session_printf(s, "* OK [CLOSED] previous mailbox closed\r\n");
}

static struct select_job *parse_select(struct session *s, char *args, bool readonly)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return NULL;
    struct imap_select sel = {0};
    struct select_job *job = NULL;
    int rc = imap_select_parse(p, &sel);
    if (rc == 0 && sel.qresync && !(imap_of(s)->enabled & IMAP_ENABLED_QRESYNC))
        rc = imap_error(p, "QRESYNC is not enabled"); /* RFC 7162 3.2.5 */
    if (rc == 0)
        job = calloc(1, sizeof *job);
    if (job) {
        job->account = imap_of(s)->account;
        snprintf(job->name, sizeof job->name, "%s", sel.mailbox);
        job->readonly = readonly;
        job->condstore = sel.condstore;
        job->qresync = sel.qresync;
        job->uidvalidity = sel.uidvalidity;
        job->modseq = sel.modseq;
        job->known_uids = sel.known_uids;
        sel.known_uids = NULL;
        if (job->known_uids && imap_seqset_resolve(job->known_uids, UINT32_MAX) < 0)
            imap_seqset_free(&job->known_uids);
    }
    if (rc == 0)
        imap_select_clear(&sel);
    if (rc < 0)
        imap_bad(s, err);
    else if (!job)
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
    imap_parser_free(&p);
    return job;
}

static void select_common(struct session *s, char *args, bool readonly)
{
    struct select_job *job = parse_select(s, args, readonly);
    if (!job)
        return;
    deselect(s);
    if (session_work(s, select_work, select_done, job) < 0) {
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
        select_job_free(job);
    }
}

void imap_cmd_select(struct session *s, char *args)
{
    select_common(s, args, false);
}

void imap_cmd_examine(struct session *s, char *args)
{
    select_common(s, args, true);
}

/* RFC 3691 2: leave SELECTED without expunging. */
void imap_cmd_unselect(struct session *s, char *args)
{
    if (*args) {
        imap_bad(s, "UNSELECT takes no arguments");
        return;
    }
    imap_set_state(s, IMAP_AUTHENTICATED);
    imap_tagged(s, "OK", "UNSELECT completed");
}

struct close_job {
    struct mailbox *mb;
    uint32_t *expunged;
    size_t n;
    int rc;
};

static void close_work(void *arg)
{
    struct close_job *job = arg;
    job->rc = mailbox_expunge(job->mb, NULL, 0, &job->expunged, &job->n);
}

static void close_done(struct session *s, void *arg)
{
    struct close_job *job = arg;
    if (s) {
        log_info(s->id, "imap close expunged=%zu", job->n);
        imap_set_state(s, IMAP_AUTHENTICATED);
        imap_tagged(s, "OK", "CLOSE completed");
    }
    free(job->expunged);
    free(job);
}

/* RFC 9051 6.4.1: \Deleted messages go without untagged EXPUNGE; a
 * read-only mailbox is closed as it is. */
void imap_cmd_close(struct session *s, char *args)
{
    struct imap_view *v = imap_of(s)->view;
    if (*args) {
        imap_bad(s, "CLOSE takes no arguments");
        return;
    }
    struct close_job *job = NULL;
    if (!v->readonly)
        job = calloc(1, sizeof *job);
    if (job)
        job->mb = v->mb;
    if (!job || session_work(s, close_work, close_done, job) < 0) {
        free(job);
        imap_set_state(s, IMAP_AUTHENTICATED);
        imap_tagged(s, "OK", "CLOSE completed");
    }
}
