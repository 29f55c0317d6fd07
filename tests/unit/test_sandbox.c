/* test_sandbox: the path sandbox (store/sandbox.c). Lexical joins by table;
 * then, in a temporary tree base/{secret, root/...}, every way out of root
 * (.., symlinks absolute and relative, magic links, renames) must fail while
 * ordinary work inside root succeeds and no descriptor leaks. */
#include "core/limits.h"
#include "store/sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* ---- fixture ----------------------------------------------------------- */

struct fx {
    char base[64]; /* holds "secret": outside the sandbox */
    char root[96]; /* base/root: the sandbox */
    int basefd;
    int rootfd;
};

static void rm_tree(int dirfd, const char *name)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    DIR *d = fdopendir(fd);
    if (d == NULL) {
        close(fd);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlinkat(fd, e->d_name, 0) < 0 && (errno == EISDIR || errno == EPERM)) {
            rm_tree(fd, e->d_name);
            unlinkat(fd, e->d_name, AT_REMOVEDIR);
        }
    }
    closedir(d);
}

static void write_at(int dirfd, const char *name, const char *text)
{
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void symlink_at(int dirfd, const char *name, const char *target)
{
    assert_int_equal(symlinkat(target, dirfd, name), 0);
}

static int exists_at(int dirfd, const char *name)
{
    struct stat st;
    return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->base, sizeof f->base, "/tmp/portico-sb-XXXXXX");
    assert_non_null(mkdtemp(f->base));
    snprintf(f->root, sizeof f->root, "%s/root", f->base);
    f->basefd = open(f->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->basefd >= 0);
    write_at(f->basefd, "secret", "TOPSECRET");
    assert_int_equal(mkdirat(f->basefd, "root", 0700), 0);
    f->rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(f->rootfd >= 0);
    assert_int_equal(mkdirat(f->rootfd, "a", 0700), 0);
    write_at(f->rootfd, "a/file", "inside");
    char target[160];
    snprintf(target, sizeof target, "%s/secret", f->base);
    symlink_at(f->rootfd, "abs", target);      /* absolute, out */
    symlink_at(f->rootfd, "rel", "../secret"); /* relative, out */
    symlink_at(f->rootfd, "outdir", f->base);  /* directory, out */
    symlink_at(f->rootfd, "outrel", "..");     /* directory, out */
    symlink_at(f->rootfd, "dangling", "../created-outside");
    symlink_at(f->rootfd, "inlink", "a/file");  /* stays inside */
    symlink_at(f->rootfd, "a/up", "../a/file"); /* goes up, stays inside */
    symlink_at(f->rootfd, "magic", "/proc/self/root/etc/passwd");
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    close(f->rootfd);
    int tmpfd = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    rm_tree(tmpfd, f->base + strlen("/tmp/"));
    unlinkat(tmpfd, f->base + strlen("/tmp/"), AT_REMOVEDIR);
    close(tmpfd);
    close(f->basefd);
    free(f);
    return 0;
}

/* Reads a whole (small) file opened through the sandbox. */
static void assert_content(int rootfd, const char *vpath, const char *want)
{
    char buf[64] = {0};
    int fd = sandbox_open(rootfd, vpath, O_RDONLY, 0);
    assert_true(fd >= 0);
    assert_true(read(fd, buf, sizeof buf - 1) >= 0);
    close(fd);
    assert_string_equal(buf, want);
}

/* An operation must fail without ever reaching the outside file. */
static void assert_escape_refused(int rc)
{
    assert_int_equal(rc, -1);
    assert_true(errno == EXDEV || errno == ELOOP);
}

/* Same for a call returning a descriptor, which is closed if it leaked. */
static void assert_open_refused(int fd)
{
    int saved = errno;
    if (fd >= 0)
        close(fd);
    errno = saved;
    assert_escape_refused(fd);
}

/* ---- sandbox_join ------------------------------------------------------ */

struct join_case {
    const char *cwd;
    const char *path;
    const char *want;
};

