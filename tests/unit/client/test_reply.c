/* Unit tests of the pure client-side pieces: the reply parser fed byte at a
 * time through linebuf (as the session does), its limits; dot-stuffing
 * and CRLF conversion in every chunking; numeric address parsing; the DNS
 * answer walker on hand-made messages. */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "core/connect.h"
#include "core/dns_answer.h"
#include "core/dotstuff.h"
#include "core/linebuf.h"
#include "core/reply.h"

struct feed {
    struct linebuf lb;
    struct reply_parser p;
    struct evbuffer *in;
    char line[REPLY_MAX_LINE + 1];
    int done, errors;
    struct reply last;
};

/* Feeds text one byte at a time; counts complete replies and errors. */
static void feed_bytes(struct feed *f, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        evbuffer_add(f->in, text + i, 1);
        for (int guard = 0; guard < 4; guard++) {
            size_t n = 0;
            enum line_status ls =
                linebuf_next(&f->lb, f->in, REPLY_MAX_LINE, f->line, &n);
            if (ls == LINE_MORE)
                break;
            enum reply_status st;
            if (ls == LINE_TOO_LONG)
                st = reply_line_too_long(&f->p);
            else
                st = reply_parser_line(&f->p, f->line, n);
            if (st == REPLY_DONE) {
                f->done++;
                f->last = f->p.reply;
            } else if (st == REPLY_ERROR) {
                f->errors++;
                return;
            }
        }
    }
}

static struct feed *feed_new(void)
{
    struct feed *f = calloc(1, sizeof *f);
    f->in = evbuffer_new();
    reply_parser_init(&f->p);
    return f;
}

static void feed_free(struct feed *f)
{
    evbuffer_free(f->in);
    free(f);
}

static void test_multiline_byte_at_a_time(void **state)
{
    struct feed *f = feed_new();
    const char *t = "250-mx.test greets you\r\n250-PIPELINING\r\n250-SIZE 1000\r\n"
                    "250 STARTTLS\r\n220 next\r\n";
    feed_bytes(f, t, strlen(t));
    assert_int_equal(f->errors, 0);
    assert_int_equal(f->done, 2);
    assert_int_equal(f->last.code, 220);
    assert_string_equal(f->last.text, "next");
    feed_free(f);
    f = feed_new();
    feed_bytes(f, t, strlen(t) - strlen("220 next\r\n"));
    assert_int_equal(f->done, 1);
    assert_int_equal(f->last.code, 250);
    assert_int_equal(f->last.lines, 4);
    assert_string_equal(f->last.text,
                        "mx.test greets you\nPIPELINING\nSIZE 1000\nSTARTTLS");
    char params[32];
    assert_true(reply_has_keyword(&f->last, "size", params, sizeof params));
    assert_string_equal(params, "1000");
    assert_true(reply_has_keyword(&f->last, "PIPELINING", params, sizeof params));
    assert_string_equal(params, "");
    assert_false(reply_has_keyword(&f->last, "8BITMIME", NULL, 0));
    assert_false(reply_has_keyword(&f->last, "mx.test", NULL, 0)); /* the greeting line */
    feed_free(f);
}

static void test_bare_code_and_lf(void **state)
{
    struct feed *f = feed_new();
    feed_bytes(f, "354\n", 4); /* "NNN" CRLF is a valid last line; bare LF tolerated */
    assert_int_equal(f->done, 1);
    assert_int_equal(f->last.code, 354);
    assert_string_equal(f->last.text, "");
    feed_free(f);
}

static void expect_error(const char *text, const char *why)
{
    struct feed *f = feed_new();
    feed_bytes(f, text, strlen(text));
    assert_int_equal(f->errors, 1);
    assert_int_equal(f->done, 0);
    assert_string_equal(f->p.error, why);
    feed_free(f);
}

static void test_malformed(void **state)
{
    expect_error("250-a\r\n251 b\r\n", "reply code differs between lines");
    expect_error("25 x\r\n", "reply does not start with a reply code");
    expect_error("ab0 x\r\n", "reply does not start with a reply code");
    expect_error("650 x\r\n", "reply does not start with a reply code");
    expect_error("260 x\r\n", "reply does not start with a reply code");
    expect_error("250_x\r\n", "bad character after the reply code");
    expect_error("250 a\x01z\r\n", "control character in reply text");
}

static void test_nul_in_text(void **state)
{
    struct feed *f = feed_new();
    feed_bytes(f, "250 a\0z\r\n", 9);
    assert_int_equal(f->errors, 1);
    assert_string_equal(f->p.error, "control character in reply text");
    feed_free(f);
}

