/* folder: CREATE, DELETE, RENAME, SUBSCRIBE and STATUS of an account's
 * folders (RFC 9051 6.3.4-6.3.8, 6.3.11). Directories are the truth: each
 * change is made to them and fsynced (mail/ itself) before the index rows
 * follow, inside the index's write transaction so that deliveries and
 * syncs of the account wait for it. */
#include "store/mailbox.h"

#include "store/bus.h"
#include "store/folder_name.h"
#include "store/index_cache.h"
#include "store/index_internal.h"
#include "store/maildir.h"
#include "store/objectid.h"
#include "store/subscriptions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLDER_TRASH_PREFIX "..portico-deleted-" /* no folder name starts with ".." */
#define FOLDER_MAX_RENAMED 10000                 /* directories one RENAME moves */

static int fail(int e)
{
    errno = e;
    return -1;
}

static int close_keep(int fd, int rc)
{
    int e = errno;
    if (fd >= 0)
        close(fd);
    errno = e;
    return rc;
}

static bool folder_exists(int mailfd, const char *name)
{
    char dir[MAIL_MAX_FOLDER + 2];
    struct stat st;
    return folder_name_to_dir(name, dir, sizeof dir) == 0 &&
           fstatat(mailfd, dir, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

static void publish(const struct account *a, const char *folder, enum bus_kind kind)
{
    struct bus_event ev = {.kind = kind, .uid = 0};
    snprintf(ev.account, sizeof ev.account, "%s", a->address);
    snprintf(ev.folder, sizeof ev.folder, "%s", folder);
    bus_publish(&ev);
}

/* Makes one folder (cur/ new/ tmp/, its MAILBOXID), durable. */
static int make_one(int mailfd, const char *name)
{
    char id[OBJECTID_LEN];
    int fd = maildir_folder_open(mailfd, name, true);
    if (fd < 0)
        return -1;
    return close_keep(fd, objectid_mailbox(fd, id));
}

/* name and every missing level above it (RFC 9051 6.3.4). */
static int make_with_parents(int mailfd, const char *name)
{
    char buf[MAIL_MAX_FOLDER + 1];
    memcpy(buf, name, strlen(name) + 1);
    for (char *p = strchr(buf, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        int rc = folder_exists(mailfd, buf) ? 0 : make_one(mailfd, buf);
        *p = '/';
        if (rc < 0)
            return -1;
    }
    return make_one(mailfd, buf);
}

int store_folder_create(int datadirfd, const struct account *a, const char *name)
{
    char canon[MAIL_MAX_FOLDER + 1];
    if (folder_name_canon(name, canon, sizeof canon) < 0)
        return -1;
    int mailfd = maildir_open(datadirfd, a);
    if (mailfd < 0)
        return -1;
    int rc;
    if (folder_name_is_inbox(canon) || folder_exists(mailfd, canon))
        rc = fail(EEXIST);
    else
        rc = make_with_parents(mailfd, canon);
    return close_keep(mailfd, rc);
}

/* ---- delete ---- */

/* Best-effort removal of a directory tree already out of sight. */
static void remove_tree(int parentfd, const char *name, int depth)
{
    int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        unlinkat(parentfd, name, 0);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(dirfd(d), de->d_name, 0) < 0 && depth < 2)
            remove_tree(dirfd(d), de->d_name, depth + 1);
    }
    closedir(d);
    unlinkat(parentfd, name, AT_REMOVEDIR);
}

/* Out of sight first (one rename, durable), then the rows, then the files. */
static int delete_locked(int mailfd, struct mail_index *idx, const char *name,
                         char *trash, size_t trashlen)
{
    char dir[MAIL_MAX_FOLDER + 2], base[MAIL_MAX_FILENAME + 1];
    if (folder_name_to_dir(name, dir, sizeof dir) < 0 ||
        maildir_new_base(0, 0, base, sizeof base) < 0)
        return -1;
    base[strcspn(base, ",")] = '\0';
    snprintf(trash, trashlen, "%s%s", FOLDER_TRASH_PREFIX, base);
    if (renameat2(mailfd, dir, mailfd, trash, RENAME_NOREPLACE) < 0)
        return -1;
    if (maildir_fsync_dir(mailfd, ".") < 0)
        return -1;
    return index_folder_drop(idx, name);
}

int store_folder_delete(int datadirfd, const struct account *a, const char *name)
{
    char canon[MAIL_MAX_FOLDER + 1], trash[MAIL_MAX_FILENAME + 1];
    if (folder_name_canon(name, canon, sizeof canon) < 0)
        return -1;
    if (folder_name_is_inbox(canon))
        return fail(EPERM); /* RFC 9051 6.3.5 */
    int mailfd = maildir_open(datadirfd, a);
    if (mailfd < 0)
        return -1;
    if (!folder_exists(mailfd, canon))
        return close_keep(mailfd, fail(ENOENT));
    struct mail_index *idx = index_cache_get(mailfd);
    int rc = idx ? idx_txn_begin(idx) : -1;
    if (rc == 0)
        rc = idx_txn_end(idx, delete_locked(mailfd, idx, canon, trash, sizeof trash));
    index_cache_put(idx);
    if (rc == 0) {
        remove_tree(mailfd, trash, 0);
        publish(a, canon, BUS_EXPUNGED);
    }
    return close_keep(mailfd, rc);
}

/* ---- rename ---- */

struct dir_pair {
    char from[MAIL_MAX_FOLDER + 2], to[MAIL_MAX_FOLDER + 2];
};

/* The directory of from and those of every folder below it, with their
 * new names under to. */
static int rename_pairs(int mailfd, const char *from, const char *to,
                        struct dir_pair **out, size_t *n)
{
    char fdir[MAIL_MAX_FOLDER + 2], tdir[MAIL_MAX_FOLDER + 2];
    if (folder_name_to_dir(from, fdir, sizeof fdir) < 0 ||
        folder_name_to_dir(to, tdir, sizeof tdir) < 0)
        return -1;
    int fd = openat(mailfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d)
        return close_keep(fd, -1);
    size_t flen = strlen(fdir), cap = 0;
    struct dirent *de;
    int rc = 0;
    *out = NULL;
    *n = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, fdir, flen) != 0 ||
            (de->d_name[flen] != '\0' && de->d_name[flen] != '.'))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct dir_pair *v =
                cap <= FOLDER_MAX_RENAMED ? realloc(*out, cap * sizeof *v) : NULL;
            if (!v) {
                rc = -1;
                break;
            }
            *out = v;
        }
        struct dir_pair *p = &(*out)[*n];
        snprintf(p->from, sizeof p->from, "%s", de->d_name);
        int len = snprintf(p->to, sizeof p->to, "%s%s", tdir, de->d_name + flen);
        if (len < 0 || (size_t)len >= sizeof p->to)
            rc = fail(EINVAL); /* a child's new name would be too long */
        else
            (*n)++;
    }
    closedir(d);
    return rc;
}

