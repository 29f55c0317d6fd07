/* mailbox: the per-call part of the protocols' view of the mail store
 * (snapshot, open by UID, expunge, usage, quota). Each call opens the
 * account's Maildir and takes an index handle from the shared cache
 * (store/index_cache.h: opening index.db is not cheap), so no state is
 * kept between calls and any pool thread may serve any account. The
 * mailbox handle (mailbox_handle.c) keeps its own for its life. */
#include "store/mailbox.h"

#include "store/bus.h"
#include "store/folder_name.h"
#include "store/index.h"
#include "store/index_cache.h"
#include "store/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* An account's mail/ fd, a folder fd and the index, opened together. */
struct handle {
    int mailfd, folderfd;
    struct mail_index *idx;
    char folder[MAIL_MAX_FOLDER + 1]; /* canonical */
};

static void handle_close(struct handle *h)
{
    index_cache_put(h->idx);
    if (h->folderfd >= 0)
        close(h->folderfd);
    if (h->mailfd >= 0)
        close(h->mailfd);
}

static int handle_open(struct handle *h, int datadirfd, const struct account *a,
                       const char *folder)
{
    *h = (struct handle){.mailfd = -1, .folderfd = -1};
    if (folder && folder_name_canon(folder, h->folder, sizeof h->folder) < 0)
        return -1;
    h->mailfd = maildir_open(datadirfd, a);
    if (h->mailfd >= 0 && folder)
        h->folderfd = maildir_folder_open(h->mailfd, folder, false);
    if (h->mailfd >= 0 && (!folder || h->folderfd >= 0))
        h->idx = index_cache_get(h->mailfd);
    if (!h->idx) {
        int e = errno;
        handle_close(h);
        errno = e;
        return -1;
    }
    return 0;
}

struct list_ctx {
    struct mail_snapshot *snap;
    size_t cap;
};

static int snapshot_push(void *arg, const struct index_row *r)
{
    struct list_ctx *c = arg;
    struct mail_snapshot *s = c->snap;
    if (s->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct mail_msg *v = realloc(s->msgs, cap * sizeof *v);
        if (!v)
            return -1;
        s->msgs = v;
        c->cap = cap;
    }
    struct mail_msg *m = &s->msgs[s->n];
    memset(m, 0, sizeof *m);
    m->uid = r->uid;
    m->size = r->e.size;
    m->vsize = r->e.vsize;
    m->modseq = r->modseq;
    m->internaldate = r->internaldate;
    snprintf(m->flags, sizeof m->flags, "%s", r->e.flags);
    if (maildir_entry_path(&r->e, m->path, sizeof m->path) < 0)
        return 0; /* cannot be a name we scanned; skip */
    s->n++;
    return 0;
}

int store_snapshot(int datadirfd, const struct account *a, const char *folder,
                   struct mail_snapshot *out)
{
    struct handle h;
    struct index_folder f;
    memset(out, 0, sizeof *out);
    if (handle_open(&h, datadirfd, a, folder) < 0)
        return -1;
    struct list_ctx c = {.snap = out};
    int rc = index_sync(h.idx, h.folder, h.folderfd, &f);
    if (rc == 0) /* POP3 announces every size (RFC 1939 LIST) */
        rc = index_fill_folder(h.idx, f.id, h.folderfd, MAIL_NEED_SIZE | MAIL_NEED_VSIZE);
    if (rc == 0)
        rc = index_list(h.idx, h.folder, snapshot_push, &c);
    handle_close(&h);
    if (rc < 0) {
        store_snapshot_free(out);
        return -1;
    }
    out->uidvalidity = f.uidvalidity;
    out->uidnext = f.uidnext;
    out->highest_modseq = f.highest_modseq;
    return 0;
}

void store_snapshot_free(struct mail_snapshot *snap)
{
    if (!snap)
        return;
    free(snap->msgs);
    snap->msgs = NULL;
    snap->n = 0;
}

static int open_row(struct handle *h, const char *folder, uint32_t uid)
{
    struct index_row r;
    char path[MAIL_MAX_FILENAME + 8];
    int found = index_find(h->idx, folder, uid, &r);
    if (found <= 0 || maildir_entry_path(&r.e, path, sizeof path) < 0) {
        errno = found < 0 ? EIO : ENOENT;
        return -1;
    }
    return openat(h->folderfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

int store_message_open(int datadirfd, const struct account *a, const char *folder,
                       uint32_t uid)
{
    struct handle h;
    struct index_folder f;
    if (handle_open(&h, datadirfd, a, folder) < 0)
        return -1;
    int fd = open_row(&h, h.folder, uid);
    /* Another session may have moved or re-flagged the file: sync, retry. */
    if (fd < 0 && errno == ENOENT && index_sync(h.idx, h.folder, h.folderfd, &f) == 0)
        fd = open_row(&h, h.folder, uid);
    int e = errno;
    handle_close(&h);
    errno = e;
    return fd;
}

int store_expunge(int datadirfd, const struct account *a, const char *folder,
                  const uint32_t *uids, size_t n)
{
    struct handle h;
    if (!uids || n == 0)
        return 0;
    if (handle_open(&h, datadirfd, a, folder) < 0)
        return -1;
    int rc = index_expunge(h.idx, h.folder, h.folderfd, uids, n, NULL, NULL);
    handle_close(&h);
    if (rc == 0 && n > 0) {
        struct bus_event ev = {.kind = BUS_EXPUNGED, .uid = n == 1 ? uids[0] : 0};
        snprintf(ev.account, sizeof ev.account, "%s", a->address);
        snprintf(ev.folder, sizeof ev.folder, "%s", h.folder);
        bus_publish(&ev);
    }
    return rc;
}

int store_usage(int datadirfd, const struct account *a, uint64_t *bytes,
                uint64_t *messages)
{
    struct handle h;
    if (handle_open(&h, datadirfd, a, NULL) < 0)
        return -1;
    int rc = index_fill_sizes(h.idx); /* sizes a sync did not stat */
    if (rc == 0)
        rc = index_usage(h.idx, bytes, messages);
    handle_close(&h);
    return rc;
}

int store_quota_check(int datadirfd, const struct account *a, uint64_t bytes,
                      uint64_t quota_bytes, uint64_t quota_messages)
{
    uint64_t used = 0, count = 0;
    if (quota_bytes == 0 && quota_messages == 0)
        return 0;
    if (store_usage(datadirfd, a, &used, &count) < 0)
        return -1;
    if (quota_bytes && (used >= quota_bytes || bytes > quota_bytes - used))
        return 1;
    if (quota_messages && count + 1 > quota_messages)
        return 1;
    return 0;
}
