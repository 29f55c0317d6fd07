/* list: formatting directory entries for LIST, NLST, MLSD and MLST (see
 * list.h). Entries are read with fstatat(AT_SYMLINK_NOFOLLOW) beneath the
 * directory fd: a symlink is shown as a link, never followed out of the
 * root. */
#include "ftp/list.h"

#include "store/sandbox.h"

#include "core/limits.h"
#include "ftp/parse.h"

#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static char type_char(mode_t m)
{
    return S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : S_ISREG(m) ? '-' : '?';
}

static void mode_string(mode_t m, char out[11])
{
    static const char rwx[] = "rwxrwxrwx";
    out[0] = type_char(m);
    for (int i = 0; i < 9; i++)
        out[i + 1] = (m & (1u << (8 - i))) ? rwx[i] : '-';
    out[10] = '\0';
}

/* `ls -l` dates: "Mon dd HH:MM" within six months, else "Mon dd  YYYY". */
static void ls_date(time_t t, time_t now, char *buf, size_t len)
{
    struct tm tm;
    if (!gmtime_r(&t, &tm)) {
        snprintf(buf, len, "Jan  1  1970");
        return;
    }
    if (t > now - 182 * 86400 && t <= now + 3600)
        snprintf(buf, len, "%s %2d %02d:%02d", months[tm.tm_mon], tm.tm_mday, tm.tm_hour,
                 tm.tm_min);
    else
        snprintf(buf, len, "%s %2d  %d", months[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900);
}

static void entry_ls(struct evbuffer *out, const char *name, const struct stat *st,
                     const char *link, time_t now)
{
    char mode[11], date[32];
    mode_string(st->st_mode, mode);
    ls_date(st->st_mtime, now, date, sizeof date);
    evbuffer_add_printf(out, "%s %3lu ftp      ftp      %12llu %s %s%s%s\r\n", mode,
                        (unsigned long)st->st_nlink, (unsigned long long)st->st_size, date,
                        name, link ? " -> " : "", link ? link : "");
}

/* RFC 3659 7.5: type, size, modify, perm, unique. */
static void entry_mlsd(struct evbuffer *out, const char *name, const struct stat *st,
                       bool readonly)
{
    char modify[16];
    ftp_format_time(st->st_mtime, modify, sizeof modify);
    const char *type = S_ISDIR(st->st_mode)   ? "dir"
                       : S_ISREG(st->st_mode) ? "file"
                       : S_ISLNK(st->st_mode) ? "OS.unix=symlink"
                                              : "OS.unix=other";
    /* RFC 3659 7.5.5: a append, c create, d delete, e enter, f rename,
     * l list, m mkdir, p purge, r retrieve, w write. */
    const char *perm = S_ISDIR(st->st_mode) ? (readonly ? "el" : "cdeflmp")
                                            : (readonly ? "r" : "adfrw");
    evbuffer_add_printf(out, "type=%s;size=%llu;modify=%s;perm=%s;unique=%llxU%llx; %s\r\n",
                        type, (unsigned long long)st->st_size, modify, perm,
                        (unsigned long long)st->st_dev, (unsigned long long)st->st_ino, name);
}

void list_entry(struct evbuffer *out, enum list_style style, const char *name,
                const struct stat *st, const char *link, bool readonly, time_t now)
{
    switch (style) {
    case LIST_LS:
        entry_ls(out, name, st, link, now);
        break;
    case LIST_NLST:
        evbuffer_add_printf(out, "%s\r\n", name);
        break;
    case LIST_MLSD:
        entry_mlsd(out, name, st, readonly);
        break;
    }
}

static bool listed(const char *name, bool all)
{
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    if (store_is_upload_temp(name))
        return false;
    /* A name with CR or LF would break the listing's line structure. */
    if (strpbrk(name, "\r\n"))
        return false;
    return all || name[0] != '.';
}

int list_dir(int dirfd, enum list_style style, bool all, bool readonly, struct evbuffer *out)
{
    int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    time_t now = time(NULL);
    struct dirent *de;
    long n = 0;
    while ((de = readdir(dir)) != NULL && n < FTP_LIST_MAX_ENTRIES) {
        struct stat st;
        if (!listed(de->d_name, all) ||
            fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        char target[PATH_MAX];
        const char *link = NULL;
        if (S_ISLNK(st.st_mode) && style == LIST_LS) {
            ssize_t k = readlinkat(dirfd, de->d_name, target, sizeof target - 1);
            if (k >= 0) {
                target[k] = '\0';
                link = strpbrk(target, "\r\n") ? NULL : target;
            }
        }
        list_entry(out, style, de->d_name, &st, link, readonly, now);
        n++;
    }
    closedir(dir);
    return 0;
}