static int rename_dirs(int mailfd, struct mail_index *idx, const char *from,
                       const char *to, const struct dir_pair *p, size_t n)
{
    struct stat st;
    for (size_t i = 0; i < n; i++)
        if (fstatat(mailfd, p[i].to, &st, AT_SYMLINK_NOFOLLOW) == 0)
            return fail(EEXIST);
    for (size_t i = 0; i < n; i++) {
        if (renameat2(mailfd, p[i].from, mailfd, p[i].to, RENAME_NOREPLACE) < 0) {
            int e = errno;
            while (i-- > 0) /* put back what moved */
                renameat2(mailfd, p[i].to, mailfd, p[i].from, RENAME_NOREPLACE);
            return fail(e);
        }
    }
    if (maildir_fsync_dir(mailfd, ".") < 0)
        return -1;
    return index_folder_rename(idx, from, to);
}

static int rename_folder(int mailfd, const char *from, const char *to)
{
    struct dir_pair *pairs = NULL;
    size_t n = 0;
    if (rename_pairs(mailfd, from, to, &pairs, &n) < 0)
        return -1;
    /* Parents of the new name first (RFC 9051 6.3.6), made durable. */
    char parent[MAIL_MAX_FOLDER + 1];
    snprintf(parent, sizeof parent, "%s", to);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = '\0';
    int rc =
        slash && !folder_exists(mailfd, parent) ? make_with_parents(mailfd, parent) : 0;
    struct mail_index *idx = rc == 0 ? index_cache_get(mailfd) : NULL;
    rc = idx ? idx_txn_begin(idx) : -1;
    if (rc == 0)
        rc = idx_txn_end(idx, rename_dirs(mailfd, idx, from, to, pairs, n));
    index_cache_put(idx);
    free(pairs);
    return rc;
}

/* RFC 9051 6.3.6: renaming INBOX moves its messages to a new folder and
 * leaves INBOX empty (its children are not renamed). */
