/* imap expunge: EXPUNGE (RFC 9051 6.4.3) and UID EXPUNGE (RFC 4315 2.1),
 * durable through the mailbox handle on the pool, announced as EXPUNGE
 * (or VANISHED under QRESYNC, RFC 7162 3.2.10). */
#include "imap/imap.h"

#include "core/log.h"
#include "imap/parse.h"
#include "imap/seqset.h"

#include <stdlib.h>

struct expunge_job {
    struct mailbox *mb;
    uint32_t *uids; /* NULL: every \Deleted message */
    size_t n;
    uint32_t *expunged;
    size_t nexpunged;
    int rc;
};

static void expunge_work(void *arg)
{
    struct expunge_job *job = arg;
    job->rc =
        mailbox_expunge(job->mb, job->uids, job->n, &job->expunged, &job->nexpunged);
}

static void expunge_done(struct session *s, void *arg)
{
    struct expunge_job *job = arg;
    if (s && job->rc < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] EXPUNGE failed");
    } else if (s) {
        log_info(s->id, "imap expunge count=%zu", job->nexpunged);
        imap_view_expunged(s, job->expunged, job->nexpunged);
        imap_done(s, 0, "OK", "EXPUNGE completed");
    }
    free(job->uids);
    free(job->expunged);
    free(job);
}

static void start_expunge(struct session *s, uint32_t *uids, size_t n)
{
    struct imap_view *v = imap_of(s)->view;
    if (v->readonly) {
        free(uids);
        imap_tagged(s, "NO", "[READ-ONLY] mailbox is read-only");
        return;
    }
    struct expunge_job *job = calloc(1, sizeof *job);
    if (job)
        *job = (struct expunge_job){.mb = v->mb, .uids = uids, .n = n};
    if (!job || session_work(s, expunge_work, expunge_done, job) < 0) {
        free(uids);
        free(job);
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
    }
}

void imap_cmd_expunge(struct session *s, char *args)
{
    if (*args) {
        imap_bad(s, "EXPUNGE takes no arguments");
        return;
    }
    start_expunge(s, NULL, 0);
}

/* The \Deleted messages of the set, by UID (RFC 4315 2.1). */
static uint32_t *deleted_uids(struct imap_view *v, struct imap_seqset *set, size_t *n)
{
    size_t *idx = NULL, m = 0;
    *n = 0;
    if (imap_view_resolve(v, set, true, &idx, &m) < 0)
        return NULL;
    uint32_t *uids = malloc((m + 1) * sizeof *uids);
    for (size_t i = 0; uids && i < m; i++)
        if (v->snap->msgs[idx[i]].flags & MAIL_DELETED && !imap_view_gone(v, idx[i]))
            uids[(*n)++] = v->snap->msgs[idx[i]].uid;
    free(idx);
    return uids;
}

void imap_cmd_uid_expunge(struct session *s, char *args)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    struct imap_seqset *set = NULL;
    int rc = imap_seqset_parse(p, 0, &set);
    if (rc == 0)
        rc = imap_end(p);
    imap_parser_free(&p);
    if (rc < 0) {
        imap_seqset_free(&set);
        imap_bad(s, err);
        return;
    }
    size_t n = 0;
    uint32_t *uids = deleted_uids(imap_of(s)->view, set, &n);
    imap_seqset_free(&set);
    if (!uids) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return;
    }
    if (n == 0) {
        free(uids);
        imap_done(s, 0, "OK", "UID EXPUNGE completed");
        return;
    }
    start_expunge(s, uids, n);
}
