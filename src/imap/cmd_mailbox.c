/* imap mailbox: CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE (RFC 9051
 * 6.3.4-6.3.8) and STATUS (6.3.11, RFC 8438 SIZE, RFC 7162 HIGHESTMODSEQ,
 * RFC 7889 APPENDLIMIT, RFC 8474 MAILBOXID, RFC 9208 DELETED-STORAGE), each
 * on the work pool through the store's folder calls. Also imap_status_line
 * for LIST-STATUS. */
#include "imap/imap.h"

#include "core/log.h"
#include "imap/args_parse.h"
#include "imap/parse.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum folder_op { OP_CREATE, OP_DELETE, OP_RENAME, OP_SUBSCRIBE, OP_UNSUBSCRIBE };

static const char *const op_names[] = {"CREATE", "DELETE", "RENAME", "SUBSCRIBE",
                                       "UNSUBSCRIBE"};

struct folder_job {
    enum folder_op op;
    struct account account;
    char name[MAIL_MAX_FOLDER + 1], to[MAIL_MAX_FOLDER + 1];
    int rc, err;
};

static void folder_work(void *arg)
{
    struct folder_job *job = arg;
    int fd = runtime->datadir_fd;
    errno = 0;
    switch (job->op) {
    case OP_CREATE:
        job->rc = store_folder_create(fd, &job->account, job->name);
        break;
    case OP_DELETE:
        job->rc = store_folder_delete(fd, &job->account, job->name);
        break;
    case OP_RENAME:
        job->rc = store_folder_rename(fd, &job->account, job->name, job->to);
        break;
    case OP_SUBSCRIBE:
    case OP_UNSUBSCRIBE:
        job->rc =
            store_folder_subscribe(fd, &job->account, job->name, job->op == OP_SUBSCRIBE);
        break;
    }
    job->err = errno;
}

/* RFC 9051 7.1: response codes for the store's errnos. */
static void folder_failed(struct session *s, const struct folder_job *job)
{
    switch (job->err) {
    case EEXIST:
        imap_tagged(s, "NO", "[ALREADYEXISTS] %s: mailbox exists", op_names[job->op]);
        break;
    case ENOENT:
        imap_tagged(s, "NO", "[NONEXISTENT] %s: no such mailbox", op_names[job->op]);
        break;
    case EINVAL:
        imap_tagged(s, "NO", "[CANNOT] %s: invalid mailbox name", op_names[job->op]);
        break;
    case EPERM:
        imap_tagged(s, "NO", "[CANNOT] %s: not allowed on this mailbox",
                    op_names[job->op]);
        break;
    case EDQUOT:
        imap_tagged(s, "NO", "[OVERQUOTA] %s: over quota", op_names[job->op]);
        break;
    default:
        imap_tagged(s, "NO", "[SERVERBUG] %s failed", op_names[job->op]);
        break;
    }
}

static void folder_done(struct session *s, void *arg)
{
    struct folder_job *job = arg;
    if (s) {
        log_info(s->id, "imap %s mailbox=%s rc=%d errno=%d", op_names[job->op], job->name,
                 job->rc, job->err);
        if (job->rc == 0)
            imap_done(s, 0, "OK", "%s completed", op_names[job->op]);
        else
            folder_failed(s, job);
    }
    free(job);
}

/* Parses "mailbox" or "mailbox SP mailbox" (RENAME) into a job. */
static struct folder_job *parse_folder(struct session *s, char *args, enum folder_op op)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return NULL;
    const char *name = NULL, *to = "";
    int rc = imap_mailbox(p, &name);
    if (rc == 0 && op == OP_RENAME)
        rc = imap_sp(p) < 0 ? -1 : imap_mailbox(p, &to);
    if (rc == 0)
        rc = imap_end(p);
    struct folder_job *job = NULL;
    if (rc == 0)
        job = calloc(1, sizeof *job);
    if (job) {
        job->op = op;
        job->account = imap_of(s)->account;
        snprintf(job->name, sizeof job->name, "%s", name);
        snprintf(job->to, sizeof job->to, "%s", to);
    }
    if (rc < 0)
        imap_bad(s, err);
    else if (!job)
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
    imap_parser_free(&p);
    return job;
}

static void folder_command(struct session *s, char *args, enum folder_op op)
{
    struct folder_job *job = parse_folder(s, args, op);
    if (!job)
        return;
    /* RFC 9051 6.3.4: a trailing delimiter only says a folder follows. */
    size_t n = strlen(job->name);
    if (op == OP_CREATE && n > 1 && job->name[n - 1] == '/')
        job->name[n - 1] = '\0';
    if (session_work(s, folder_work, folder_done, job) < 0) {
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
        free(job);
    }
}

void imap_cmd_create(struct session *s, char *args)
{
    folder_command(s, args, OP_CREATE);
}

