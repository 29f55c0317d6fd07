/* test_queue_store: entries written, listed, rewritten, moved aside and
 * removed in a temporary data directory; ids stay unique. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "queue/queue.h"

#include "big_record.h"

static char dir[] = "/tmp/portico-queue-XXXXXX";

static void count_id(const char *id, void *arg)
{
    (*(int *)arg)++;
}

static void test_write_list_update(void **st)
{
    assert_non_null(mkdtemp(dir));
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    const char *rcpts[] = {"b@y.test", "c@z.test"};
    struct queue_new n = {.from = "a@x.test", .rcpts = rcpts, .nrcpt = 2};
    char id1[QUEUE_ID_MAX], id2[QUEUE_ID_MAX];
    const char body[] = "Subject: t\r\n\r\nhello\r\n";
    assert_int_equal(queue_write_buf(dfd, body, sizeof body - 1, &n, id1, sizeof id1), 0);
    assert_int_equal(queue_write_buf(dfd, body, sizeof body - 1, &n, id2, sizeof id2), 0);
    assert_string_not_equal(id1, id2);
    int qfd = queue_open_dir(dfd);
    int count = 0;
    assert_int_equal(queue_list_ids(qfd, 100, count_id, &count), 2);
    assert_int_equal(count, 2);

    struct queue_env env;
    const char *why;
    assert_int_equal(queue_env_load(qfd, id1, &env, &why), 0);
    assert_int_equal(env.nrcpt, 2);
    env.rcpts[0].state = QR_DELIVERED;
    assert_int_equal(queue_env_store(qfd, &env), 0);
    queue_env_clear(&env);
    assert_int_equal(queue_env_load(qfd, id1, &env, &why), 0);
    assert_int_equal(env.rcpts[0].state, QR_DELIVERED);
    queue_env_clear(&env);

    int mfd = queue_open_msg(qfd, id1);
    char buf[64];
    ssize_t got = read(mfd, buf, sizeof buf);
    close(mfd);
    assert_int_equal(got, sizeof body - 1);

    /* Garbage: reported, moved aside; the other entry stays. */
    char name[QUEUE_ID_MAX + 8];
    snprintf(name, sizeof name, "%s.env", id2);
    int fd = openat(qfd, name, O_WRONLY | O_CREAT | O_TRUNC,
                    0600); /* wins over the attribute */
    assert_int_equal(write(fd, "from <a@x>\nto <", 15), 15);
    close(fd);
    assert_int_equal(queue_env_load(qfd, id2, &env, &why), -2);
    assert_int_equal(queue_move_aside(qfd, id2), 0);
    struct stat sb;
    snprintf(name, sizeof name, "corrupt/%s.env", id2);
    assert_int_equal(fstatat(qfd, name, &sb, 0), 0);
    count = 0;
    assert_int_equal(queue_list_ids(qfd, 100, count_id, &count), 1);

    assert_int_equal(queue_remove(qfd, id1), 0);
    assert_int_equal(queue_env_load(qfd, id1, &env, &why), -1);
    assert_false(queue_id_valid("../x"));
    assert_false(queue_id_valid(".x"));
    close(qfd);
    close(dfd);
}

static bool exists(int qfd, const char *id, const char *ext)
{
    char name[QUEUE_ID_MAX + 8];
    struct stat sb;
    snprintf(name, sizeof name, "%s.%s", id, ext);
    return fstatat(qfd, name, &sb, 0) == 0;
}

/* The record's attribute, NUL-terminated in buf; its length or -1. */
static ssize_t attr_of(int qfd, const char *id, char *buf, size_t size)
{
    char name[QUEUE_ID_MAX + 8];
    snprintf(name, sizeof name, "%s.msg", id);
    int fd = openat(qfd, name, O_RDONLY);
    ssize_t n = fgetxattr(fd, QUEUE_ATTR, buf, size - 1);
    close(fd);
    if (n >= 0)
        buf[n] = '\0';
    return n;
}

/* A new entry is one file, its record in the .msg's attribute; a record
 * too large for it, and every rewrite, is a .env, which then wins; the
 * DKIM replacement of the .msg keeps the attribute. */
static void test_record_in_attribute(void **st)
{
    char tmpl[] = "/tmp/portico-queue-attr-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    int dfd = open(tmpl, O_RDONLY | O_DIRECTORY);
    const char *one[] = {"b@y.test"};
    struct queue_new n = {.from = "a@x.test", .rcpts = one, .nrcpt = 1};
    char small[QUEUE_ID_MAX], big[QUEUE_ID_MAX], attr[4096];
    const char body[] = "Subject: t\n\nhello\n";
    assert_int_equal(queue_write_buf(dfd, body, sizeof body - 1, &n, small, sizeof small),
                     0);
    int qfd = queue_open_dir(dfd);
    assert_false(exists(qfd, small, "env"));
    assert_true(attr_of(qfd, small, attr, sizeof attr) > 0);
    assert_non_null(strstr(attr, "from <a@x.test>"));
    struct queue_env env;
    const char *why;
    assert_int_equal(queue_env_load(qfd, small, &env, &why), 0);
    assert_int_equal(env.nrcpt, 1);
    assert_string_equal(env.rcpts[0].addr, "b@y.test");

    assert_int_equal(queue_prepend_msg(qfd, small, "DKIM-Signature: x\n"), 0);
    assert_true(attr_of(qfd, small, attr, sizeof attr) > 0);
    queue_env_clear(&env);
    assert_int_equal(queue_env_load(qfd, small, &env, &why), 0);
    int mfd = queue_open_msg(qfd, small);
    char buf[128];
    ssize_t got = read(mfd, buf, sizeof buf - 1);
    close(mfd);
    buf[got > 0 ? got : 0] = '\0';
    assert_string_equal(buf, "DKIM-Signature: x\nSubject: t\n\nhello\n");

    env.rcpts[0].state = QR_DEFERRED;
    assert_int_equal(queue_env_store(qfd, &env), 0);
    queue_env_clear(&env);
    assert_true(exists(qfd, small, "env"));
    assert_int_equal(queue_env_load(qfd, small, &env, &why), 0);
    assert_int_equal(env.rcpts[0].state, QR_DEFERRED);
    queue_env_clear(&env);

    struct queue_new nb;
    big_record(&nb, "a@x.test");
    assert_int_equal(queue_write_buf(dfd, body, sizeof body - 1, &nb, big, sizeof big),
                     0);
    assert_true(exists(qfd, big, "env"));
    assert_true(attr_of(qfd, big, attr, sizeof attr) < 0);
    assert_int_equal(queue_env_load(qfd, big, &env, &why), 0);
    assert_int_equal(env.nrcpt, BIG_RCPTS);
    queue_env_clear(&env);

    assert_int_equal(queue_remove(qfd, small), 0);
    assert_int_equal(queue_remove(qfd, big), 0);
    assert_false(exists(qfd, small, "env") || exists(qfd, small, "msg"));
    assert_false(exists(qfd, big, "env") || exists(qfd, big, "msg"));
    close(qfd);
    close(dfd);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpl);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_list_update),
        cmocka_unit_test(test_record_in_attribute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
