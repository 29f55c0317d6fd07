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
#include <openssl/rand.h>
#include <pthread.h>
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
        if (de->d_type != DT_DIR && stale(de->d_name) &&
            unlinkat(dirfd(d), de->d_name, 0) == 0)
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
