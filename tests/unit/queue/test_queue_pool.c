/* test_queue_pool: spent queue files are renamed into the pool, reused only
 * after an fsync of queue/ that began after their removal, cut to the new
 * content, their old record attribute never left behind, never listed as
 * entries; leftovers of an earlier run are taken
 * in (a free file with a second link is dropped); without the pool files
 * are unlinked and created as before. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
// clang-format on
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "queue/queue.h"

#include "big_record.h"

struct fixture {
    char dir[64];
    int dfd, qfd;
};

static int setup(void **st)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/portico-qpool-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
    f->qfd = queue_open_dir(f->dfd);
    assert_true(f->qfd >= 0);
    *st = f;
    return 0;
}

static int teardown(void **st)
{
    struct fixture *f = *st;
    queue_pool_stop();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
    close(f->qfd);
    close(f->dfd);
    free(f);
    return 0;
}

static void write_entry(struct fixture *f, const char *body, char *id)
{
    const char *rcpts[] = {"b@y.test"};
    struct queue_new n = {.from = "a@x.test", .rcpts = rcpts, .nrcpt = 1};
    assert_int_equal(queue_write_buf(f->dfd, body, strlen(body), &n, id, QUEUE_ID_MAX),
                     0);
}

static ino_t inode_of(int qfd, const char *name)
{
    struct stat st;
    if (fstatat(qfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return 0;
    return st.st_ino;
}

static ino_t msg_inode(struct fixture *f, const char *id)
{
    char name[QUEUE_ID_MAX + 8];
    snprintf(name, sizeof name, "%s.msg", id);
    return inode_of(f->qfd, name);
}

/* How many names in queue/ start with prefix. */
static int count_prefix(struct fixture *f, const char *prefix)
{
    char path[128];
    snprintf(path, sizeof path, "%s/queue", f->dir);
    DIR *d = opendir(path);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

static void read_msg(struct fixture *f, const char *id, char *buf, size_t size)
{
    int fd = queue_open_msg(f->qfd, id);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    assert_true(n >= 0);
    buf[n] = '\0';
}

static void count_id(const char *id, void *arg)
{
    (*(int *)arg)++;
}

static void test_off_unlinks(void **st)
{
    struct fixture *f = *st;
    char id[QUEUE_ID_MAX];
    write_entry(f, "Subject: a\n\nhello\n", id);
    assert_int_equal(queue_remove(f->qfd, id), 0);
    assert_int_equal(count_prefix(f, "free."), 0);
    assert_int_equal(msg_inode(f, id), 0);
}

static void test_reuse_after_sync(void **st)
{
    struct fixture *f = *st;
    char a[QUEUE_ID_MAX], b[QUEUE_ID_MAX], c[QUEUE_ID_MAX], buf[256];
    assert_int_equal(queue_pool_start(f->qfd, time(NULL) - 5), 0);
    write_entry(f, "Subject: a long first message\n\nhello hello hello hello\n", a);
    ino_t ia = msg_inode(f, a);
    assert_int_equal(queue_remove(f->qfd, a), 0);
    assert_int_equal(count_prefix(f, "free."),
                     1); /* one file: the record is its attribute */
    assert_int_equal(msg_inode(f, a), 0);
    /* No fsync of queue/ since the removal: not written yet. */
    assert_int_equal(queue_pool_ready(), 0);
    write_entry(f, "Subject: b\n\nsecond\n", b);
    assert_true(msg_inode(f, b) != ia);
    /* b's entry synced queue/ after a's removal: a's file is ready. */
    assert_int_equal(queue_pool_ready(), 1);
    int entries = 0;
    assert_int_equal(queue_list_ids(f->qfd, 100, count_id, &entries), 1);
    assert_int_equal(entries, 1);

    write_entry(f, "Subject: c\n\nthird\n", c);
    assert_int_equal(msg_inode(f, c), ia);
    assert_int_equal(queue_pool_ready(), 0);
    assert_int_equal(count_prefix(f, "free."), 0);
    read_msg(f, c, buf, sizeof buf);
    assert_string_equal(buf, "Subject: c\n\nthird\n"); /* cut to the new length */
    struct queue_env env;
    const char *why;
    assert_int_equal(queue_env_load(f->qfd, c, &env, &why), 0);
    assert_string_equal(env.rcpts[0].addr, "b@y.test");
    assert_string_equal(env.from, "a@x.test");
    queue_env_clear(&env);
    assert_int_equal(count_prefix(f, "tmp."), 0);
}

/* A reused file's old record never outlives it: a new record too large
 * for the attribute goes to a .env and the stale attribute is removed. */
static void test_reuse_drops_stale_record(void **st)
{
    struct fixture *f = *st;
    char a[QUEUE_ID_MAX], b[QUEUE_ID_MAX], c[QUEUE_ID_MAX];
    assert_int_equal(queue_pool_start(f->qfd, time(NULL) - 5), 0);
    write_entry(f, "Subject: a\n\nhello\n", a);
    ino_t ia = msg_inode(f, a);
    assert_int_equal(queue_remove(f->qfd, a), 0);
    write_entry(f, "Subject: b\n\nhello\n", b); /* syncs queue/: a's file is ready */
    struct queue_new n;
    big_record(&n, "big@x.test");
    assert_int_equal(queue_write_buf(f->dfd, "x\n", 2, &n, c, sizeof c), 0);
    assert_int_equal(msg_inode(f, c), ia);
    char name[QUEUE_ID_MAX + 8];
    snprintf(name, sizeof name, "%s.msg", c);
    int fd = openat(f->qfd, name, O_RDONLY);
    assert_true(fgetxattr(fd, QUEUE_ATTR, NULL, 0) < 0);
    close(fd);
    struct queue_env env;
    const char *why;
    assert_int_equal(queue_env_load(f->qfd, c, &env, &why), 0);
    assert_int_equal(env.nrcpt, BIG_RCPTS);
    assert_string_equal(env.from, "big@x.test");
    queue_env_clear(&env);
}

static void test_large_not_kept(void **st)
{
    struct fixture *f = *st;
    char id[QUEUE_ID_MAX];
    size_t n = 100 * 1024;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    memcpy(big, "Subject: big\n\n", 14);
    big[n - 1] = '\n';
    big[n] = '\0';
    assert_int_equal(queue_pool_start(f->qfd, time(NULL) - 5), 0);
    write_entry(f, big, id);
    free(big);
    assert_int_equal(queue_remove(f->qfd, id), 0);
    assert_int_equal(count_prefix(f, "free."), 0); /* too large to keep */
}

static void make_old_file(struct fixture *f, const char *name)
{
    int fd = openat(f->qfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "old\n", 4), 4);
    struct timespec ts[2] = {{time(NULL) - 100, 0}, {time(NULL) - 100, 0}};
    assert_int_equal(futimens(fd, ts), 0);
    close(fd);
}