void imap_cmd_delete(struct session *s, char *args)
{
    folder_command(s, args, OP_DELETE);
}

void imap_cmd_rename(struct session *s, char *args)
{
    folder_command(s, args, OP_RENAME);
}

void imap_cmd_subscribe(struct session *s, char *args)
{
    folder_command(s, args, OP_SUBSCRIBE);
}

void imap_cmd_unsubscribe(struct session *s, char *args)
{
    folder_command(s, args, OP_UNSUBSCRIBE);
}

/* ---- STATUS ---- */

/* "* STATUS name (ITEM n ...)" into out (RFC 9051 7.3.4). */
void imap_status_line(struct session *s, struct evbuffer *out, const char *name,
                      unsigned items, const struct mail_status *st)
{
    const char *sep = "";
    evbuffer_add(out, "* STATUS ", 9);
    imap_buf_mailbox(s, out, name);
    evbuffer_add(out, " (", 2);
#define ITEM(bit, fmt, val)                                                              \
    do {                                                                                 \
        if (items & (bit)) {                                                             \
            evbuffer_add_printf(out, "%s" fmt, sep, val);                                \
            sep = " ";                                                                   \
        }                                                                                \
    } while (0)
    ITEM(IMAP_STATUS_MESSAGES, "MESSAGES %u", st->messages);
    ITEM(IMAP_STATUS_UIDNEXT, "UIDNEXT %u", st->uidnext);
    ITEM(IMAP_STATUS_UIDVALIDITY, "UIDVALIDITY %u", st->uidvalidity);
    ITEM(IMAP_STATUS_UNSEEN, "UNSEEN %u", st->unseen);
    ITEM(IMAP_STATUS_DELETED, "DELETED %u", st->deleted);
    ITEM(IMAP_STATUS_SIZE, "SIZE %llu", (unsigned long long)st->size);
    ITEM(IMAP_STATUS_DELETED_STORAGE, "DELETED-STORAGE %llu",
         (unsigned long long)imap_quota_kib(st->deleted_size));
    ITEM(IMAP_STATUS_HIGHESTMODSEQ, "HIGHESTMODSEQ %llu",
         (unsigned long long)st->highest_modseq);
    ITEM(IMAP_STATUS_RECENT, "RECENT %u", 0u);
    ITEM(IMAP_STATUS_APPENDLIMIT, "APPENDLIMIT %llu",
         (unsigned long long)imap_appendlimit());
    ITEM(IMAP_STATUS_MAILBOXID, "MAILBOXID (%s)", st->mailboxid);
#undef ITEM
    evbuffer_add(out, ")\r\n", 3);
}

struct status_job {
    struct account account;
    char name[MAIL_MAX_FOLDER + 1];
    unsigned items;
    struct mail_status st;
    int rc, err;
};

static void status_work(void *arg)
{
    struct status_job *job = arg;
    errno = 0;
    job->rc =
        store_folder_status(runtime->datadir_fd, &job->account, job->name, &job->st);
    job->err = errno;
}

static void status_done(struct session *s, void *arg)
{
    struct status_job *job = arg;
    struct evbuffer *out = s ? evbuffer_new() : NULL;
    if (s && job->rc < 0) {
        if (job->err == ENOENT || job->err == EINVAL)
            imap_tagged(s, "NO", "[NONEXISTENT] no such mailbox");
        else
            imap_tagged(s, "NO", "[SERVERBUG] STATUS failed");
    } else if (s && out) {
        if (job->items & IMAP_STATUS_HIGHESTMODSEQ)
            imap_of(s)->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1 */
        imap_status_line(s, out, job->name, job->items, &job->st);
        imap_send(s, out);
        imap_done(s, 0, "OK", "STATUS completed");
    } else if (s) {
        imap_tagged(s, "NO", "[SERVERBUG] out of memory");
    }
    if (out)
        evbuffer_free(out);
    free(job);
}

void imap_cmd_status(struct session *s, char *args)
{
    char err[128] = "";
    struct imap_parser *p = imap_parser_for(s, args, err, sizeof err);
    if (!p)
        return;
    const char *name = NULL;
    unsigned items = 0;
    int rc = imap_status_parse(p, &name, &items);
    struct status_job *job = NULL;
    if (rc == 0)
        job = calloc(1, sizeof *job);
    if (job) {
        job->account = imap_of(s)->account;
        snprintf(job->name, sizeof job->name, "%s", name);
        job->items = items;
    }
    imap_parser_free(&p);
    if (rc < 0) {
        imap_bad(s, err);
        return;
    }
    if (!job || session_work(s, status_work, status_done, job) < 0) {
        imap_tagged(s, "NO", "[UNAVAILABLE] try again later");
        free(job);
    }
}
