/* imap list: LIST (RFC 9051 6.3.9) with LIST-EXTENDED selection and return
 * options (RFC 5258: SUBSCRIBED, CHILDREN; RFC 6154 SPECIAL-USE; RFC 5819
 * STATUS) and LSUB (RFC 3501 6.3.9). One folder scan on the pool; the
 * STATUS figures of RETURN (STATUS) are read there too. */
#include "imap/imap.h"

#include "core/log.h"
#include "imap/args_parse.h"
#include "imap/parse.h"
#include "imap/pattern.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct list_job {
    struct account account;
    bool lsub;
    unsigned select, ret, status;
    size_t npatterns;
    char patterns[IMAP_MAX_LIST_PATTERNS][MAIL_MAX_FOLDER * 2 + 2];
    struct mail_folder *folders;
    bool *match;
    struct mail_status *st; /* RETURN STATUS, per folder */
    size_t n;
    int rc;
};

static bool matches(const struct list_job *job, const char *name)
{
    for (size_t i = 0; i < job->npatterns; i++)
        if (imap_pattern_match(job->patterns[i], name, '/'))
            return true;
    return false;
}

/* RFC 5258 3.1: which folders this LIST returns. */
static bool selected(const struct list_job *job, const struct mail_folder *f)
{
    if (!matches(job, f->name))
        return false;
    if (job->lsub || (job->select & IMAP_LIST_SEL_SUBSCRIBED))
        return f->subscribed;
    if (job->select & IMAP_LIST_SEL_SPECIAL_USE)
        return f->exists && f->special != MAIL_SPECIAL_NONE;
    return f->exists;
}

static void list_work(void *arg)
{
    struct list_job *job = arg;
    int fd = runtime->datadir_fd;
    job->rc = store_folder_list(fd, &job->account, &job->folders, &job->n);
    if (job->rc < 0)
        return;
    job->match = calloc(job->n + 1, sizeof *job->match);
    job->st = calloc(job->n + 1, sizeof *job->st);
    if (!job->match || !job->st) {
        job->rc = -1;
        return;
    }
    for (size_t i = 0; i < job->n; i++) {
        job->match[i] = selected(job, &job->folders[i]);
        if (job->match[i] && job->status && job->folders[i].exists)
            store_folder_status(fd, &job->account, job->folders[i].name, &job->st[i]);
    }
}

static void add_attr(struct evbuffer *out, const char **sep, const char *attr)
{
    evbuffer_add_printf(out, "%s%s", *sep, attr);
    *sep = " ";
}

/* RFC 9051 7.3.1 mailbox attributes; RFC 6154 2 special uses. */
static void list_attrs(struct evbuffer *out, const struct list_job *job,
                       const struct mail_folder *f)
{
    static const char *const special[] = {
        [MAIL_SPECIAL_SENT] = "\\Sent",       [MAIL_SPECIAL_DRAFTS] = "\\Drafts",
        [MAIL_SPECIAL_TRASH] = "\\Trash",     [MAIL_SPECIAL_JUNK] = "\\Junk",
        [MAIL_SPECIAL_ARCHIVE] = "\\Archive",
    };
    const char *sep = "";
    if (!f->exists)
        add_attr(out, &sep, "\\NonExistent");
    else if (!job->lsub)
        add_attr(out, &sep, f->has_children ? "\\HasChildren" : "\\HasNoChildren");
    if (!job->lsub && f->subscribed &&
        (job->ret & IMAP_LIST_RET_SUBSCRIBED || job->select & IMAP_LIST_SEL_SUBSCRIBED))
        add_attr(out, &sep, "\\Subscribed");
    if (f->special != MAIL_SPECIAL_NONE && f->special <= MAIL_SPECIAL_ARCHIVE)
        add_attr(out, &sep, special[f->special]);
}

static void send_folder(struct session *s, struct evbuffer *out,
                        const struct list_job *job, size_t i)
{
    const struct mail_folder *f = &job->folders[i];
    evbuffer_add_printf(out, "* %s (", job->lsub ? "LSUB" : "LIST");
    list_attrs(out, job, f);
    evbuffer_add(out, ") \"/\" ", 6);
    imap_buf_mailbox(s, out, f->name);
    evbuffer_add(out, "\r\n", 2);
    /* RFC 5819 2: STATUS after the LIST of a selectable mailbox. */
    if (job->status && f->exists)
        imap_status_line(s, out, f->name, job->status, &job->st[i]);
    imap_send(s, out);
}

static void list_job_free(struct list_job *job)
{
    free(job->folders);
    free(job->match);
    free(job->st);
    free(job);
}

static void list_done(struct session *s, void *arg)
{
    struct list_job *job = arg;
    struct evbuffer *out = s ? evbuffer_new() : NULL;
    if (s && (job->rc < 0 || !out)) {
        imap_tagged(s, "NO", "[SERVERBUG] cannot list mailboxes");
    } else if (s) {
        for (size_t i = 0; i < job->n; i++)
            if (job->match[i])
                send_folder(s, out, job, i);
        imap_done(s, 0, "OK", "%s completed", job->lsub ? "LSUB" : "LIST");
    }
    if (out)
        evbuffer_free(out);
    list_job_free(job);
}

/* RFC 9051 6.3.9: the reference is prefixed to each pattern (a pattern
 * starting with the delimiter is taken as is). */
static void join_patterns(struct list_job *job, const struct imap_list *l)
{
    const char *ref = l->reference ? l->reference : "";
    job->npatterns = 0;
    for (size_t i = 0; i < l->npatterns; i++) {
        const char *pat = l->patterns[i];
        if (*pat == '\0')
            continue;
        const char *r = ref;
        if (*pat == '/')
            r = "";
        snprintf(job->patterns[job->npatterns++], sizeof job->patterns[0], "%s%s", r,
                 pat);
    }
}

/* RFC 9051 6.3.9: LIST "" "" asks for the delimiter only. */
static bool delimiter_only(const struct imap_list *l)
{
    return !l->extended && l->npatterns == 1 && l->patterns[0][0] == '\0';
}

static void list_common(struct session *s, char *args, bool lsub)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    struct imap_list l = {0};
    int rc = imap_list_parse(p, &l);
    if (rc == 0 && lsub && l.extended)
        rc = imap_error(p, "LSUB takes a reference and a pattern");
    if (rc < 0) {
        imap_parser_free(&p);
        imap_bad(s, err);
        return;
    }
    if (delimiter_only(&l)) {
        imap_parser_free(&p);
        session_printf(s, "* %s (\\Noselect) \"/\" \"\"\r\n", lsub ? "LSUB" : "LIST");
        imap_tagged(s, "OK", "%s completed", lsub ? "LSUB" : "LIST");
        return;
    }
    struct list_job *job = calloc(1, sizeof *job);
    if (job) {
        job->account = imap_of(s)->account;
        job->lsub = lsub;
        job->select = l.select;
        job->ret = l.ret;
        job->status = l.status;
        if (!(l.ret & IMAP_LIST_RET_STATUS))
            job->status = 0;
        join_patterns(job, &l);
    }
    imap_parser_free(&p);
    if (!job || session_work(s, list_work, list_done, job) < 0) {
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
        free(job);
    }
}

void imap_cmd_list(struct session *s, char *args)
{
    list_common(s, args, false);
}

void imap_cmd_lsub(struct session *s, char *args)
{
    list_common(s, args, true);
}