static void test_leftovers(void **st)
{
    struct fixture *f = *st;
    make_old_file(f, "free.1.2.3.0.msg");
    make_old_file(f, "tmp.1.2.3.1.env");
    make_old_file(f, "1.2.3.2.msg"); /* an orphan: no .env */
    make_old_file(f, "1.2.3.3.msg"); /* a live entry */
    make_old_file(f, "1.2.3.3.env");
    make_old_file(f, "1.2.3.6.msg"); /* a live entry: its record is its attribute */
    int fd = openat(f->qfd, "1.2.3.6.msg", O_RDONLY);
    assert_int_equal(fsetxattr(fd, QUEUE_ATTR, "from a\nto b\nend\n", 16, 0), 0);
    close(fd);
    make_old_file(f, "free.1.2.3.4.msg");
    make_old_file(f, "1.2.3.5.env"); /* a live entry whose .msg is also a free name */
    assert_int_equal(linkat(f->qfd, "free.1.2.3.4.msg", f->qfd, "1.2.3.5.msg", 0), 0);
    ino_t live = inode_of(f->qfd, "1.2.3.5.msg");

    assert_int_equal(queue_pool_start(f->qfd, time(NULL)), 0);
    assert_int_equal(inode_of(f->qfd, "free.1.2.3.4.msg"), 0); /* two links: dropped */
    assert_int_equal(inode_of(f->qfd, "1.2.3.5.msg"), live);
    assert_int_equal(inode_of(f->qfd, "1.2.3.2.msg"), 0);
    assert_true(inode_of(f->qfd, "free.1.2.3.2.msg") != 0);
    assert_true(inode_of(f->qfd, "free.tmp.1.2.3.1.env") != 0);
    assert_true(inode_of(f->qfd, "1.2.3.3.msg") != 0);
    assert_true(inode_of(f->qfd, "1.2.3.3.env") != 0);
    assert_true(inode_of(f->qfd, "1.2.3.6.msg") != 0);
    assert_int_equal(count_prefix(f, "free."), 3);
    /* Not written before an fsync of queue/ that began after the start. */
    assert_int_equal(queue_pool_ready(), 0);
    assert_int_equal(queue_sync_dir(f->qfd), 0);
    assert_int_equal(queue_pool_ready(), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_off_unlinks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse_after_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse_drops_stale_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_not_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leftovers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
