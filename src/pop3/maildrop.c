/* maildrop: a snapshot of INBOX taken at login (store_snapshot) plus the DELE
 * marks; messages are opened by their Maildir path from the snapshot, with a
 * lookup by UID when another session has renamed the file meanwhile. */
#include "pop3/maildrop.h"

#include "core/log.h"
#include "core/loop.h"
#include "store/lock.h"
#include "store/mailbox.h"
#include "store/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define INBOX "INBOX"

struct maildrop {
    struct account account;
    int folderfd; /* INBOX, for opening files by path */
    struct mail_snapshot snap;
    bool *deleted; /* one mark per message of snap */
    size_t live;   /* messages not marked */
    bool committed; /* maildrop_commit succeeded */
    uint64_t live_octets;
};

bool maildrop_lock(const char *account)
{
    return store_maildrop_trylock(account) == 0;
}

void maildrop_unlock(const char *account)
{
    store_maildrop_unlock(account);
}

static int open_inbox(const struct account *a)
{
    int mailfd = maildir_open(runtime->datadir_fd, a);
    if (mailfd < 0)
        return -1;
    int fd = maildir_folder_open(mailfd, INBOX, true);
    close(mailfd);
    return fd;
}

struct maildrop *maildrop_load(const struct account *a)
{
    struct maildrop *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->account = *a;
    d->folderfd = open_inbox(a);
    if (d->folderfd < 0 || store_snapshot(runtime->datadir_fd, a, INBOX, &d->snap) < 0) {
        log_warn(0, "pop3 maildrop load_failed account=%s folderfd=%d errno=%d", a->address,
                 d->folderfd, errno);
        if (d->folderfd >= 0)
            close(d->folderfd);
        free(d);
        return NULL;
    }
    d->deleted = calloc(d->snap.n ? d->snap.n : 1, sizeof *d->deleted);
    if (!d->deleted) {
        maildrop_free(d);
        return NULL;
    }
    maildrop_unmark_all(d);
    return d;
}

void maildrop_free(struct maildrop *d)
{
    if (!d)
        return;
    if (d->folderfd >= 0)
        close(d->folderfd);
    store_snapshot_free(&d->snap);
    free(d->deleted);
    free(d);
}

size_t maildrop_count(const struct maildrop *d)
{
    return d->live;
}

uint64_t maildrop_octets(const struct maildrop *d)
{
    return d->live_octets;
}

uint32_t maildrop_total(const struct maildrop *d)
{
    return (uint32_t)d->snap.n;
}

int maildrop_check(const struct maildrop *d, uint32_t n)
{
    if (n == 0 || n > d->snap.n)
        return -1;
    return d->deleted[n - 1] ? -2 : 0;
}

uint64_t maildrop_size(const struct maildrop *d, uint32_t n)
{
    return d->snap.msgs[n - 1].vsize;
}

uint64_t maildrop_file_size(const struct maildrop *d, uint32_t n)
{
    return d->snap.msgs[n - 1].size;
}

void maildrop_uidl(const struct maildrop *d, uint32_t n, char *out, size_t outlen)
{
    snprintf(out, outlen, "%u.%u", d->snap.uidvalidity, d->snap.msgs[n - 1].uid);
}

void maildrop_mark_deleted(struct maildrop *d, uint32_t n)
{
    if (maildrop_check(d, n) != 0)
        return;
    d->deleted[n - 1] = true;
    d->live--;
    d->live_octets -= d->snap.msgs[n - 1].vsize;
}

void maildrop_unmark_all(struct maildrop *d)
{
    d->live = d->snap.n;
    d->live_octets = 0;
    for (size_t i = 0; i < d->snap.n; i++) {
        d->deleted[i] = false;
        d->live_octets += d->snap.msgs[i].vsize;
    }
}

int maildrop_open_message(struct maildrop *d, uint32_t n)
{
    const struct mail_msg *m = &d->snap.msgs[n - 1];
    int fd = openat(d->folderfd, m->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 || errno != ENOENT)
        return fd;
    /* Renamed meanwhile (new/ -> cur/, flags changed by IMAP): by UID. */
    return store_message_open(runtime->datadir_fd, &d->account, INBOX, m->uid);
}

bool maildrop_committed(const struct maildrop *d)
{
    return d->committed;
}

int maildrop_commit(struct maildrop *d)
{
    size_t n = 0;
    uint32_t *uids = malloc((d->snap.n ? d->snap.n : 1) * sizeof *uids);
    if (!uids)
        return -1;
    for (size_t i = 0; i < d->snap.n; i++)
        if (d->deleted[i])
            uids[n++] = d->snap.msgs[i].uid;
    int rc = n ? store_expunge(runtime->datadir_fd, &d->account, INBOX, uids, n) : 0;
    free(uids);
    d->committed = rc == 0;
    return rc;
}
