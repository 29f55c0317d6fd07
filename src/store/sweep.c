/* sweep: a depth-bounded walk of users/<domain>/<local>/files/ by directory
 * fds (symlinks are never followed), removing STORE_UPLOAD_PREFIX files whose
 * run marker is not ours, and of users/<domain>/<local>/mail/[.Folder/]tmp/
 * removing files older than 36 hours. Runs at every start, beside new
 * uploads: those carry our marker and are left alone. */
#include "store/sweep.h"

#include "core/limits.h"
#include "core/log.h"
#include "store/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_MAX_DEPTH 64 /* deeper trees are left as they are */

static char run_marker[17];
static pthread_once_t run_once = PTHREAD_ONCE_INIT;

/* 16 hex digits, random per start. */
static void draw_marker(void)
{
    unsigned char r[8];
    if (RAND_bytes(r, sizeof r) != 1) {
        uint64_t v = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^ (uint64_t)getpid();
        memcpy(r, &v, sizeof r);
    }
    for (int i = 0; i < 8; i++)
        snprintf(run_marker + 2 * i, 3, "%02x", r[i]);
}

static const char *marker(void)
{
    pthread_once(&run_once, draw_marker);
    return run_marker;
}

int store_upload_name(char *out, size_t outlen, const char *fmt, ...)
{
    int n = snprintf(out, outlen, STORE_UPLOAD_PREFIX "%s-", marker());
    if (n < 0 || (size_t)n >= outlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(out + n, outlen - (size_t)n, fmt, ap);
    va_end(ap);
    return m < 0 || (size_t)m >= outlen - (size_t)n ? -1 : 0;
}

#define APPE_TAG "appe-"

int store_appe_journal_begin(int dirfd, const char *leaf, uint64_t size, const char *tag,
                             char *name, size_t namelen)
{
    int n = snprintf(name, namelen, STORE_UPLOAD_PREFIX APPE_TAG "%s-%s", marker(), tag);
    if (n < 0 || (size_t)n >= namelen) {
        name[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd =
        openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        name[0] = '\0';
        return -1;
    }
    char line[NAME_MAX + 32];
    int len = snprintf(line, sizeof line, "%llu %s\n", (unsigned long long)size, leaf);
    bool ok = len > 0 && (size_t)len < sizeof line &&
              write(fd, line, (size_t)len) == len && fsync(fd) == 0 && fsync(dirfd) == 0;
    close(fd);
    if (!ok) {
        unlinkat(dirfd, name, 0);
        name[0] = '\0';
        return -1;
    }
    return 0;
}

void store_appe_journal_end(int dirfd, char *name)
{
    if (name[0] && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
        log_warn(0, "store appe_journal_unlink_failed error=%d", errno);
    name[0] = '\0';
}

/* A crashed run's APPE journal: the file back to its size before the
 * append, then the journal goes. True if name was a journal. */
static bool undo_appe(int dirfd, const char *name, long *undone)
{
    const char *rest = name + sizeof STORE_UPLOAD_PREFIX - 1;
    if (strncmp(rest, APPE_TAG, sizeof APPE_TAG - 1) != 0)
        return false;
    rest += sizeof APPE_TAG - 1;
    if (strncmp(rest, marker(), strlen(marker())) == 0)
        return true; /* this run's: in progress */
    char line[NAME_MAX + 32] = "", leaf[NAME_MAX + 1];
    unsigned long long size;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, line, sizeof line - 1) : -1;
    if (fd >= 0)
        close(fd);
    if (n > 0 && sscanf(line, "%llu %255[^\n]", &size, leaf) == 2 && !strchr(leaf, '/')) {
        int t = openat(dirfd, leaf, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (t >= 0 && fstat(t, &st) == 0 && S_ISREG(st.st_mode) &&
            (unsigned long long)st.st_size > size && ftruncate(t, (off_t)size) == 0 &&
            fsync(t) == 0)
            (*undone)++;
        if (t >= 0)
            close(t);
    }
    unlinkat(dirfd, name, 0);
    return true;
}

/* True for a temporary upload name without this run's marker. */
static bool stale(const char *name)
{
    if (!store_is_upload_temp(name))
        return false;
    const char *m = name + sizeof STORE_UPLOAD_PREFIX - 1;
    size_t len = strlen(marker());
    return strncmp(m, marker(), len) != 0 || m[len] != '-';
}

static DIR *open_dir(int parent, const char *name)
{
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d && fd >= 0)
        close(fd);
    return d;
}

static long sweep_tree(int parent, const char *name, int depth)
{
    DIR *d = depth < SWEEP_MAX_DEPTH ? open_dir(parent, name) : NULL;
    if (!d)
        return 0;
    long removed = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
            removed += sweep_tree(dirfd(d), de->d_name, depth + 1);
        if (de->d_type == DT_DIR || !store_is_upload_temp(de->d_name))
            continue;
        long undone = 0;
        if (undo_appe(dirfd(d), de->d_name, &undone)) {
            if (undone)
                log_info(0, "store sweep appe_truncated file_in=%s", name);
            removed += undone;
            continue;
        }
        if (stale(de->d_name) && unlinkat(dirfd(d), de->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

/* Maildir (Bernstein's maildir(5)): a tmp/ file not renamed into new/
 * within 36 hours is a leftover of a crashed delivery. */
static long sweep_tmp(int parent, const char *name, time_t now)
{
    DIR *d = open_dir(parent, name);
    if (!d)
        return 0;
    long removed = 0;
    struct dirent *de;
    struct stat st;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' ||
            fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (S_ISREG(st.st_mode) && now - st.st_mtime > STORE_MAILDIR_TMP_MAX_AGE_SEC &&
            unlinkat(dirfd(d), de->d_name, 0) == 0)
            removed++;
    }
    closedir(d);
    return removed;
}

/* mail/tmp and mail/.Folder/tmp (Maildir++) of one account. */
static long sweep_maildir(int home, time_t now)
{
    DIR *mail = open_dir(home, "mail");
    if (!mail)
        return 0;
    long removed = sweep_tmp(dirfd(mail), "tmp", now);
    struct dirent *de;
    while ((de = readdir(mail)) != NULL) {
        if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
            strcmp(de->d_name, "..") == 0)
            continue;
        DIR *folder = open_dir(dirfd(mail), de->d_name);
        if (folder) {
            removed += sweep_tmp(dirfd(folder), "tmp", now);
            closedir(folder);
        }
    }
    closedir(mail);
    return removed;
}

/* users/<domain>/<local>/files for every domain and local part. */
long store_sweep_uploads(int datadirfd)
{
    long mail_removed = 0;
    time_t now = time(NULL);
    long removed = 0;
    DIR *users = open_dir(datadirfd, "users");
    struct dirent *dom, *loc;
    while (users && (dom = readdir(users)) != NULL) {
        DIR *locals = dom->d_name[0] != '.' ? open_dir(dirfd(users), dom->d_name) : NULL;
        while (locals && (loc = readdir(locals)) != NULL) {
            DIR *home =
                loc->d_name[0] != '.' ? open_dir(dirfd(locals), loc->d_name) : NULL;
            if (home) {
                removed += sweep_tree(dirfd(home), "files", 0);
                mail_removed += sweep_maildir(dirfd(home), now);
                closedir(home);
            }
        }
        if (locals)
            closedir(locals);
    }
    if (users)
        closedir(users);
    if (removed || mail_removed)
        log_info(0, "store sweep removed_unfinished_uploads=%ld removed_maildir_tmp=%ld",
                 removed, mail_removed);
    return removed + mail_removed;
}
