/* subscriptions: reading and rewriting the `subscriptions` file. A rewrite
 * goes through tmp/ and a rename, so a crash leaves the old list or the new
 * one; a process-wide lock keeps two sessions' rewrites from losing one. */
#include "store/subscriptions.h"

#include "core/fileio.h"
#include "core/limits.h"
#include "store/maildir.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t subs_lock = PTHREAD_MUTEX_INITIALIZER;

void subs_free(char **names, size_t n)
{
    for (size_t i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

int subs_read(int mailfd, char ***names, size_t *n)
{
    *names = NULL;
    *n = 0;
    int fd = openat(mailfd, SUBSCRIPTIONS_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        return -1;
    }
    char line[MAIL_MAX_FOLDER + 2];
    size_t cap = 0;
    int rc = 0;
    while (rc == 0 && *n < SUBSCRIPTIONS_MAX && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            char **v = realloc(*names, cap * sizeof *v);
            if (!v) {
                rc = -1;
                break;
            }
            *names = v;
        }
        if (!((*names)[*n] = strdup(line)))
            rc = -1;
        else
            (*n)++;
    }
    fclose(f);
    if (rc < 0) {
        subs_free(*names, *n);
        *names = NULL;
        *n = 0;
    }
    return rc;
}

static int write_list(int mailfd, char **names, size_t n, const char *skip,
                      const char *add)
{
    char base[MAIL_MAX_FILENAME + 1], tmp[MAIL_MAX_FILENAME + 24];
    if (maildir_new_base(0, 0, base, sizeof base) < 0)
        return -1;
    snprintf(tmp, sizeof tmp, "tmp/%s.subs", base);
    int fd =
        openat(mailfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (skip && strcmp(names[i], skip) == 0)
            continue;
        rc = fd_write_all(fd, names[i], strlen(names[i]));
        if (rc == 0)
            rc = fd_write_all(fd, "\n", 1);
    }
    if (rc == 0 && add) {
        rc = fd_write_all(fd, add, strlen(add));
        if (rc == 0)
            rc = fd_write_all(fd, "\n", 1);
    }
    if (rc == 0)
        rc = fsync(fd);
    close(fd);
    if (rc == 0)
        rc = renameat(mailfd, tmp, mailfd, SUBSCRIPTIONS_FILE);
    if (rc < 0) {
        unlinkat(mailfd, tmp, 0);
        return -1;
    }
    return maildir_fsync_dir(mailfd, ".");
}

int subs_set(int mailfd, const char *name, bool on)
{
    char **names;
    size_t n;
    pthread_mutex_lock(&subs_lock);
    int rc = subs_read(mailfd, &names, &n);
    bool have = false;
    for (size_t i = 0; rc == 0 && i < n; i++)
        have |= strcmp(names[i], name) == 0;
    if (rc == 0 && have != on)
        rc = write_list(mailfd, names, n, on ? NULL : name, on ? name : NULL);
    subs_free(names, n);
    pthread_mutex_unlock(&subs_lock);
    return rc;
}
