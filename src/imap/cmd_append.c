/* imap append: APPEND (RFC 9051 6.3.12): flags, date-time, the message from
 * a synchronising or non-synchronising literal (RFC 7888) held in memory
 * or spooled by the session, stored durably through the mailbox handle
 * (the same path as delivery) on the pool, answered with APPENDUID
 * (RFC 4315 3). MULTIAPPEND (RFC 3502) is not offered. */
#include "imap/imap.h"

#include "core/config.h"
#include "core/log.h"
#include "imap/parse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

struct append_job {
    struct account account;
    char name[MAIL_MAX_FOLDER + 1];
    unsigned flags;
    char keywords[MAIL_MAX_KEYWORDS_LEN + 1];
    int64_t date;
    const char *data; /* the in-memory literal (the session's), or */
    int fd;           /* the spooled one (the session's: not closed here) */
    uint64_t len;
    enum store_result result;
    int err;
    uint32_t uid, uidvalidity;
};

/* The message as a file from offset 0: the spool, or a memfd copy. */
static int message_fd(const struct append_job *job, bool *own)
{
    *own = false;
    if (job->fd >= 0)
        return lseek(job->fd, 0, SEEK_SET) == 0 ? job->fd : -1;
    int fd = memfd_create("imap-append", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    uint64_t off = 0;
    while (off < job->len) {
        ssize_t w = write(fd, job->data + off, (size_t)(job->len - off));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (uint64_t)w;
    }
    *own = true;
    if (lseek(fd, 0, SEEK_SET) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void append_work(void *arg)
{
    struct append_job *job = arg;
    job->result = STORE_ERROR;
    errno = 0;
    struct mailbox *mb = mailbox_open(runtime->datadir_fd, &job->account, job->name);
    job->err = errno;
    if (!mb)
        return;
    bool own = false;
    int fd = message_fd(job, &own);
    struct store_quota q = {runtime->cfg->mail_quota_bytes,
                            (uint64_t)runtime->cfg->mail_quota_messages};
    const char *kw = NULL;
    if (job->keywords[0])
        kw = job->keywords;
    if (fd >= 0)
        job->result = mailbox_append(mb, fd, job->flags, kw, job->date, &q, &job->uid,
                                     &job->uidvalidity);
    job->err = errno;
    if (own)
        close(fd);
    mailbox_close(mb);
}

static void append_done(struct session *s, void *arg)
{
    struct append_job *job = arg;
    if (!s) {
        free(job);
        return;
    }
    log_info(s->id, "imap append mailbox=%s size=%llu result=%d uid=%u", job->name,
             (unsigned long long)job->len, job->result, job->uid);
    struct imap_view *v = imap_of(s)->view;
    unsigned refresh = 0;
    if (v && strcmp(v->name, job->name) == 0)
        refresh = IMAP_REFRESH_ALWAYS; /* RFC 9051 6.3.12: EXISTS follows */
    if (job->result == STORE_OK)
        imap_done(s, refresh, "OK", "[APPENDUID %u %u] APPEND completed",
                  job->uidvalidity, job->uid);
    else if (job->result == STORE_OVER_QUOTA)
        imap_tagged(s, "NO", "[OVERQUOTA] APPEND: over quota");
    else if (job->err == ENOENT)
        imap_tagged(s, "NO", "[TRYCREATE] APPEND: no such mailbox");
    else
        imap_tagged(s, "NO", "[SERVERBUG] APPEND failed");
    free(job);
}

/* IMAP flags to the store's: $Forwarded is a Maildir flag, other keywords
 * go to the index (RFC 9051 2.3.2). */
void imap_flags_to_store(const struct imap_flags *f, unsigned *flags, char *kw,
                         size_t kwlen)
{
    static const unsigned map[][2] = {
        {IMAP_FLAG_SEEN, MAIL_SEEN},       {IMAP_FLAG_ANSWERED, MAIL_ANSWERED},
        {IMAP_FLAG_FLAGGED, MAIL_FLAGGED}, {IMAP_FLAG_DELETED, MAIL_DELETED},
        {IMAP_FLAG_DRAFT, MAIL_DRAFT},
    };
    *flags = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (f->system & map[i][0])
            *flags |= map[i][1];
    size_t used = 0;
    kw[0] = '\0';
    for (size_t i = 0; i < f->nkeywords; i++) {
        if (strcasecmp(f->keywords[i], "$Forwarded") == 0) {
            *flags |= MAIL_FORWARDED;
            continue;
        }
        int n =
            snprintf(kw + used, kwlen - used, "%s%s", used ? " " : "", f->keywords[i]);
        if (n < 0 || (size_t)n >= kwlen - used)
            break;
        used += (size_t)n;
    }
}

/* mailbox SP [flag-list SP] [date-time SP] literal (RFC 9051 6.3.12). */
static int parse_append(struct imap_parser *p, struct append_job *job)
{
    const char *name = NULL;
    struct imap_flags f = {0};
    int zone = 0;
    if (imap_mailbox(p, &name) < 0 || imap_sp(p) < 0)
        return -1;
    snprintf(job->name, sizeof job->name, "%s", name);
    if (imap_peek(p) == '(' && (imap_flag_list(p, &f) < 0 || imap_sp(p) < 0))
        return -1;
    if (imap_peek(p) == '"' &&
        (imap_date_time(p, &job->date, &zone) < 0 || imap_sp(p) < 0))
        return -1;
    struct imap_string msg;
    if (imap_literal(p, &msg) < 0)
        return -1;
    if (!imap_at_end(p))
        return imap_error(p, "MULTIAPPEND is not offered");
    if (imap_end(p) < 0)
        return -1;
    imap_flags_to_store(&f, &job->flags, job->keywords, sizeof job->keywords);
    job->data = msg.data;
    job->fd = msg.fd;
    job->len = msg.len;
    return 0;
}

void imap_cmd_append(struct session *s, char *args)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    struct append_job *job = calloc(1, sizeof *job);
    int rc = -1;
    if (job) {
        job->account = imap_of(s)->account;
        job->fd = -1;
        rc = parse_append(p, job);
    }
    imap_parser_free(&p);
    if (!job) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return;
    }
    if (rc < 0) {
        free(job);
        imap_bad(s, err);
        return;
    }
    if (job->len > imap_appendlimit()) {
        free(job);
        imap_tagged(s, "NO", "[TOOBIG] message too large");
        return;
    }
    if (session_work(s, append_work, append_done, job) < 0) {
        free(job);
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
    }
}
