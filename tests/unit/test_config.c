/* Unit tests of core/config.c: the embedded default, every key type, and
 * the one-line errors naming file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>

#include "core/config.h"

static struct config cfg;
static char err[4096];

static int load(const char *text)
{
    err[0] = '\0';
    return config_load_string(&cfg, "t.ini", text, err, sizeof err);
}

static void default_has_port_table(void **state)
{
    assert_int_equal(config_load(&cfg, NULL, err, sizeof err), 0);
    assert_string_equal(cfg.data_dir, "./var");
    const int ports[SVC_METRICS][2] = {{2525, 0},    {2587, 2465}, {2110, 2995},
                                       {2143, 2993}, {2121, 2990}, {8080, 8443},
                                       {2222, 0}};
    for (int s = 0; s < SVC_METRICS; s++) {
        assert_int_equal(cfg.svc[s].listen.n, 2);
        const struct sockaddr_in *v4 = (const void *)&cfg.svc[s].listen.addr[0].sa;
        assert_int_equal(ntohs(v4->sin_port), ports[s][0]);
        assert_int_equal(cfg.svc[s].listen_tls.n, ports[s][1] ? 2 : 0);
    }
    assert_string_equal(cfg.svc[SVC_SMTP].listen.addr[1].text, "[::1]:2525");
    assert_int_equal(cfg.svc[SVC_METRICS].listen.n, 0); /* off unless set */
    assert_int_equal(cfg.ftp_passive_min, 30000);
    assert_int_equal(cfg.ftp_passive_max, 30099);
}

static void values_of_each_type(void **state)
{
    assert_int_equal(load("[portico]\nthreads = 3\nlog_level = debug\n"
                          "[auth]\nallow_plaintext_auth = yes\n"
                          "[smtp]\nmax_message_size = 10M\nlisten = 0.0.0.0:25 [::]:25\n"
                          "[ftp]\npassive_ports = 40000-40010\n"),
                     0);
    assert_int_equal(cfg.threads, 3);
    assert_int_equal(cfg.log_level, 0);
    assert_true(cfg.allow_plaintext_auth);
    assert_int_equal(cfg.smtp_max_message_size, 10u << 20);
    assert_int_equal(cfg.svc[SVC_SMTP].listen.n, 2);
    assert_int_equal(cfg.ftp_passive_min, 40000);
    /* A file without a section's listen key leaves that service off. */
    assert_int_equal(cfg.svc[SVC_HTTP].listen.n, 0);
}

static void empty_listen_turns_off(void **state)
{
    assert_int_equal(load("[http]\nlisten =\n"), 0);
    assert_int_equal(cfg.svc[SVC_HTTP].listen.n, 0);
}

static void errors_name_file_line_key(void **state)
{
    assert_int_equal(load("[portico]\nthreads = 2\nbogus = 1\n"), -1);
    assert_string_equal(err, "t.ini:3: [portico] bogus: unknown key");
    assert_int_equal(load("\n[smtp]\nlisten = 127.0.0.1:99999\n"), -1);
    assert_non_null(strstr(err, "t.ini:3: [smtp] listen:"));
    assert_int_equal(load("[nosuch]\nkey = 1\n"), -1);
    assert_non_null(strstr(err, "t.ini:2: [nosuch] key: unknown section"));
    assert_int_equal(load("[portico]\nthreads = many\n"), -1);
    assert_non_null(strstr(err, "t.ini:2: [portico] threads: expected a number"));
    assert_int_equal(load("[portico]\nthreads = 100000\n"), -1);
    assert_non_null(strstr(err, "out of range"));
    assert_int_equal(load("[auth]\nallow_plaintext_auth = maybe\n"), -1);
    assert_int_equal(load("[ftp]\npassive_ports = 200-100\n"), -1);
    assert_int_equal(load("[smtp]\nmax_message_size = 5Q\n"), -1);
    assert_int_equal(load("[portico]\nno equals sign here\n"), -1);
    assert_non_null(strstr(err, "t.ini:2: syntax error"));
    assert_int_equal(load("[tls]\ncert = /x.pem\n"), -1);
    assert_non_null(strstr(err, "cert and key must be set together"));
}