static void test_limits(void **state)
{
    /* A 1 MiB reply line is refused cleanly, memory bounded by linebuf. */
    struct feed *f = feed_new();
    size_t big = 1 << 20;
    char *line = malloc(big + 2);
    memcpy(line, "250 ", 4);
    memset(line + 4, 'x', big - 4);
    memcpy(line + big, "\r\n", 2);
    feed_bytes(f, line, big + 2);
    assert_int_equal(f->errors, 1);
    assert_string_equal(f->p.error, "reply line too long");
    assert_true(evbuffer_get_length(f->in) <= REPLY_MAX_LINE);
    free(line);
    feed_free(f);
    /* A 4000-byte line (over RFC 5321's 512) is accepted. */
    f = feed_new();
    char l2[4002];
    memcpy(l2, "250 ", 4);
    memset(l2 + 4, 'y', 3994);
    memcpy(l2 + 3998, "\r\n", 2);
    feed_bytes(f, l2, 4000);
    assert_int_equal(f->done, 1);
    assert_int_equal(f->last.len, 3994);
    feed_free(f);
    /* Too many lines. */
    f = feed_new();
    for (int i = 0; i < REPLY_MAX_LINES + 5 && f->errors == 0; i++)
        feed_bytes(f, "250-x\r\n", 7);
    assert_int_equal(f->errors, 1);
    assert_string_equal(f->p.error, "too many reply lines");
    feed_free(f);
    /* Text over REPLY_MAX_TEXT is counted as truncated, not an error. */
    f = feed_new();
    for (int i = 0; i < 10; i++) {
        memcpy(l2, "250-", 4);
        feed_bytes(f, l2, 4000);
    }
    feed_bytes(f, "250 end\r\n", 9);
    assert_int_equal(f->done, 1);
    assert_true(f->last.truncated);
    assert_true(f->last.len < REPLY_MAX_TEXT);
    feed_free(f);
}

static void test_enhanced_and_summary(void **state)
{
    struct reply_parser p;
    reply_parser_init(&p);
    assert_int_equal(reply_parser_line(&p, "550-5.1.1 no such user", 22), REPLY_MORE);
    assert_int_equal(reply_parser_line(&p, "550 5.1.1 \"bob\"", 15), REPLY_DONE);
    char e[16], sum[64];
    reply_enhanced(&p.reply, e, sizeof e);
    assert_string_equal(e, "5.1.1");
    assert_int_equal(reply_class(&p.reply), 5);
    reply_summary(&p.reply, sum, sizeof sum);
    assert_string_equal(sum, "550 5.1.1 no such user / 5.1.1 ?bob?");
    reply_parser_init(&p);
    reply_parser_line(&p, "250 2.0.0", 9);
    reply_enhanced(&p.reply, e, sizeof e);
    assert_string_equal(e, "2.0.0");
    reply_parser_init(&p);
    reply_parser_line(&p, "250 5.0.0 wrong class", 21);
    reply_enhanced(&p.reply, e, sizeof e);
    assert_string_equal(e, "");
}

/* ---- dot-stuffing ---- */

static char *stuff(const char *in, size_t len, size_t chunk)
{
    struct dotstuff d;
    struct evbuffer *out = evbuffer_new();
    dotstuff_init(&d);
    for (size_t i = 0; i < len; i += chunk) {
        size_t n = len - i < chunk ? len - i : chunk;
        assert_int_equal(dotstuff_feed(&d, in + i, n, out), 0);
    }
    assert_int_equal(dotstuff_end(&d, out), 0);
    size_t olen = evbuffer_get_length(out);
    assert_true(olen <= 2 * len + 5);
    char *s = malloc(olen + 1);
    evbuffer_remove(out, s, olen);
    s[olen] = '\0';
    evbuffer_free(out);
    return s;
}

static void check_stuff(const char *in, const char *want)
{
    for (size_t chunk = 1; chunk <= strlen(in) + 1; chunk++) {
        char *got = stuff(in, strlen(in), chunk);
        assert_string_equal(got, want);
        free(got);
    }
}

static void test_dotstuff(void **state)
{
    check_stuff("", ".\r\n");
    check_stuff("a\r\nb\r\n", "a\r\nb\r\n.\r\n");
    check_stuff("a\nb", "a\r\nb\r\n.\r\n");
    check_stuff(".\r\n..x\n.", "..\r\n...x\r\n..\r\n.\r\n");
    check_stuff("a\rb\r", "a\r\nb\r\n.\r\n");
    check_stuff("a\r\r\n.b", "a\r\n\r\n..b\r\n.\r\n");
    check_stuff("x.y\r\n", "x.y\r\n.\r\n");
}

