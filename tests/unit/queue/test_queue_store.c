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
#include <unistd.h>

#include "queue/queue.h"

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
    int fd = openat(qfd, name, O_WRONLY | O_TRUNC);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_list_update),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
