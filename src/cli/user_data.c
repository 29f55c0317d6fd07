/* user_data: removing or setting aside a deleted account's mail and files,
 * so that an address added again starts empty. */
#include "cli/user_data.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    if (flag == FTW_DP)
        return rmdir(path) < 0 ? -1 : 0;
    return unlink(path) < 0 ? -1 : 0;
}

static int mkdir_ok(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int move_aside(const char *data_dir, const char *tree, const char *domain,
                      const char *local, char *moved_to, size_t movedlen)
{
    char dir[PATH_MAX], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(dir, sizeof dir, "%s/deleted", data_dir);
    if (mkdir_ok(dir) < 0)
        return -1;
    snprintf(dir, sizeof dir, "%s/deleted/%s", data_dir, domain);
    if (mkdir_ok(dir) < 0)
        return -1;
    for (int n = 0; n < 100; n++) {
        if (n == 0)
            snprintf(moved_to, movedlen, "%s/%s.%s", dir, local, stamp);
        else
            snprintf(moved_to, movedlen, "%s/%s.%s.%d", dir, local, stamp, n);
        if (access(moved_to, F_OK) < 0 && errno == ENOENT)
            return rename(tree, moved_to);
    }
    errno = EEXIST;
    return -1;
}

int user_data_remove(const char *data_dir, const char *domain, const char *local,
                     int keep, char *moved_to, size_t movedlen, char *why, size_t whylen)
{
    char tree[PATH_MAX];
    moved_to[0] = '\0';
    if ((size_t)snprintf(tree, sizeof tree, "%s/users/%s/%s", data_dir, domain, local) >=
        sizeof tree) {
        snprintf(why, whylen, "path too long");
        return -1;
    }
    struct stat st;
    if (lstat(tree, &st) < 0 && errno == ENOENT)
        return 0;
    int rc;
    if (keep)
        rc = move_aside(data_dir, tree, domain, local, moved_to, movedlen);
    else
        rc = nftw(tree, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
    if (rc < 0) {
        snprintf(why, whylen, "cannot %s %s: %s", keep ? "move" : "remove", tree,
                 strerror(errno));
        return -1;
    }
    return 0;
}
