/* folder_list: store_folder_list, the LIST side of the store (RFC 9051
 * 6.3.9, RFC 5258 LIST-EXTENDED, RFC 6154 SPECIAL-USE). Folders are the
 * Maildir++ ".Name" directories of mail/ plus INBOX; a level that only
 * exists as a parent of another (".A.B" without ".A", made by another
 * program) and a subscribed name that does not exist are listed with
 * exists false. */
#include "store/mailbox.h"

#include "store/folder_name.h"
#include "store/maildir.h"
#include "store/objectid.h"
#include "store/subscriptions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FOLDER_LIST_MAX 10000 /* folders listed per account (lookups are linear) */

struct folder_vec {
    struct mail_folder *v;
    size_t n, cap;
};

static struct mail_folder *find(struct folder_vec *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0)
            return &l->v[i];
    return NULL;
}

static struct mail_folder *add(struct folder_vec *l, const char *name, bool exists)
{
    struct mail_folder *f = find(l, name);
    if (f) {
        f->exists |= exists;
        return f;
    }
    if (l->n >= FOLDER_LIST_MAX)
        return NULL;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct mail_folder *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    f = &l->v[l->n++];
    memset(f, 0, sizeof *f);
    memcpy(f->name, name, strlen(name) + 1);
    f->exists = exists;
    return f;
}

/* Every level above name ("A" and "A/B" for "A/B/C"), as parents. */
static int add_parents(struct folder_vec *l, const char *name)
{
    char buf[MAIL_MAX_FOLDER + 1];
    memcpy(buf, name, strlen(name) + 1);
    for (char *p = strrchr(buf, '/'); p; p = strrchr(buf, '/')) {
        *p = '\0';
        struct mail_folder *f = add(l, buf, false);
        if (!f)
            return -1;
        f->has_children = true;
    }
    return 0;
}

static int scan_dirs(int mailfd, struct folder_vec *l)
{
    int fd = openat(mailfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct dirent *de;
    char name[MAIL_MAX_FOLDER + 1];
    int rc = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        struct stat st;
        if (de->d_name[0] != '.' ||
            folder_name_from_dir(de->d_name, name, sizeof name) < 0)
            continue;
        if (fstatat(mailfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISDIR(st.st_mode))
            continue;
        rc = add(l, name, true) ? add_parents(l, name) : -1;
    }
    closedir(d);
    return rc;
}

static int add_subscriptions(int mailfd, struct folder_vec *l)
{
    char **names;
    size_t n;
    if (subs_read(mailfd, &names, &n) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char canon[MAIL_MAX_FOLDER + 1];
        if (folder_name_canon(names[i], canon, sizeof canon) < 0)
            continue; /* a line another program wrote that is no name of ours */
        struct mail_folder *f = add(l, canon, false);
        if (f)
            f->subscribed = true;
        else
            rc = -1;
    }
    subs_free(names, n);
    return rc;
}

/* RFC 6154 special uses of the default folders (store/maildir.h). */
static enum mail_special special_of(const char *name)
{
    static const struct {
        const char *name;
        enum mail_special use;
    } map[] = {{"Sent", MAIL_SPECIAL_SENT},
               {"Drafts", MAIL_SPECIAL_DRAFTS},
               {"Trash", MAIL_SPECIAL_TRASH},
               {"Junk", MAIL_SPECIAL_JUNK},
               {"Archive", MAIL_SPECIAL_ARCHIVE}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, name) == 0)
            return map[i].use;
    return MAIL_SPECIAL_NONE;
}

static void finish(int mailfd, struct mail_folder *f, const struct folder_vec *l)
{
    size_t n = strlen(f->name);
    for (size_t i = 0; i < l->n && !f->has_children; i++)
        f->has_children = l->v[i].exists && strncmp(l->v[i].name, f->name, n) == 0 &&
                          l->v[i].name[n] == '/';
    f->special = special_of(f->name);
    if (!f->exists)
        return;
    int fd = maildir_folder_open(mailfd, f->name, false);
    if (fd >= 0 && objectid_mailbox(fd, f->mailboxid) < 0)
        f->mailboxid[0] = '\0';
    if (fd >= 0)
        close(fd);
}

static int folder_cmp(const void *a, const void *b)
{
    const struct mail_folder *x = a, *y = b;
    bool xi = strcmp(x->name, "INBOX") == 0, yi = strcmp(y->name, "INBOX") == 0;
    if (xi != yi)
        return xi ? -1 : 1;
    return strcmp(x->name, y->name);
}

int store_folder_list(int datadirfd, const struct account *a, struct mail_folder **out,
                      size_t *n)
{
    struct folder_vec l = {0};
    *out = NULL;
    *n = 0;
    int mailfd = maildir_open(datadirfd, a);
    if (mailfd < 0)
        return -1;
    int rc = add(&l, "INBOX", true) ? 0 : -1;
    if (rc == 0)
        rc = scan_dirs(mailfd, &l);
    if (rc == 0)
        rc = add_subscriptions(mailfd, &l);
    for (size_t i = 0; rc == 0 && i < l.n; i++)
        finish(mailfd, &l.v[i], &l);
    close(mailfd);
    if (rc < 0) {
        free(l.v);
        return -1;
    }
    if (l.n > 1)
        qsort(l.v, l.n, sizeof *l.v, folder_cmp);
    *out = l.v;
    *n = l.n;
    return 0;
}
