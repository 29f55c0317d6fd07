/* Unit tests of ftp/parse.c: PORT/EPRT/EPSV arguments, numbers, MFMT
 * times, Telnet stripping and the TYPE A conversion (fed whole and one byte
 * at a time, so the CR carried between chunks is exercised). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "ftp/parse.h"

static void test_port(void **state)
{
    struct sockaddr_storage sa;
    socklen_t len;
    assert_int_equal(ftp_parse_port("127,0,0,1,4,1", &sa, &len), 0);
    struct sockaddr_in *sin = (struct sockaddr_in *)&sa;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 1025);
    assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000001);
    const char *bad[] = {"", "1,2,3,4,5", "1,2,3,4,5,6,7", "256,0,0,1,1,1", "1,2,3,4,5,",
                         "a,b,c,d,e,f", "1,2,3,4,5,6 ", "-1,2,3,4,5,6", "1,,3,4,5,6",
                         "99999999999,0,0,1,1,1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ftp_parse_port(bad[i], &sa, &len), -1);
}

static void test_eprt(void **state)
{
    struct sockaddr_storage sa;
    socklen_t len;
    assert_int_equal(ftp_parse_eprt("|1|132.235.1.2|6275|", &sa, &len), 0);
    assert_int_equal(sa.ss_family, AF_INET);
    assert_int_equal(ftp_parse_eprt("|2|1080::8:800:200C:417A|5282|", &sa, &len), 0);
    assert_int_equal(sa.ss_family, AF_INET6);
    assert_int_equal(ntohs(((struct sockaddr_in6 *)&sa)->sin6_port), 5282);
    assert_int_equal(ftp_parse_eprt("!1!10.0.0.1!21!", &sa, &len), 0);
    assert_int_equal(ftp_parse_eprt("|3|x|1|", &sa, &len), -2);
    const char *bad[] = {"", "|1|1.2.3.4|0|", "|1|1.2.3.4|70000|", "|1|::1|21|",
                         "|2|1.2.3.4|21|", "|1|1.2.3.4|21", "|1|1.2.3.4|21|x", "1|1|1|1",
                         "||1.2.3.4|21|"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(ftp_parse_eprt(bad[i], &sa, &len), -1);
}

static void test_epsv_and_numbers(void **state)
{
    assert_int_equal(ftp_parse_epsv(""), 0);
    assert_int_equal(ftp_parse_epsv("1"), 1);
    assert_int_equal(ftp_parse_epsv("2"), 2);
    assert_int_equal(ftp_parse_epsv("all"), FTP_EPSV_ALL);
    assert_int_equal(ftp_parse_epsv("3"), -1);
    uint64_t n;
    assert_int_equal(ftp_parse_u64("12345", 10, &n), 0);
    assert_int_equal(n, 12345);
    assert_int_equal(ftp_parse_u64("755", 8, &n), 0);
    assert_int_equal(n, 0755);
    assert_int_equal(ftp_parse_u64("8", 8, &n), -1);
    assert_int_equal(ftp_parse_u64("-1", 10, &n), -1);
    assert_int_equal(ftp_parse_u64("1 ", 10, &n), -1);
    assert_int_equal(ftp_parse_u64("99999999999999999999999", 10, &n), -1);
}

static void test_time(void **state)
{
    time_t t;
    const char *rest = ftp_parse_time("20200102030405 a b.txt", &t);
    assert_non_null(rest);
    assert_string_equal(rest, "a b.txt");
    char buf[16];
    ftp_format_time(t, buf, sizeof buf);
    assert_string_equal(buf, "20200102030405");
    assert_non_null(ftp_parse_time("20200102030405.123 x", &t));
    assert_null(ftp_parse_time("2020010203040 x", &t));
    assert_null(ftp_parse_time("20201302030405 x", &t));
    assert_null(ftp_parse_time("20200102030405x", &t));
}

static void test_telnet_and_list_args(void **state)
{
    char line[] = "\xff\xf4\xff\xf2" "ABOR";
    assert_int_equal(ftp_strip_telnet(line, strlen(line)), 4);
    assert_string_equal(line, "ABOR");
    char lit[] = "a\xff\xff" "b";
    assert_int_equal(ftp_strip_telnet(lit, 4), 3);
    assert_memory_equal(lit, "a\xff" "b", 3);
    bool all;
    assert_string_equal(ftp_list_path("-la dir", &all), "dir");
    assert_true(all);
    assert_string_equal(ftp_list_path("-l", &all), "");
    assert_false(all);
}

/* Decodes wire in chunks of step bytes. */
static size_t decode_steps(const char *wire, size_t len, size_t step, uint8_t *out)
{
    bool cr = false;
    size_t o = 0;
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        o += ftp_ascii_decode((const uint8_t *)wire + i, n, out + o, &cr);
    }
    return o + ftp_ascii_decode(NULL, 0, out + o, &cr);
}

static void test_ascii(void **state)
{
    const char *file = "one\ntwo\r\nthree\n\nlast\r";
    uint8_t wire[64], back[64];
    size_t n = ftp_ascii_encode((const uint8_t *)file, strlen(file), wire);
    assert_int_equal(n, strlen(file) + 4);
    assert_memory_equal(wire, "one\r\ntwo\r\r\nthree\r\n\r\nlast\r", n);
    for (size_t step = 1; step <= n; step++) {
        size_t m = decode_steps((const char *)wire, n, step, back);
        assert_int_equal(m, strlen(file));
        assert_memory_equal(back, file, m);
    }
}

static void test_same_host(void **state)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct sockaddr_in6 b = {.sin6_family = AF_INET6};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &b.sin6_addr);
    assert_true(ftp_same_host((struct sockaddr *)&a, (struct sockaddr *)&b));
    inet_pton(AF_INET6, "::ffff:127.0.0.2", &b.sin6_addr);
    assert_false(ftp_same_host((struct sockaddr *)&a, (struct sockaddr *)&b));
    inet_pton(AF_INET6, "::1", &b.sin6_addr);
    assert_false(ftp_same_host((struct sockaddr *)&a, (struct sockaddr *)&b));
    assert_true(ftp_same_host((struct sockaddr *)&b, (struct sockaddr *)&b));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port),        cmocka_unit_test(test_eprt),
        cmocka_unit_test(test_epsv_and_numbers), cmocka_unit_test(test_time),
        cmocka_unit_test(test_telnet_and_list_args), cmocka_unit_test(test_ascii),
        cmocka_unit_test(test_same_host),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
