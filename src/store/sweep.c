/* sweep: a depth-bounded walk of users/<domain>/<local>/files/ by directory
 * fds (symlinks are never followed), removing STORE_UPLOAD_PREFIX files whose
 * PID is not ours. Runs once at start, beside new uploads: those carry our
 * PID and are left alone. */
#include "store/sweep.h"

#include "core/log.h"
#include "store/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SWEEP_MAX_DEPTH 64 /* deeper trees are left as they are */

int store_upload_name(char *out, size_t outlen, const char *fmt, ...)
{
    int n = snprintf(out, outlen, STORE_UPLOAD_PREFIX "%d-", (int)getpid());
    if (n < 0 || (size_t)n >= outlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(out + n, outlen - (size_t)n, fmt, ap);
    va_end(ap);
    return m < 0 || (size_t)m >= outlen - (size_t)n ? -1 : 0;
}

/* True for a temporary upload name carrying another process's PID. */
static bool stale(const char *name)
{
    if (!store_is_upload_temp(name))
        return false;
    char *end;
    long pid = strtol(name + sizeof STORE_UPLOAD_PREFIX - 1, &end, 10);
    return end == name + sizeof STORE_UPLOAD_PREFIX - 1 || *end != '-' || pid != getpid();
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

/* users/<domain>/<local>/files for every domain and local part. */
long store_sweep_uploads(int datadirfd)
{
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
                closedir(home);
            }
        }
        if (locals)
            closedir(locals);
    }
    if (users)
        closedir(users);
    if (removed)
        log_info(0, "store sweep removed_unfinished_uploads=%ld", removed);
    return removed;
}
