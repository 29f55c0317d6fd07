/* Unit tests of the proxy's pure parts: request-target forms
 * (http/proxy/target.c), the CONNECT port list, the SSRF guard's address
 * classes (http/proxy/addr.c), and the absolute URI a proxied request is
 * cached under (http/proxy/cache_purge.c). */
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <string.h>

#include "http/cache/policy.h"
#include "http/proxy/addr.h"
#include "http/proxy/cache_glue.h"
#include "http/proxy/proxy_int.h"

static struct http_str S(const char *s) {
    return (struct http_str){s, strlen(s)};
}

static void
absolute_form(void **state)
{
    struct upstream_target t;
    struct http_str path;
    assert_int_equal(proxy_parse_absolute(S("http://Example.ORG/a?b=1"), &t, &path), 0);
    assert_string_equal(t.host, "example.org");
    assert_int_equal(t.port, 80);
    assert_false(t.tls);
    assert_int_equal(path.n, 6);
    assert_memory_equal(path.p, "/a?b=1", 6);
    assert_int_equal(proxy_parse_absolute(S("https://[::1]:8443"), &t, &path), 0);
    assert_string_equal(t.host, "::1");
    assert_int_equal(t.port, 8443);
    assert_true(t.tls);
    assert_int_equal(path.n, 1);
    assert_int_equal(proxy_parse_absolute(S("HTTP://h:1/"), &t, &path), 0);
    /* refused: userinfo, fragments, other schemes, bad ports and hosts */
    assert_int_equal(proxy_parse_absolute(S("http://user@h/"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("http://h/#x"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("ftp://h/"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("/origin-form"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("http://h:0/"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("http://h:65536/"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("http://h:8x/"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("http://h%2f/"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("http:///a"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("http://[zz]/"), &t, &path), -1);
    assert_int_equal(proxy_parse_absolute(S("http://h?q"), &t, &path), -1);
}

static void authority_form(void **state)
{
    char host[256];
    uint16_t port;
    assert_int_equal(
        proxy_parse_authority(S("example.org:443"), host, sizeof host, &port), 0);
    assert_string_equal(host, "example.org");
    assert_int_equal(port, 443);
    assert_int_equal(
        proxy_parse_authority(S("[2001:db8::1]:8443"), host, sizeof host, &port), 0);
    assert_string_equal(host, "2001:db8::1");
    assert_int_equal(proxy_parse_authority(S("example.org"), host, sizeof host, &port),
                     -1);
    assert_int_equal(proxy_parse_authority(S("example.org:"), host, sizeof host, &port),
                     -1);
    assert_int_equal(proxy_parse_authority(S("a b:443"), host, sizeof host, &port), -1);
}

static void connect_ports(void **state)
{
    const char *list = "443 8443 9000-9010";
    assert_true(proxy_port_allowed(443, list));
    assert_true(proxy_port_allowed(8443, list));
    assert_true(proxy_port_allowed(9000, list));
    assert_true(proxy_port_allowed(9010, list));
    assert_false(proxy_port_allowed(9011, list));
    assert_false(proxy_port_allowed(25, list));
    assert_false(proxy_port_allowed(44, list));
    assert_false(proxy_port_allowed(443, ""));
}

static bool public(const char *ip)
{
    struct conn_addr a;
    assert_int_equal(conn_addr_parse(ip, 80, &a), 0);
    return proxy_addr_is_public(&a);
}

static void ssrf_classes(void **state)
{
    const char *private[] = {"127.0.0.1",
                             "10.1.2.3",
                             "172.16.0.1",
                             "172.31.255.255",
                             "192.168.1.1",
                             "169.254.1.1",
                             "100.64.0.1",
                             "0.0.0.0",
                             "224.0.0.1",
                             "255.255.255.255",
                             "::1",
                             "::",
                             "fc00::1",
                             "fd12::1",
                             "fe80::1",
                             "ff02::1",
                             "::ffff:127.0.0.1",
                             "::ffff:10.0.0.1",
                             "64:ff9b::7f00:1",
                             "2001:db8::1",
                             "192.0.2.1"};
    for (size_t i = 0; i < sizeof private / sizeof private[0]; i++)
        assert_false(public(private[i]));
    const char *pub[] = {"8.8.8.8",      "172.32.0.1",     "1.1.1.1",
                         "2a00:1450::1", "::ffff:8.8.8.8", "100.128.0.1"};
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++)
        assert_true(public(pub[i]));
}

/* The URI of a target and path, and the cache key made of it: a default
 * port goes (RFC 9110 4.2.3), an IPv6 literal keeps its brackets. */
static void cache_uri_and_key(void **state)
{
    struct upstream_target t;
    struct http_str path;
    char uri[256], key[300];
    assert_int_equal(proxy_parse_absolute(S("http://Example.ORG/a?b=1"), &t, &path), 0);
    int n = proxy_cache_uri(&t, path, uri, sizeof uri);
    assert_string_equal(uri, "http://example.org:80/a?b=1");
    int k = cache_key("GET", (struct http_str){uri, (size_t)n}, key, sizeof key);
    assert_int_equal(k, strlen("GET http://example.org/a?b=1"));
    assert_memory_equal(key, "GET http://example.org/a?b=1", (size_t)k);
    assert_int_equal(proxy_parse_absolute(S("https://[::1]:8443/x"), &t, &path), 0);
    proxy_cache_uri(&t, path, uri, sizeof uri);
    assert_string_equal(uri, "https://[::1]:8443/x");
    assert_int_equal(proxy_cache_uri(&t, path, uri, 10), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(absolute_form),     cmocka_unit_test(authority_form),
        cmocka_unit_test(connect_ports),     cmocka_unit_test(ssrf_classes),
        cmocka_unit_test(cache_uri_and_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
