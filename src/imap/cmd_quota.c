/* imap quota: GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208 4.1.1-4.1.3). An
 * account has one quota root, "", holding the limits of [mail] quota
 * (the STORAGE resource, in units of 1024 octets, RFC 9208 5.1) and
 * quota_messages (MESSAGE, 5.2), the same limits delivery and APPEND
 * enforce; its usage is the store's. The limits are set in the
 * configuration, so SETQUOTA is refused (no QUOTASET). */
#include "imap/imap.h"

#include "core/config.h"
#include "imap/parse.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_ROOT "" /* the account's one quota root */

struct quota_job {
    struct account account;
    char mailbox[MAIL_MAX_FOLDER + 1]; /* GETQUOTAROOT's; "" for GETQUOTA */
    bool by_mailbox;
    int exists; /* store_folder_exists for GETQUOTAROOT */
    uint64_t bytes, messages;
    int rc;
};

static uint64_t limit_bytes(void)
{
    return runtime->cfg->mail_quota_bytes;
}

static uint64_t limit_messages(void)
{
    return (uint64_t)runtime->cfg->mail_quota_messages;
}

bool imap_quota_on(void)
{
    return runtime && (limit_bytes() || limit_messages());
}

/* " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE", each resource only when
 * it has a limit, or "" when neither has (RFC 9208: a QUOTA=RES-<name>
 * for each resource the server has). */
const char *imap_quota_caps(void)
{
    if (!imap_quota_on())
        return "";
    if (!limit_messages())
        return " QUOTA QUOTA=RES-STORAGE";
    if (!limit_bytes())
        return " QUOTA QUOTA=RES-MESSAGE";
    return " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE";
}

/* STORAGE counts started KiB: a mailbox with one small message does not
 * read as empty. */
uint64_t imap_quota_kib(uint64_t bytes)
{
    return bytes / 1024 + (bytes % 1024 != 0);
}

static void quota_work(void *arg)
{
    struct quota_job *job = arg;
    int fd = runtime->datadir_fd;
    job->exists = 1;
    if (job->by_mailbox)
        job->exists = store_folder_exists(fd, &job->account, job->mailbox);
    job->rc = job->exists;
    if (job->exists == 1)
        job->rc = store_usage(fd, &job->account, &job->bytes, &job->messages);
}

/* RFC 9208 4.2.1: "* QUOTA root (resource usage limit ...)". */
static void quota_line(struct evbuffer *out, const struct quota_job *job)
{
    const char *sep = "";
    evbuffer_add_printf(out, "* QUOTA \"%s\" (", QUOTA_ROOT);
    if (limit_bytes()) {
        evbuffer_add_printf(out, "STORAGE %llu %llu",
                            (unsigned long long)imap_quota_kib(job->bytes),
                            (unsigned long long)(limit_bytes() / 1024));
        sep = " ";
    }
    if (limit_messages())
        evbuffer_add_printf(out, "%sMESSAGE %llu %llu", sep,
                            (unsigned long long)job->messages,
                            (unsigned long long)limit_messages());
    evbuffer_add(out, ")\r\n", 3);
}

static void quota_done(struct session *s, void *arg)
{
    struct quota_job *job = arg;
    struct evbuffer *out = s ? evbuffer_new() : NULL;
    if (!s) {
        free(job);
        return;
    }
    if (!out) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
    } else if (job->exists == 0) {
        imap_tagged(s, "NO", "[NONEXISTENT] no such mailbox");
    } else if (job->rc < 0) {
        imap_tagged(s, "NO", "[SERVERBUG] quota usage unavailable");
    } else if (job->by_mailbox) {
        /* RFC 9208 4.2.2: the mailbox's roots, then each root's QUOTA. */
        evbuffer_add(out, "* QUOTAROOT ", 12);
        imap_buf_mailbox(s, out, job->mailbox);
        if (imap_quota_on()) {
            evbuffer_add_printf(out, " \"%s\"\r\n", QUOTA_ROOT);
            quota_line(out, job);
        } else {
            evbuffer_add(out, "\r\n", 2);
        }
        imap_send(s, out);
        imap_done(s, 0, "OK", "GETQUOTAROOT completed");
    } else {
        quota_line(out, job);
        imap_send(s, out);
        imap_done(s, 0, "OK", "GETQUOTA completed");
    }
    if (out)
        evbuffer_free(out);
    free(job);
}

/* The usage, on the pool: of the account, and for GETQUOTAROOT (mailbox
 * not NULL) after checking the mailbox exists. */
static void start(struct session *s, const char *mailbox)
{
    struct quota_job *job = calloc(1, sizeof *job);
    if (!job) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
        return;
    }
    job->account = imap_of(s)->account;
    if (mailbox) {
        snprintf(job->mailbox, sizeof job->mailbox, "%s", mailbox);
        job->by_mailbox = true;
    }
    if (session_work(s, quota_work, quota_done, job) < 0) {
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
        free(job);
    }
}

/* RFC 9208 4.1.1: GETQUOTA quota-root-name. */
void imap_cmd_getquota(struct session *s, char *args)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    const char *root = NULL;
    size_t len = 0;
    int rc = imap_astring_text(p, &root, &len);
    if (rc == 0)
        rc = imap_end(p);
    bool known = rc == 0 && imap_quota_on() && len == strlen(QUOTA_ROOT) &&
                 memcmp(root, QUOTA_ROOT, len) == 0;
    imap_parser_free(&p);
    if (rc < 0)
        imap_bad(s, err);
    else if (!known)
        imap_tagged(s, "NO", "[NONEXISTENT] no such quota root");
    else
        start(s, NULL);
}

/* RFC 9208 4.1.2: GETQUOTAROOT mailbox. */
void imap_cmd_getquotaroot(struct session *s, char *args)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    const char *name = NULL;
    char mailbox[MAIL_MAX_FOLDER + 1] = "";
    int rc = imap_mailbox(p, &name);
    if (rc == 0)
        rc = imap_end(p);
    if (rc == 0)
        snprintf(mailbox, sizeof mailbox, "%s", name);
    imap_parser_free(&p);
    if (rc < 0)
        imap_bad(s, err);
    else
        start(s, mailbox);
}

/* RFC 9208 4.1.3: without QUOTASET the limits are not the client's to set. */
void imap_cmd_setquota(struct session *s, char *args)
{
    imap_tagged(s, "NO", "[NOPERM] quotas are set in the server's configuration");
}