static int rename_inbox(int datadirfd, const struct account *a, int mailfd,
                        const char *to)
{
    if (make_with_parents(mailfd, to) < 0)
        return -1;
    struct mailbox *mb = mailbox_open(datadirfd, a, "INBOX");
    struct mailbox_snapshot snap;
    if (!mb || mailbox_snapshot(mb, &snap) < 0) {
        mailbox_close(mb);
        return -1;
    }
    uint32_t *uids = calloc(snap.n ? snap.n : 1, sizeof *uids);
    uint32_t *dst = calloc(snap.n ? snap.n : 1, sizeof *dst);
    uint32_t validity;
    int rc = uids && dst ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < snap.n; i++)
        uids[i] = snap.msgs[i].uid;
    if (rc == 0 && snap.n > 0 &&
        mailbox_copy(mb, uids, snap.n, to, true, NULL, dst, &validity) != STORE_OK)
        rc = -1;
    free(uids);
    free(dst);
    mailbox_snapshot_free(&snap);
    mailbox_close(mb);
    return rc;
}

int store_folder_rename(int datadirfd, const struct account *a, const char *from,
                        const char *to)
{
    char f[MAIL_MAX_FOLDER + 1], t[MAIL_MAX_FOLDER + 1];
    if (folder_name_canon(from, f, sizeof f) < 0 ||
        folder_name_canon(to, t, sizeof t) < 0)
        return -1;
    size_t flen = strlen(f);
    /* A folder cannot become its own child. */
    if (strncmp(t, f, flen) == 0 && t[flen] == '/' && !folder_name_is_inbox(f))
        return fail(EINVAL);
    int mailfd = maildir_open(datadirfd, a);
    if (mailfd < 0)
        return -1;
    int rc;
    if (folder_name_is_inbox(t) || folder_exists(mailfd, t))
        rc = fail(EEXIST);
    else if (folder_name_is_inbox(f))
        rc = rename_inbox(datadirfd, a, mailfd, t);
    else if (!folder_exists(mailfd, f))
        rc = fail(ENOENT);
    else
        rc = rename_folder(mailfd, f, t);
    if (rc == 0)
        publish(a, f, BUS_EXPUNGED);
    return close_keep(mailfd, rc);
}

/* ---- subscribe, status ---- */

int store_folder_subscribe(int datadirfd, const struct account *a, const char *name,
                           bool on)
{
    char canon[MAIL_MAX_FOLDER + 1];
    if (folder_name_canon(name, canon, sizeof canon) < 0)
        return -1;
    int mailfd = maildir_open(datadirfd, a);
    if (mailfd < 0)
        return -1;
    return close_keep(mailfd, subs_set(mailfd, canon, on));
}

int store_folder_exists(int datadirfd, const struct account *a, const char *name)
{
    char canon[MAIL_MAX_FOLDER + 1];
    if (folder_name_canon(name, canon, sizeof canon) < 0)
        return 0;
    int mailfd = maildir_open(datadirfd, a);
    if (mailfd < 0)
        return -1;
    bool exists = folder_exists(mailfd, canon);
    close(mailfd);
    if (exists)
        return 1;
    return 0;
}

static int status_of(int mailfd, const char *name, struct mail_status *out)
{
    struct index_folder f;
    struct index_status s = {0};
    int folderfd = maildir_folder_open(mailfd, name, false);
    if (folderfd < 0)
        return -1;
    struct mail_index *idx = index_cache_get(mailfd);
    int rc = idx ? index_sync(idx, name, folderfd, &f) : -1;
    if (rc == 0) /* RFC 8438 SIZE: unmeasured files counted first, once */
        rc = index_fill_folder(idx, f.id, folderfd, MAIL_NEED_SIZE | MAIL_NEED_VSIZE);
    if (rc == 0)
        rc = index_folder_status(idx, f.id, &s);
    index_cache_put(idx);
    close(folderfd);
    if (rc < 0)
        return -1;
    out->messages = s.messages;
    out->unseen = s.unseen;
    out->deleted = s.deleted;
    out->size = s.size;
    out->deleted_size = s.deleted_size;
    out->uidnext = f.uidnext;
    out->uidvalidity = f.uidvalidity;
    out->highest_modseq = f.highest_modseq;
    snprintf(out->mailboxid, sizeof out->mailboxid, "%s", f.mailboxid);
    return 0;
}

int store_folder_status(int datadirfd, const struct account *a, const char *name,
                        struct mail_status *out)
{
    char canon[MAIL_MAX_FOLDER + 1];
    memset(out, 0, sizeof *out);
    if (folder_name_canon(name, canon, sizeof canon) < 0)
        return -1;
    int mailfd = maildir_open(datadirfd, a);
    if (mailfd < 0)
        return -1;
    return close_keep(mailfd, status_of(mailfd, canon, out));
}
