/* test_queue_record: the envelope record round-trips, the first writer's
 * format still reads, and truncated or garbage records are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue.h"

static int parse(const char *text, struct queue_env *env)
{
    const char *why = NULL;
    return queue_env_parse(text, strlen(text), env, &why);
}

static void test_old_format(void **st)
{
    struct queue_env env;
    assert_int_equal(parse("from <a@x.test>\nto <b@y.test>\nto <c@z.test>\nend\n", &env),
                     0);
    assert_string_equal(env.from, "a@x.test");
    assert_int_equal(env.nrcpt, 2);
    assert_string_equal(env.rcpts[1].addr, "c@z.test");
    assert_int_equal(env.rcpts[0].state, QR_PENDING);
    queue_env_clear(&env);
}

static void test_round_trip(void **st)
{
    struct queue_env env = {0}, back;
    struct queue_rcpt r[2] = {0};
    strcpy(env.id, "1.2.3.4");
    env.created = 1700000000;
    strcpy(env.envid, "QQ+2Bx");
    env.ret = QRET_HDRS;
    env.held = env.is_bounce = true;
    strcpy(r[0].addr, "\"a b\"@y.test");
    r[0].state = QR_DEFERRED;
    r[0].next = 1700000300;
    r[0].tries = 2;
    r[0].notify = QN_SUCCESS | QN_DELAY;
    strcpy(r[0].orcpt, "rfc822;a@y.test");
    strcpy(r[0].reply, "451 4.7.1 try\r\nlater");
    strcpy(r[0].mx, "mx.y.test");
    strcpy(r[1].addr, "c@z.test");
    r[1].state = QR_FAILED;
    env.rcpts = r;
    env.nrcpt = 2;
    size_t len;
    char *text = queue_env_format(&env, &len);
    assert_non_null(text);
    assert_int_equal(parse(text, &back), 0);
    assert_int_equal(back.created, 1700000000);
    assert_string_equal(back.envid, "QQ+2Bx");
    assert_int_equal(back.ret, QRET_HDRS);
    assert_true(back.held && back.is_bounce && !back.delay_noticed);
    assert_string_equal(back.rcpts[0].addr, "\"a b\"@y.test");
    assert_int_equal(back.rcpts[0].state, QR_DEFERRED);
    assert_int_equal(back.rcpts[0].next, 1700000300);
    assert_int_equal(back.rcpts[0].tries, 2);
    assert_int_equal(back.rcpts[0].notify, QN_SUCCESS | QN_DELAY);
    assert_string_equal(back.rcpts[0].reply, "451 4.7.1 try  later"); /* one line */
    assert_string_equal(back.rcpts[0].mx, "mx.y.test");
    assert_int_equal(back.rcpts[1].state, QR_FAILED);
    assert_false(queue_env_done(&back));
    back.rcpts[0].state = QR_DELIVERED;
    assert_true(queue_env_done(&back));
    /* Every proper prefix is a truncated record: refused. */
    for (size_t n = 0; n < len; n++) {
        struct queue_env e;
        const char *why = NULL;
        assert_int_equal(queue_env_parse(text, n, &e, &why), -1);
        assert_non_null(why);
    }
    free(text);
    queue_env_clear(&back);
}

static void test_garbage(void **st)
{
    static const char *const bad[] = {
        "",
        "end\n",
        "from <a@x>\nend\n",           /* no recipient */
        "to <b@y>\nfrom <a@x>\nend\n", /* from not first */
        "from <a@x>\nto <b@y>\nstate lost\nend\n",
        "from <a@x>\nto <b@y>\nnext -5\nend\n",
        "from <a@x>\nto <b@y>\nnotify NEVER,DELAY\nend\n",
        "from <a@x>\nto <b@y>\nbogus 1\nend\n",
        "from <a@x>\nto <b@y>\nend\nextra\n",
        "from <a@x>\nto <b@y>\nend",
        "from a@x\nto <b@y>\nend\n",
        "from <a@x>\nto <>\nend\n",
        "from <a@x>\nheld\nheld\nto <b@y>\nend\n",
        "from <a\x01@x>\nto <b@y>\nend\n",
        "\x89PNG\r\n\x1a\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct queue_env env;
        assert_int_equal(parse(bad[i], &env), -1);
        assert_null(env.rcpts);
    }
}

static void test_line_copy(void **st)
{
    char out[8];
    queue_line_copy(out, sizeof out, "a\nb\tcdefghij");
    assert_string_equal(out, "a b cde");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_old_format),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_line_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