static void test_join_table(void **state)
{
    static const struct join_case cases[] = {
        {"/", "a/../..", "/"},
        {"/", "/../../etc/passwd", "/etc/passwd"},
        {"/", "./a//b/", "/a/b"},
        {"/", "..", "/"},
        {"/", "", "/"},
        {"/", "//", "/"},
        {"/", ".", "/"},
        {"/", "...", "/..."},
        {"/", ".hidden/./", "/.hidden"},
        {"/", "a\\..\\b", "/a\\..\\b"},
        {"/", "%2e%2e/x", "/%2e%2e/x"},
        {"/x/y", "", "/x/y"},
        {"/x/y", "../z", "/x/z"},
        {"/x/y", "/z", "/z"},
        {"/x/y", "../../../../..", "/"},
        {"/x/y", "./../y/./w/..", "/x/y"},
        {"/a//b/", "c", "/a/b/c"},
        {NULL, "q", "/q"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[STORE_MAX_PATH + 1];
        const struct join_case *c = &cases[i];
        int rc = sandbox_join(c->cwd, c->path, strlen(c->path), out, sizeof out);
        if (rc != 0)
            print_error("case %zu: %s + %s\n", i, c->cwd, c->path);
        assert_int_equal(rc, 0);
        assert_string_equal(out, c->want);
    }
}

static void test_join_bad_input(void **state)
{
    char out[64];
    errno = 0;
    assert_int_equal(sandbox_join("/", "a\0b", 3, out, sizeof out), -1);
    assert_int_equal(errno, EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(sandbox_join("/", "\0", 1, out, sizeof out), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(sandbox_join("relative", "a", 1, out, sizeof out), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(sandbox_join("/", "a", 1, NULL, 10), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(sandbox_join("/", "a", 1, out, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(sandbox_join("/", "", 0, out, 1), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    /* len, not the terminator, tells where the path ends */
    assert_int_equal(sandbox_join("/", "abc", 2, out, sizeof out), 0);
    assert_string_equal(out, "/ab");
}

/* Builds n components of width w ("aaa/aaa/..."), returns its length. */
static size_t make_path(char *buf, size_t cap, size_t n, size_t w)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        assert_true(len + w + 1 < cap);
        memset(buf + len, 'a', w);
        len += w;
        buf[len++] = '/';
    }
    buf[len] = '\0';
    return len;
}

static void test_join_length(void **state)
{
    static char path[3 * STORE_MAX_PATH];
    static char out[2 * STORE_MAX_PATH];
    /* 16 x "/" + 255 bytes is exactly STORE_MAX_PATH */
    size_t len = make_path(path, sizeof path, 16, 255);
    assert_int_equal(sandbox_join("/", path, len, out, sizeof out), 0);
    assert_int_equal(strlen(out), STORE_MAX_PATH);
    len = make_path(path, sizeof path, 17, 255);
    errno = 0;
    assert_int_equal(sandbox_join("/", path, len, out, sizeof out), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    /* what ".." cancels does not count */
    memcpy(path + len, "..", 3);
    assert_int_equal(sandbox_join("/", path, len + 2, out, sizeof out), 0);
    assert_int_equal(strlen(out), STORE_MAX_PATH);
    /* a small output buffer is a limit too */
    char small[8];
    assert_int_equal(sandbox_join("/", "abcdef", 6, small, sizeof small), 0);
    assert_string_equal(small, "/abcdef");
    assert_int_equal(sandbox_join("/", "abcdefg", 7, small, sizeof small), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_int_equal(sandbox_join("/abc", "defg", 4, small, sizeof small), -1);
    assert_int_equal(errno, ENAMETOOLONG);
}

static void test_join_component(void **state)
{
    char name[NAME_MAX + 4];
    char out[STORE_MAX_PATH + 1];
    memset(name, 'n', NAME_MAX);
    assert_int_equal(sandbox_join("/", name, NAME_MAX, out, sizeof out), 0);
    assert_int_equal(strlen(out), NAME_MAX + 1);
    memset(name, 'n', NAME_MAX + 1);
    errno = 0;
    assert_int_equal(sandbox_join("/", name, NAME_MAX + 1, out, sizeof out), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    memcpy(name + NAME_MAX + 1, "/..", 3);
    assert_int_equal(sandbox_join("/", name, NAME_MAX + 4, out, sizeof out), -1);
    assert_int_equal(errno, ENAMETOOLONG);
}

static void test_valid_name(void **state)
{
    char longname[NAME_MAX + 2];
    memset(longname, 'x', sizeof longname);
    longname[NAME_MAX + 1] = '\0';
    const char *bad[] = {"", ".", "..", "a/b", "/", NULL, longname};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sandbox_valid_name(bad[i]), -1);
    longname[NAME_MAX] = '\0';
    const char *good[] = {"a", "...", ".a", "a\\b", "%2e%2e", longname};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_int_equal(sandbox_valid_name(good[i]), 0);
}

/* ---- escapes ----------------------------------------------------------- */

static void test_open_lexical_escape(void **state)
{
    struct fx *f = *state;
    char vp[STORE_MAX_PATH + 1];
    static const char *tries[] = {"/../secret", "../secret", "../../secret",
                                  "a/../../secret", "/a/../../../secret"};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        assert_int_equal(sandbox_join("/a", tries[i], strlen(tries[i]), vp, sizeof vp),
                         0);
        assert_string_equal(vp, "/secret");
        errno = 0;
        assert_int_equal(sandbox_open(f->rootfd, vp, O_RDONLY, 0), -1);
        assert_int_equal(errno, ENOENT);
    }
    /* raw paths that skipped sandbox_join are refused outright */
    static const char *raw[] = {"/../secret",      "../secret", "secret", "",
                                "/a/../../secret", "/..",       "/a/.."};
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        errno = 0;
        assert_int_equal(sandbox_open(f->rootfd, raw[i], O_RDONLY, 0), -1);
        assert_int_equal(errno, EINVAL);
    }
    assert_int_equal(sandbox_open(f->rootfd, NULL, O_RDONLY, 0), -1);
    assert_content(f->rootfd, "/a/file", "inside");
    assert_content(f->rootfd, "//a/./file", "inside");
}

static void test_symlinks_out(void **state)
{
    struct fx *f = *state;
    struct stat st;
    char leaf[NAME_MAX + 1];
    assert_open_refused(sandbox_open(f->rootfd, "/abs", O_RDONLY, 0));
    assert_open_refused(sandbox_open(f->rootfd, "/rel", O_RDONLY, 0));
    assert_open_refused(sandbox_open(f->rootfd, "/abs", O_WRONLY | O_TRUNC, 0));
    assert_escape_refused(sandbox_stat(f->rootfd, "/abs", &st));
    assert_escape_refused(sandbox_stat(f->rootfd, "/rel", &st));
    assert_open_refused(sandbox_open(f->rootfd, "/outdir/secret", O_RDONLY, 0));
    assert_open_refused(sandbox_open(f->rootfd, "/outrel/secret", O_RDONLY, 0));
    assert_open_refused(sandbox_open(f->rootfd, "/outdir", O_RDONLY | O_DIRECTORY, 0));
    assert_open_refused(
        sandbox_open_parent(f->rootfd, "/outdir/secret", leaf, sizeof leaf));
    assert_open_refused(sandbox_open_parent(f->rootfd, "/outrel/x", leaf, sizeof leaf));
    assert_escape_refused(sandbox_unlink(f->rootfd, "/outdir/secret"));
    assert_escape_refused(sandbox_mkdir(f->rootfd, "/outdir/new", 0700));
    assert_escape_refused(sandbox_rmdir(f->rootfd, "/outdir/root"));
    assert_open_refused(sandbox_open(f->rootfd, "/dangling", O_WRONLY | O_CREAT, 0600));
    assert_true(exists_at(f->basefd, "secret"));
    assert_true(exists_at(f->basefd, "root"));
    assert_false(exists_at(f->basefd, "new"));
    assert_false(exists_at(f->basefd, "created-outside"));
    /* the link itself lives inside: removing it is fine, the target stays */
    assert_int_equal(sandbox_unlink(f->rootfd, "/abs"), 0);
    assert_false(exists_at(f->rootfd, "abs"));
    assert_true(exists_at(f->basefd, "secret"));
    assert_int_equal(fstatat(f->basefd, "secret", &st, 0), 0);
    assert_int_equal(st.st_size, 9);
}

static void test_symlinks_inside(void **state)
{
    struct fx *f = *state;
    struct stat st;
    assert_content(f->rootfd, "/inlink", "inside");
    assert_content(f->rootfd, "/a/up", "inside");
    assert_int_equal(sandbox_stat(f->rootfd, "/inlink", &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_size, 6);
}

static void test_magic_links(void **state)
{
    struct fx *f = *state;
    char vp[64];
    assert_open_refused(sandbox_open(f->rootfd, "/magic", O_RDONLY, 0));
    /* a root that contains real magic links: /proc/self */
    int procfd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
    assert_true(procfd >= 0);
    int outfd = openat(f->basefd, "secret", O_RDONLY | O_CLOEXEC);
    assert_true(outfd >= 0);
    assert_open_refused(sandbox_open(procfd, "/root/etc/passwd", O_RDONLY, 0));
    assert_open_refused(sandbox_open(procfd, "/cwd", O_RDONLY, 0));
    assert_open_refused(sandbox_open(procfd, "/exe", O_RDONLY, 0));
    snprintf(vp, sizeof vp, "/fd/%d", outfd);
    assert_open_refused(sandbox_open(procfd, vp, O_RDONLY, 0));
    close(outfd);
    close(procfd);
}

/* ---- depth and length -------------------------------------------------- */

static void test_deep_short(void **state)
{
    struct fx *f = *state;
    char cwd[STORE_MAX_PATH + 1] = "/", next[STORE_MAX_PATH + 1];
    for (int i = 0; i < 200; i++) {
        assert_int_equal(sandbox_join(cwd, "d", 1, next, sizeof next), 0);
        assert_int_equal(sandbox_mkdir(f->rootfd, next, 0700), 0);
        memcpy(cwd, next, sizeof cwd);
    }
    assert_int_equal(strlen(cwd), 400);
    assert_int_equal(sandbox_join(cwd, "f", 1, next, sizeof next), 0);
    int fd = sandbox_open(f->rootfd, next, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    /* 200 levels of ".." from the bottom, and more, end at the root */
    char up[700];
    size_t n = 0;
    for (int i = 0; i < 230; i++)
        n += (size_t)snprintf(up + n, sizeof up - n, "../");
    assert_int_equal(sandbox_join(cwd, up, n, next, sizeof next), 0);
    assert_string_equal(next, "/");
}

/* 20-byte names: 195 levels fill 4095 bytes, the 196th does not fit. */
static void test_deep_long(void **state)
{
    struct fx *f = *state;
    char cwd[STORE_MAX_PATH + 1] = "/", next[STORE_MAX_PATH + 1], name[32];
    int depth = 0;
    for (; depth < 200; depth++) {
        snprintf(name, sizeof name, "level-%03d-abcdefghij", depth);
        assert_int_equal(strlen(name), 20);
        if (sandbox_join(cwd, name, strlen(name), next, sizeof next) < 0)
            break;
        assert_int_equal(sandbox_mkdir(f->rootfd, next, 0700), 0);
        memcpy(cwd, next, sizeof cwd);
    }
    assert_int_equal(depth, 195);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_int_equal(strlen(cwd), 4095);
    struct stat st;
    assert_int_equal(sandbox_stat(f->rootfd, cwd, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    int fd = sandbox_open(f->rootfd, cwd, O_RDONLY | O_DIRECTORY, 0);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sandbox_join(cwd, "x", 1, next, sizeof next), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    /* a raw path past the limit is refused, not truncated */
    static char huge[STORE_MAX_PATH + 8];
    memset(huge, 'a', sizeof huge - 1);
    huge[0] = '/';
    huge[sizeof huge - 1] = '\0';
    assert_int_equal(sandbox_open(f->rootfd, huge, O_RDONLY, 0), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    /* take it down again, bottom up */
    while (strcmp(cwd, "/") != 0) {
        assert_int_equal(sandbox_rmdir(f->rootfd, cwd), 0);
        assert_int_equal(sandbox_join(cwd, "..", 2, next, sizeof next), 0);
        memcpy(cwd, next, sizeof cwd);
    }
    assert_false(exists_at(f->rootfd, "level-000-abcdefghij"));
}

/* ---- operations -------------------------------------------------------- */

static void test_ops_inside(void **state)
{
    struct fx *f = *state;
    struct stat st;
    assert_int_equal(sandbox_mkdir(f->rootfd, "/d", 0700), 0);
    assert_int_equal(sandbox_stat(f->rootfd, "/d", &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(sandbox_mkdir(f->rootfd, "/d", 0700), -1);
    assert_int_equal(errno, EEXIST);
    int fd = sandbox_open(f->rootfd, "/d/f", O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hi", 2), 2);
    close(fd);
    assert_int_equal(sandbox_rename(f->rootfd, "/d/f", "/g"), 0);
    assert_int_equal(sandbox_stat(f->rootfd, "/d/f", &st), -1);
    assert_int_equal(errno, ENOENT);
    assert_content(f->rootfd, "/g", "hi");
    assert_int_equal(sandbox_rmdir(f->rootfd, "/d"), 0);
    assert_int_equal(sandbox_unlink(f->rootfd, "/g"), 0);
    assert_false(exists_at(f->rootfd, "g"));
    assert_int_equal(sandbox_unlink(f->rootfd, "/a"), -1);
    assert_int_equal(errno, EISDIR);
    assert_int_equal(sandbox_rmdir(f->rootfd, "/a"), -1);
    assert_int_equal(errno, ENOTEMPTY);
    assert_int_equal(sandbox_rmdir(f->rootfd, "/nothing"), -1);
    assert_int_equal(errno, ENOENT);
    /* a mode without O_CREAT is ignored, not an error */
    assert_content(f->rootfd, "/a/file", "inside");
    fd = sandbox_open(f->rootfd, "/a/file", O_RDONLY, 0644);
    assert_true(fd >= 0);
    close(fd);
}

static void test_rename_out(void **state)
{
    struct fx *f = *state;
    char vp[STORE_MAX_PATH + 1];
    assert_escape_refused(sandbox_rename(f->rootfd, "/a/file", "/outdir/stolen"));
    assert_escape_refused(sandbox_rename(f->rootfd, "/a/file", "/outrel/stolen"));
    assert_escape_refused(sandbox_rename(f->rootfd, "/outdir/secret", "/got"));
    assert_int_equal(sandbox_rename(f->rootfd, "/a/file", "/../stolen"), -1);
    assert_int_equal(errno, EINVAL);
    assert_false(exists_at(f->basefd, "stolen"));
    assert_true(exists_at(f->basefd, "secret"));
    assert_false(exists_at(f->rootfd, "got"));
    assert_content(f->rootfd, "/a/file", "inside");
    /* after joining, "../../stolen" is just /stolen inside the root */
    assert_int_equal(sandbox_join("/a", "../../stolen", 12, vp, sizeof vp), 0);
    assert_int_equal(sandbox_rename(f->rootfd, "/a/file", vp), 0);
    assert_true(exists_at(f->rootfd, "stolen"));
    assert_false(exists_at(f->basefd, "stolen"));
}

static void test_root_refused(void **state)
{
    struct fx *f = *state;
    char leaf[NAME_MAX + 1];
    struct stat st, rst;
    const char *roots[] = {"/", "/.", "//"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        const char *r = roots[i];
        assert_int_equal(sandbox_mkdir(f->rootfd, r, 0700), -1);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(sandbox_rmdir(f->rootfd, r), -1);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(sandbox_unlink(f->rootfd, r), -1);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(sandbox_rename(f->rootfd, r, "/x"), -1);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(sandbox_rename(f->rootfd, "/a", r), -1);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(sandbox_open_parent(f->rootfd, r, leaf, sizeof leaf), -1);
        assert_int_equal(errno, EINVAL);
    }
    assert_true(exists_at(f->rootfd, "a"));
    /* but the root itself can be opened and looked at */
    int fd = sandbox_open(f->rootfd, "/", O_RDONLY | O_DIRECTORY, 0);
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    close(fd);
    assert_int_equal(fstat(f->rootfd, &rst), 0);
    assert_int_equal(st.st_ino, rst.st_ino);
    assert_int_equal(sandbox_stat(f->rootfd, "/", &st), 0);
    assert_int_equal(st.st_ino, rst.st_ino);
}

static void test_open_parent(void **state)
{
    struct fx *f = *state;
    char leaf[NAME_MAX + 1], tiny[3];
    int fd = sandbox_open_parent(f->rootfd, "/a/file", leaf, sizeof leaf);
    assert_true(fd >= 0);
    assert_string_equal(leaf, "file");
    assert_true(exists_at(fd, "file"));
    assert_int_equal(fsync(fd), 0); /* a real fd, so directories can be fsynced */
    close(fd);
    fd = sandbox_open_parent(f->rootfd, "/top", leaf, sizeof leaf);
    assert_true(fd >= 0);
    assert_string_equal(leaf, "top");
    assert_true(exists_at(fd, "a"));
    close(fd);
    assert_int_equal(sandbox_open_parent(f->rootfd, "/a/file", tiny, sizeof tiny), -1);
    assert_int_equal(errno, ENAMETOOLONG);
    assert_int_equal(sandbox_open_parent(f->rootfd, "/a/file/", leaf, sizeof leaf), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(sandbox_open_parent(f->rootfd, "/a/..", leaf, sizeof leaf), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(sandbox_open_parent(f->rootfd, "/a/file/x", leaf, sizeof leaf), -1);
    assert_int_equal(errno, ENOTDIR);
}

/* ---- per-user tree ----------------------------------------------------- */

static void assert_private_dir(int dirfd, const char *path)
{
    struct stat st;
    assert_int_equal(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
}

static void test_user_dir(void **state)
{
    struct fx *f = *state;
    int ufd = store_user_dir_open(f->rootfd, "example.org", "alice");
    assert_true(ufd >= 0);
    assert_private_dir(f->rootfd, "users/example.org/alice/files");
    assert_private_dir(f->rootfd, "users/example.org/alice/mail");
    assert_private_dir(ufd, "files");
    close(ufd);
    ufd = store_user_dir_open(f->rootfd, "example.org", "alice"); /* again */
    assert_true(ufd >= 0);
    close(ufd);
    int ffd = store_files_root_open(f->rootfd, "example.org", "alice");
    assert_true(ffd >= 0);
    int fd = sandbox_open(ffd, "/hello", O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    close(fd);
    close(ffd);
    assert_true(exists_at(f->rootfd, "users/example.org/alice/files/hello"));
}

static void test_user_dir_bad_names(void **state)
{
    struct fx *f = *state;
    const char *bad[] = {"..", ".", "a/b", "", "/", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(store_user_dir_open(f->rootfd, bad[i], "bob"), -1);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(store_user_dir_open(f->rootfd, "example.org", bad[i]), -1);
        assert_int_equal(errno, EINVAL);
        assert_int_equal(store_files_root_open(f->rootfd, bad[i], "bob"), -1);
    }
    assert_false(exists_at(f->rootfd, "users"));
}

static void test_user_dir_planted_symlinks(void **state)
{
    struct fx *f = *state;
    assert_int_equal(mkdirat(f->rootfd, "users", 0700), 0);
    symlink_at(f->rootfd, "users/evil.org", f->base);
    assert_int_equal(store_user_dir_open(f->rootfd, "evil.org", "bob"), -1);
    assert_true(errno == ELOOP || errno == ENOTDIR);
    assert_false(exists_at(f->basefd, "bob"));
    int ufd = store_user_dir_open(f->rootfd, "example.org", "carol");
    assert_true(ufd >= 0);
    close(ufd);
    symlink_at(f->rootfd, "users/example.org/mallory", f->base);
    assert_int_equal(store_user_dir_open(f->rootfd, "example.org", "mallory"), -1);
    assert_true(errno == ELOOP || errno == ENOTDIR);
    assert_int_equal(unlinkat(f->rootfd, "users/example.org/carol/files", AT_REMOVEDIR),
                     0);
    symlink_at(f->rootfd, "users/example.org/carol/files", f->base);
    assert_int_equal(store_files_root_open(f->rootfd, "example.org", "carol"), -1);
    assert_true(errno == ELOOP || errno == ENOTDIR);
    assert_false(exists_at(f->basefd, "files"));
    assert_false(exists_at(f->basefd, "mail"));
}

/* ---- descriptors ------------------------------------------------------- */

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

static void test_no_fd_leak(void **state)
{
    struct fx *f = *state;
    struct stat st;
    char leaf[NAME_MAX + 1];
    int before = count_fds();
    for (int i = 0; i < 50; i++) {
        (void)sandbox_stat(f->rootfd, "/abs", &st);
        (void)sandbox_stat(f->rootfd, "/a/file", &st);
        (void)sandbox_mkdir(f->rootfd, "/outdir/x", 0700);
        (void)sandbox_mkdir(f->rootfd, "/a", 0700);
        (void)sandbox_unlink(f->rootfd, "/nothing");
        (void)sandbox_rename(f->rootfd, "/a/file", "/outdir/x");
        (void)sandbox_rename(f->rootfd, "/nothing", "/a/x");
        (void)sandbox_rename(f->rootfd, "/a/nothing", "/missing/x");
        (void)sandbox_open_parent(f->rootfd, "/a/file", leaf, 2);
        (void)store_user_dir_open(f->rootfd, "..", "x");
        (void)store_files_root_open(f->rootfd, "..", "x");
        /* and the successful paths */
        close(store_user_dir_open(f->rootfd, "example.org", "x"));
        close(store_files_root_open(f->rootfd, "example.org", "x"));
        assert_int_equal(sandbox_mkdir(f->rootfd, "/m", 0700), 0);
        assert_int_equal(sandbox_rename(f->rootfd, "/m", "/a/m"), 0);
        assert_int_equal(sandbox_rmdir(f->rootfd, "/a/m"), 0);
    }
    symlink_at(f->rootfd, "users/evil.org", f->base);
    for (int i = 0; i < 50; i++)
        (void)store_user_dir_open(f->rootfd, "evil.org", "x");
    assert_int_equal(count_fds(), before);
}

/* Uploads in progress are not reachable by any client path. */
static void test_join_reserved_upload_names(void **state)
{
    char out[256];
    const char *bad[] = {".portico-up-http-1-2-0", "/a/.portico-up-x", "d/.portico-up-/f",
                         "/.portico-up-x/../a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_int_equal(sandbox_join("/", bad[i], strlen(bad[i]), out, sizeof out), -1);
        assert_int_equal(errno, EACCES);
    }
    const char *ok[] = {".portico-up", ".portico", "x.portico-up-y", ".portico-upx"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(sandbox_join("/", ok[i], strlen(ok[i]), out, sizeof out), 0);
    assert_true(store_is_upload_temp(".portico-up-ftp-1-1"));
    assert_false(store_is_upload_temp("portico-up-"));
}

int main(void)
{
#define FX(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_table),
        cmocka_unit_test(test_join_reserved_upload_names),
        cmocka_unit_test(test_join_bad_input),
        cmocka_unit_test(test_join_length),
        cmocka_unit_test(test_join_component),
        cmocka_unit_test(test_valid_name),
        FX(test_open_lexical_escape),
        FX(test_symlinks_out),
        FX(test_symlinks_inside),
        FX(test_magic_links),
        FX(test_deep_short),
        FX(test_deep_long),
        FX(test_ops_inside),
        FX(test_rename_out),
        FX(test_root_refused),
        FX(test_open_parent),
        FX(test_user_dir),
        FX(test_user_dir_bad_names),
        FX(test_user_dir_planted_symlinks),
        FX(test_no_fd_leak),
    };
#undef FX
    return cmocka_run_group_tests(tests, NULL, NULL);
}
