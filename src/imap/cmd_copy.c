/* imap copy: COPY and MOVE, by number and by UID (RFC 9051 6.4.7/6.4.8,
 * RFC 6851 MOVE), through the mailbox handle on the pool, answered with
 * COPYUID (RFC 4315 3); MOVE announces the expunges (EXPUNGE or VANISHED). */
#include "imap/imap.h"

#include "core/config.h"
#include "core/log.h"
#include "imap/parse.h"
#include "imap/seqset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct copy_job {
    struct mailbox *mb;
    bool move;
    char dest[MAIL_MAX_FOLDER + 1];
    uint32_t *uids, *dst;
    size_t n;
    uint32_t uidvalidity;
    enum store_result result;
    int err;
};

static void copy_work(void *arg)
{
    struct copy_job *job = arg;
    struct store_quota q = {runtime->cfg->mail_quota_bytes,
                            (uint64_t)runtime->cfg->mail_quota_messages};
    errno = 0;
    job->result = mailbox_copy(job->mb, job->uids, job->n, job->dest, job->move, &q,
                               job->dst, &job->uidvalidity);
    job->err = errno;
}

static void copy_job_free(struct copy_job *job)
{
    free(job->uids);
    free(job->dst);
    free(job);
}

/* "uidvalidity src-set dst-set" of the messages that were copied; NULL
 * when none was. */
static char *copyuid(struct copy_job *job, uint32_t **moved, size_t *nmoved)
{
    size_t n = 0;
    for (size_t i = 0; i < job->n; i++) {
        if (!job->dst[i])
            continue;
        job->uids[n] = job->uids[i];
        job->dst[n] = job->dst[i];
        n++;
    }
    *moved = job->uids;
    *nmoved = n;
    if (n == 0)
        return NULL;
    size_t a = imap_seqset_format(job->uids, n, NULL, 0);
    size_t b = imap_seqset_format(job->dst, n, NULL, 0);
    char *text = malloc(a + b + 16);
    if (!text)
        return NULL;
    int off = snprintf(text, a + b + 16, "%u ", job->uidvalidity);
    imap_seqset_format(job->uids, n, text + off, a + 1);
    text[off + a] = ' ';
    imap_seqset_format(job->dst, n, text + off + a + 1, b + 1);
    return text;
}

static void copy_failed(struct session *s, struct copy_job *job)
{
    const char *verb = job->move ? "MOVE" : "COPY";
    if (job->result == STORE_OVER_QUOTA)
        imap_tagged(s, "NO", "[OVERQUOTA] %s: over quota", verb);
    else if (job->err == ENOENT)
        imap_tagged(s, "NO", "[TRYCREATE] %s: no such mailbox", verb);
    else
        imap_tagged(s, "NO", "[SERVERBUG] %s failed", verb);
}

static void copy_done(struct session *s, void *arg)
{
    struct copy_job *job = arg;
    if (!s || job->result != STORE_OK) {
        if (s)
            copy_failed(s, job);
        copy_job_free(job);
        return;
    }
    struct imap_view *v = imap_of(s)->view;
    unsigned refresh = 0;
    if (strcmp(v->name, job->dest) == 0)
        refresh = IMAP_REFRESH_ALWAYS;
    uint32_t *moved = NULL;
    size_t nmoved = 0;
    char *cu = copyuid(job, &moved, &nmoved);
    log_info(s->id, "imap %s dest=%s count=%zu", job->move ? "move" : "copy", job->dest,
             nmoved);
    if (job->move) {
        /* RFC 6851 4.3: COPYUID untagged, before the expunges. */
        if (cu)
            session_printf(s, "* OK [COPYUID %s] moved\r\n", cu);
        imap_view_expunged(s, moved, nmoved);
        imap_done(s, refresh, "OK", "MOVE completed");
    } else if (cu) {
        imap_done(s, refresh, "OK", "[COPYUID %s] COPY completed", cu);
    } else {
        imap_done(s, refresh, "OK", "COPY completed");
    }
    free(cu);
    copy_job_free(job);
}

static struct copy_job *parse_copy(struct session *s, char *args, bool uid, bool move)
{
    struct imap_view *v = imap_of(s)->view;
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return NULL;
    struct imap_seqset *set = NULL;
    const char *dest = NULL;
    size_t *idx = NULL, n = 0;
    int rc = imap_seqset_parse(p, 0, &set);
    if (rc == 0)
        rc = imap_sp(p);
    if (rc == 0)
        rc = imap_mailbox(p, &dest);
    if (rc == 0)
        rc = imap_end(p);
    if (rc == 0 && imap_view_resolve(v, set, uid, &idx, &n) < 0)
        rc = imap_error(p, "invalid message set");
    struct copy_job *job = NULL;
    if (rc == 0)
        job = calloc(1, sizeof *job);
    if (job) {
        job->mb = v->mb;
        job->move = move;
        job->n = n;
        snprintf(job->dest, sizeof job->dest, "%s", dest);
        job->uids = imap_view_uids(v, idx, n);
        job->dst = calloc(n + 1, sizeof *job->dst);
    }
    if (rc < 0)
        imap_bad(s, err);
    else if (!job || !job->uids || !job->dst)
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
    if (job && (!job->uids || !job->dst)) {
        copy_job_free(job);
        job = NULL;
    }
    free(idx);
    imap_seqset_free(&set);
    imap_parser_free(&p);
    return job;
}

static void copy_common(struct session *s, char *args, bool uid, bool move)
{
    if (move && imap_of(s)->view->readonly) {
        imap_tagged(s, "NO", "[READ-ONLY] mailbox is read-only");
        return;
    }
    struct copy_job *job = parse_copy(s, args, uid, move);
    if (!job)
        return;
    if (job->n == 0) {
        copy_job_free(job);
        imap_done(s, 0, "OK", "%s completed: no messages", move ? "MOVE" : "COPY");
        return;
    }
    if (session_work(s, copy_work, copy_done, job) < 0) {
        copy_job_free(job);
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
    }
}

void imap_cmd_copy(struct session *s, char *args)
{
    copy_common(s, args, false, false);
}

void imap_cmd_uid_copy(struct session *s, char *args)
{
    copy_common(s, args, true, false);
}

void imap_cmd_move(struct session *s, char *args)
{
    copy_common(s, args, false, true);
}

void imap_cmd_uid_move(struct session *s, char *args)
{
    copy_common(s, args, true, true);
}