/* ---- addresses ---- */

static void test_addr_parse(void **state)
{
    struct conn_addr a;
    char buf[64];
    assert_int_equal(conn_addr_parse("127.0.0.1:2525", 25, &a), 0);
    conn_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "127.0.0.1:2525");
    assert_int_equal(conn_addr_parse("192.0.2.1", 25, &a), 0);
    conn_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "192.0.2.1:25");
    assert_int_equal(conn_addr_parse("[::1]:53", 25, &a), 0);
    conn_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "[::1]:53");
    assert_int_equal(conn_addr_parse("::1", 53, &a), 0);
    conn_addr_format(&a, buf, sizeof buf);
    assert_string_equal(buf, "[::1]:53");
    assert_int_equal(conn_addr_parse("mx.test:25", 25, &a), -1);
    assert_int_equal(conn_addr_parse("1.2.3.4:0", 25, &a), -1);
    assert_int_equal(conn_addr_parse("1.2.3.4:70000", 25, &a), -1);
    assert_int_equal(conn_addr_parse("[::1]x", 25, &a), -1);
    assert_int_equal(conn_addr_parse("", 25, &a), -1);
}

/* ---- DNS answers ---- */

static size_t put_name(unsigned char *p, const char *name)
{
    size_t o = 0;
    while (*name) {
        size_t n = strcspn(name, ".");
        p[o++] = (unsigned char)n;
        memcpy(p + o, name, n);
        o += n;
        name += n;
        if (*name == '.')
            name++;
    }
    p[o++] = 0;
    return o;
}

static size_t put_rr(unsigned char *p, uint16_t type, uint32_t ttl, const void *rd,
                     size_t rdlen)
{
    size_t o = 0;
    p[o++] = 0xc0; /* pointer to the question name */
    p[o++] = 12;
    p[o++] = (unsigned char)(type >> 8);
    p[o++] = (unsigned char)type;
    p[o++] = 0;
    p[o++] = 1;
    p[o++] = (unsigned char)(ttl >> 24);
    p[o++] = (unsigned char)(ttl >> 16);
    p[o++] = (unsigned char)(ttl >> 8);
    p[o++] = (unsigned char)ttl;
    p[o++] = (unsigned char)(rdlen >> 8);
    p[o++] = (unsigned char)rdlen;
    memcpy(p + o, rd, rdlen);
    return o + rdlen;
}

static void test_dns_answer(void **state)
{
    unsigned char m[512] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 3, 0, 0, 0, 0};
    size_t o = 12;
    o += put_name(m + o, "b.test");
    m[o++] = 0;
    m[o++] = 15;
    m[o++] = 0;
    m[o++] = 1;
    unsigned char rd[64];
    rd[0] = 0;
    rd[1] = 20;
    size_t n = put_name(rd + 2, "MX2.b.test");
    o += put_rr(m + o, 15, 300, rd, n + 2);
    rd[1] = 10;
    n = put_name(rd + 2, "mx1.b.test");
    o += put_rr(m + o, 15, 120, rd, n + 2);
    o += put_rr(m + o, 1, 5, "\x7f\0\0\1", 4); /* another type: skipped */
    struct dns_answer a;
    assert_int_equal(dns_answer_parse(m, o, DNS_MX, &a), 0);
    assert_int_equal(a.status, DNS_OK);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.ttl, 120);
    const struct dns_mx *mx = a.recs;
    assert_int_equal(mx[0].preference, 10);
    assert_string_equal(mx[0].host, "mx1.b.test");
    assert_string_equal(mx[1].host, "mx2.b.test");
    dns_answer_clear(&a);
    assert_int_equal(dns_answer_parse(m, o, DNS_TXT, &a), 0);
    assert_int_equal(a.status, DNS_NODATA);
    dns_answer_clear(&a);
    /* Truncated messages are malformed, at every length. */
    for (size_t cut = 0; cut < o; cut++) {
        if (dns_answer_parse(m, cut, DNS_MX, &a) == 0) {
            assert_true(a.n < 2);
            dns_answer_clear(&a);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multiline_byte_at_a_time),
        cmocka_unit_test(test_bare_code_and_lf),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_nul_in_text),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_enhanced_and_summary),
        cmocka_unit_test(test_dotstuff),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_dns_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
