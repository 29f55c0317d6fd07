/* Unit tests of ftp/list.c: the `ls -l`, NLST and MLSD forms of an entry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include <string.h>
#include <sys/stat.h>

#include "ftp/list.h"

static char *format(enum list_style style, const struct stat *st, bool ro, time_t now)
{
    static char out[512];
    struct evbuffer *b = evbuffer_new();
    list_entry(b, style, "name.txt", st, NULL, ro, now);
    size_t n = evbuffer_remove(b, out, sizeof out - 1);
    out[n] = '\0';
    evbuffer_free(b);
    return out;
}

static void test_forms(void **state)
{
    struct stat st = {.st_mode = S_IFREG | 0644, .st_nlink = 1, .st_size = 1234,
                      .st_mtime = 1577934245 /* 2020-01-02 03:04:05 UTC */,
                      .st_dev = 0xfe, .st_ino = 0x10};
    time_t now = 1577934245 + 86400;
    assert_string_equal(format(LIST_LS, &st, false, now),
                        "-rw-r--r--   1 ftp      ftp              1234 Jan  2 03:04 name.txt\r\n");
    assert_string_equal(format(LIST_LS, &st, false, now + 365 * 86400),
                        "-rw-r--r--   1 ftp      ftp              1234 Jan  2  2020 name.txt\r\n");
    assert_string_equal(format(LIST_NLST, &st, false, now), "name.txt\r\n");
    assert_string_equal(format(LIST_MLSD, &st, false, now),
                        "type=file;size=1234;modify=20200102030405;perm=adfrw;unique=feU10; "
                        "name.txt\r\n");
    st.st_mode = S_IFDIR | 0755;
    assert_non_null(strstr(format(LIST_MLSD, &st, true, now), "type=dir;"));
    assert_non_null(strstr(format(LIST_MLSD, &st, true, now), "perm=el;"));
    assert_int_equal(format(LIST_LS, &st, false, now)[0], 'd');
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_forms)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
