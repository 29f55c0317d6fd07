/* maildir: Maildir++ directories and file names of one account; no index,
 * no SQLite. Every path below mail/ is built here from checked components
 * and opened with *at() calls relative to the account's fd. */
#include "store/maildir.h"

#include "store/folder_name.h"
#include "store/sandbox.h"

#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

const char *const maildir_default_folders[] = {"Sent", "Drafts",  "Trash",
                                               "Junk", "Archive", NULL};

static atomic_uint name_counter;

static int close_keep(int fd, int rc)
{
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

static int mkdir_ok(int dirfd, const char *name)
{
    return mkdirat(dirfd, name, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

/* cur/ new/ tmp/ of a folder fd. */
static int folder_subdirs(int fd)
{
    static const char *const sub[] = {"tmp", "new", "cur"}; /* cur/ last: complete */
    struct stat st;
    if (fstatat(fd, "cur", &st, AT_SYMLINK_NOFOLLOW) == 0)
        return 0;
    for (int i = 0; i < 3; i++)
        if (mkdir_ok(fd, sub[i]) < 0)
            return -1;
    return maildir_fsync_dir(fd, ".");
}

int maildir_folder_open(int mailfd, const char *folder, bool create)
{
    char name[MAIL_MAX_FOLDER + 2];
    if (folder_name_to_dir(folder, name, sizeof name) < 0) {
        errno = EINVAL;
        return -1;
    }
    const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    int fd = openat(mailfd, name, flags);
    if (fd < 0 && errno == ENOENT && create) {
        if (mkdir_ok(mailfd, name) < 0 || maildir_fsync_dir(mailfd, ".") < 0)
            return -1;
        fd = openat(mailfd, name, flags);
    }
    if (fd >= 0 && create && folder_subdirs(fd) < 0)
        return close_keep(fd, -1);
    return fd;
}

int maildir_open(int datadirfd, const struct account *a)
{
    int fd = store_mail_dir_open(datadirfd, a->domain, a->local);
    if (fd < 0)
        return -1;
    /* A new account: the root's cur/ new/ tmp/ and the standard folders. */
    struct stat st;
    if (fstatat(fd, "cur", &st, AT_SYMLINK_NOFOLLOW) == 0)
        return fd;
    for (int i = 0; maildir_default_folders[i]; i++) {
        int f = maildir_folder_open(fd, maildir_default_folders[i], true);
        if (f < 0)
            return close_keep(fd, -1);
        close(f);
    }
    /* cur/ last: its presence says the layout is complete. */
    if (mkdir_ok(fd, "new") < 0 || mkdir_ok(fd, "tmp") < 0 || mkdir_ok(fd, "cur") < 0 ||
        maildir_fsync_dir(fd, ".") < 0)
        return close_keep(fd, -1);
    return fd;
}

/* The number after ",S=" or ",W=" (key 'S' or 'W') in base[0..n), at its
 * first such comma; 0 if absent or too big. */
static uint64_t name_field(const char *base, size_t n, char key)
{
    const char *end = base + n;
    const char *p = memchr(base, ',', n);
    while (p && !(end - p > 2 && p[1] == key && p[2] == '='))
        p = memchr(p + 1, ',', (size_t)(end - p - 1));
    if (!p)
        return 0;
    uint64_t v = 0;
    for (p += 3; p < end && *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}

int maildir_parse_name(const char *name, bool in_cur, struct maildir_entry *out)
{
    if (name[0] == '.')
        return -1;
    size_t len = strlen(name);
    if (len > MAIL_MAX_FILENAME || memchr(name, '/', len))
        return -1;
    const char *info = strstr(name, ":2,");
    size_t n = len, flen = 0;
    if (info) {
        n = (size_t)(info - name);
        flen = len - n - 3;
    }
    /* The info part is kept as written (not re-sorted): the path rebuilt
     * from it must be the file's real name. One too long is refused. */
    if (n == 0 || flen >= sizeof out->flags)
        return -1;
    memcpy(out->base, name, n);
    out->base[n] = '\0';
    if (flen)
        memcpy(out->flags, info + 3, flen);
    out->flags[flen] = '\0';
    out->in_cur = in_cur;
    out->size = name_field(out->base, n, 'S');
    out->vsize = name_field(out->base, n, 'W');
    return 0;
}

int maildir_entry_path(const struct maildir_entry *e, char *out, size_t outlen)
{
    int n = e->in_cur ? snprintf(out, outlen, "cur/%s:2,%s", e->base, e->flags)
                      : snprintf(out, outlen, "new/%s", e->base);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

/* vsize counts the CR each bare LF gains on the wire; an LF already after
 * a CR (a file another program wrote with CRLF) gains nothing. */
int maildir_measure(int fd, uint64_t *size, uint64_t *vsize)
{
    char buf[16384];
    uint64_t s = 0, lf = 0;
    ssize_t r;
    off_t off = 0;
    char prev = 0;
    while ((r = pread(fd, buf, sizeof buf, off)) > 0) {
        for (ssize_t i = 0; i < r; i++) {
            lf += buf[i] == '\n' && prev != '\r';
            prev = buf[i];
        }
        s += (uint64_t)r;
        off += r;
    }
    if (r < 0)
        return -1;
    *size = s;
    *vsize = s + lf;
    return 0;
}

#define MAILDIR_RESERVE_MAX (1u << 18) /* files reserved up front at most */
#define TEXT_BLOCK 65536               /* names are kept in blocks this big */

/* The names of a scan, in blocks that never move. */
struct maildir_text {
    struct maildir_text *next;
    size_t used;
    char data[TEXT_BLOCK];
};

/* A copy of s in the list's text, its strlen in *slen; NULL without
 * memory. */
static const char *text_add(struct maildir_list *l, const char *s, uint16_t *slen)
{
    size_t len = strlen(s) + 1; /* at most NAME_MAX + 1 */
    *slen = (uint16_t)(len - 1);
    if (!l->text || l->text->used + len > TEXT_BLOCK) {
        struct maildir_text *t = malloc(sizeof *t);
        if (!t)
            return NULL;
        t->next = l->text;
        t->used = 0;
        l->text = t;
    }
    char *p = l->text->data + l->text->used;
    memcpy(p, s, len);
    l->text->used += len;
    return p;
}

/* One more file at the end of l (cap: the files' room). */
static int list_push(struct maildir_list *l, size_t *cap, const struct maildir_entry *e)
{
    if (l->n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        struct maildir_file *v = realloc(l->files, c * sizeof *v);
        if (!v)
            return -1;
        l->files = v;
        *cap = c;
    }
    struct maildir_file *f = &l->files[l->n];
    f->base = text_add(l, e->base, &f->base_len);
    f->flags_len = 0;
    f->flags = e->flags[0] ? text_add(l, e->flags, &f->flags_len) : "";
    if (!f->base || !f->flags)
        return -1;
    f->in_cur = e->in_cur;
    f->size = e->size;
    f->vsize = e->vsize;
    l->n++;
    return 0;
}

static int scan_sub(int folderfd, const char *sub, struct maildir_list *l, size_t *cap)
{
    int fd = openat(folderfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return errno == ENOENT ? 0 : -1;
    }
    struct dirent *de;
    int rc = 0;
    struct maildir_entry e;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN)
            continue;
        if (maildir_parse_name(de->d_name, sub[0] == 'c', &e) == 0)
            rc = list_push(l, cap, &e);
    }
    closedir(d);
    return rc;
}

/* A file's place in the sort: the first 16 bytes of its base as two
 * big-endian numbers (zero padded), so most comparisons are two integer
 * compares and not a strcmp (names share their first digits). */
struct sort_key {
    uint64_t hi, lo;
    const struct maildir_file *f;
};

static uint64_t be64(const char *s, size_t len)
{
    unsigned char b[8] = {0};
    memcpy(b, s, len < 8 ? len : 8);
    uint64_t v;
    memcpy(&v, b, sizeof v);
    return be64toh(v);
}

static void key_make(struct sort_key *k, const struct maildir_file *f)
{
    size_t len = f->base_len;
    k->hi = be64(f->base, len);
    k->lo = len > 8 ? be64(f->base + 8, len - 8) : 0;
    k->f = f;
}

/* The order of strcmp on the bases (unsigned bytes, as SQLite's BINARY). */
static bool key_less(const struct sort_key *x, const struct sort_key *y)
{
    if (x->hi != y->hi)
        return x->hi < y->hi;
    if (x->lo != y->lo)
        return x->lo < y->lo;
    return strcmp(x->f->base, y->f->base) < 0;
}

#define SORT_RUN 8 /* runs this long are sorted by insertion first */

/* Sorts k[lo..hi) by insertion (a short run). */
static void keys_insertion_sort(struct sort_key *k, size_t lo, size_t hi)
{
    for (size_t i = lo + 1; i < hi; i++) {
        struct sort_key x = k[i];
        size_t j = i;
        for (; j > lo && key_less(&x, &k[j - 1]); j--)
            k[j] = k[j - 1];
        k[j] = x;
    }
}

/* Sorts k[0..n) with tmp (room for n): runs of SORT_RUN by insertion,
 * then merged into runs that double in length (no call through a
 * function pointer per comparison, as qsort). */
static void keys_sort(struct sort_key *k, struct sort_key *tmp, size_t n)
{
    for (size_t lo = 0; lo < n; lo += SORT_RUN)
        keys_insertion_sort(k, lo, lo + SORT_RUN < n ? lo + SORT_RUN : n);
    struct sort_key *from = k, *to = tmp;
    for (size_t width = SORT_RUN; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, out = lo;
            while (a < mid && b < hi)
                to[out++] = key_less(&from[b], &from[a]) ? from[b++] : from[a++];
            while (a < mid)
                to[out++] = from[a++];
            while (b < hi)
                to[out++] = from[b++];
        }
        struct sort_key *t = from;
        from = to;
        to = t;
    }
    if (from != k)
        memcpy(k, from, n * sizeof *k);
}

/* l's files by base, into l->sorted. */
static int sort_files(struct maildir_list *l)
{
    l->sorted = malloc((l->n ? l->n : 1) * sizeof *l->sorted);
    struct sort_key *k = malloc((2 * l->n + 1) * sizeof *k);
    if (!l->sorted || !k) {
        free(k);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++)
        key_make(&k[i], &l->files[i]);
    keys_sort(k, k + l->n, l->n);
    for (size_t i = 0; i < l->n; i++)
        l->sorted[i] = k[i].f;
    free(k);
    return 0;
}

/* Room for about as many files as new/ and cur/ hold (a directory's
 * size is at least 32 bytes per entry on ext4 and XFS; a guess elsewhere),
 * so a big folder's list is not copied at every doubling. */
static size_t list_reserve(int folderfd, struct maildir_list *l)
{
    struct stat st;
    size_t n = 0;
    if (fstatat(folderfd, "new", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > 0)
        n += (size_t)st.st_size / 32;
    if (fstatat(folderfd, "cur", &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_size > 0)
        n += (size_t)st.st_size / 32;
    if (n < 64)
        return 0;
    if (n > MAILDIR_RESERVE_MAX)
        n = MAILDIR_RESERVE_MAX;
    l->files = malloc(n * sizeof *l->files);
    return l->files ? n : 0;
}

long maildir_scan(int folderfd, struct maildir_list *out)
{
    memset(out, 0, sizeof *out);
    size_t cap = list_reserve(folderfd, out);
    int rc = scan_sub(folderfd, "new", out, &cap);
    if (rc == 0)
        rc = scan_sub(folderfd, "cur", out, &cap);
    if (rc == 0)
        rc = sort_files(out);
    return rc == 0 ? (long)out->n : -1;
}

void maildir_list_free(struct maildir_list *l)
{
    while (l->text) {
        struct maildir_text *t = l->text;
        l->text = t->next;
        free(t);
    }
    free(l->files);
    free(l->sorted);
    memset(l, 0, sizeof *l);
}

/* The host part of a unique name: no '/', ':' or ',' (Maildir, Maildir++). */
static void safe_host(char *out, size_t outlen)
{
    if (gethostname(out, outlen) < 0)
        snprintf(out, outlen, "localhost");
    out[outlen - 1] = '\0';
    for (char *p = out; *p; p++)
        if (*p == '/' || *p == ':' || *p == ',' || (unsigned char)*p < 0x21)
            *p = '_';
}

int maildir_new_base(uint64_t size, uint64_t vsize, char *out, size_t outlen)
{
    struct timeval tv;
    char host[64];
    gettimeofday(&tv, NULL);
    safe_host(host, sizeof host);
    unsigned q = atomic_fetch_add(&name_counter, 1);
    int n = snprintf(out, outlen, "%lld.M%06ldP%dQ%u.%s,S=%" PRIu64 ",W=%" PRIu64,
                     (long long)tv.tv_sec, (long)tv.tv_usec, (int)getpid(), q, host, size,
                     vsize);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int maildir_fsync_dir(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    return close_keep(fd, fsync(fd));
}