/* Every error is reported, one line each, not only the first. */
static void every_error_reported(void **state)
{
    assert_int_equal(load("[portico]\nthreads = x\nhostname = a b\ndomains = ok.example "
                          "bad_name\nthreads = 2\n[ftp]\npassive_address = not-an-ip\n"
                          "listen = 127.0.0.1:21\n[http]\nlisten = 127.0.0.1:21\n"),
                     -1);
    assert_non_null(strstr(err, "t.ini:2: [portico] threads: expected a number\n"));
    assert_non_null(strstr(err, "t.ini:3: [portico] hostname: not a valid host name"));
    assert_non_null(strstr(err, "t.ini:4: [portico] domains: not a valid domain name"));
    assert_non_null(strstr(err, "t.ini:5: [portico] threads: already set on line 2"));
    assert_non_null(
        strstr(err, "t.ini:7: [ftp] passive_address: expected a numeric IPv4"));
    assert_non_null(
        strstr(err, "t.ini:10: [http] listen: 127.0.0.1:21 is also [ftp] listen"));
    int lines = 1;
    for (const char *p = err; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 6);
    /* [portico] log_level and [log] level set one value: once. */
    assert_int_equal(load("[portico]\nlog_level = warn\n[log]\nlevel = debug\n"), -1);
    assert_non_null(strstr(err, "t.ini:4: [log] level: already set on line 2"));
    assert_int_equal(load("[smtp]\nlisten = 127.0.0.1:25 127.0.0.1:25\n"), -1);
    assert_non_null(strstr(err, "the same address twice"));
}

/* International names are stored as A-labels; the table's defaults hold. */
static void idn_and_defaults(void **state)
{
    assert_int_equal(load("[portico]\nhostname = Mail.Bücher.Example\n"
                          "domains = bücher.example Example.ORG\n"
                          "[log]\ntarget = journal\nformat = json\n"),
                     0);
    assert_string_equal(cfg.hostname, "mail.xn--bcher-kva.example");
    assert_string_equal(cfg.domains, "xn--bcher-kva.example example.org");
    assert_int_equal(cfg.log_target, LOG_TARGET_JOURNAL);
    assert_int_equal(cfg.log_format, LOG_FORMAT_JSON);
    assert_int_equal(cfg.min_password_length, 8);
    assert_int_equal(cfg.smtp_max_message_size, 50u << 20);
    assert_int_equal(cfg.http_max_requests, 1000);
    assert_true(cfg.http_dir_listing);
    assert_int_equal(load("[log]\ntarget = file\n"), -1);
    assert_int_equal(config_key_line(&cfg, "log", "target"), 2);
}

static void listen_parsing(void **state)
{
    struct listen_list l;
    const char *why;
    assert_int_equal(config_parse_listen("127.0.0.1:1 [::1]:65535", &l, &why), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(config_parse_listen("localhost:25", &l, &why), -1);
    assert_int_equal(config_parse_listen("127.0.0.1", &l, &why), -1);
    assert_int_equal(config_parse_listen("127.0.0.1:0", &l, &why), -1);
    assert_int_equal(config_parse_listen("[::1:25", &l, &why), -1);
    assert_int_equal(config_parse_listen("127.0.0.1:25x", &l, &why), -1);
    assert_int_equal(
        config_parse_listen("1.1.1.1:1 1.1.1.1:2 1.1.1.1:3 1.1.1.1:4 1.1.1.1:5 "
                            "1.1.1.1:6 1.1.1.1:7 1.1.1.1:8 1.1.1.1:9",
                            &l, &why),
        -1);
}

static void overlong_line_refused(void **state)
{
    char text[1200] = "[portico]\nhostname = ";
    size_t n = strlen(text);
    memset(text + n, 'a', 900);
    text[n + 900] = '\0';
    assert_int_equal(load(text), -1);
    assert_non_null(strstr(err, "t.ini:2: line too long"));
}

static void missing_file(void **state)
{
    assert_int_equal(config_load(&cfg, "/nonexistent/p.ini", err, sizeof err), -1);
    assert_non_null(strstr(err, "/nonexistent/p.ini: cannot read"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_has_port_table),
        cmocka_unit_test(values_of_each_type),
        cmocka_unit_test(empty_listen_turns_off),
        cmocka_unit_test(errors_name_file_line_key),
        cmocka_unit_test(listen_parsing),
        cmocka_unit_test(overlong_line_refused),
        cmocka_unit_test(missing_file),
        cmocka_unit_test(every_error_reported),
        cmocka_unit_test(idn_and_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
