/*
 * Unit tests for the notification plumbing: the webhook HTTP client's
 * parsers and target policy (httpc), event filters and the signature
 * (webhook), event names (outbox).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <sodium.h>

#include "httpc.h"
#include "outbox.h"
#include "webhook.h"

static void test_url(void **state)
{
    (void)state;
    httpc_url u;
    assert_int_equal(httpc_parse_url("http://10.20.0.5:8088/whistle?x=1", &u), 0);
    assert_string_equal(u.host, "10.20.0.5");
    assert_string_equal(u.port, "8088");
    assert_string_equal(u.path, "/whistle?x=1");
    assert_int_equal(httpc_parse_url("HTTP://oa.gov.cn", &u), 0);
    assert_string_equal(u.host, "oa.gov.cn");
    assert_string_equal(u.port, "80");
    assert_string_equal(u.path, "/");
    assert_int_equal(httpc_parse_url("http://h?q=1", &u), 0);
    assert_string_equal(u.path, "/?q=1");
    assert_int_equal(httpc_parse_url("http://[::1]:9000/a", &u), 0);
    assert_string_equal(u.host, "::1");
    assert_true(u.is_ipv6);
    assert_int_equal(httpc_parse_url("https://oa.gov.cn/", &u), 2);
    assert_int_equal(httpc_parse_url("ftp://x/", &u), 2);
    assert_int_equal(httpc_parse_url("oa.gov.cn/hook", &u), 1);
    assert_int_equal(httpc_parse_url("http://", &u), 1);
    assert_int_equal(httpc_parse_url("http://:80/", &u), 1);
    assert_int_equal(httpc_parse_url("http://u:p@h/", &u), 1);
    assert_int_equal(httpc_parse_url("http://h:0/", &u), 1);
    assert_int_equal(httpc_parse_url("http://h:65536/", &u), 1);
    assert_int_equal(httpc_parse_url("http://h:8o/", &u), 1);
    assert_int_equal(httpc_parse_url("http://h/a b", &u), 1);
    assert_int_equal(httpc_parse_url("http://h/a#frag", &u), 1);
    assert_int_equal(httpc_parse_url("http://h/\r\nX: y", &u), 1);
    assert_int_equal(httpc_parse_url("http://[::1/", &u), 1);
    assert_int_equal(httpc_parse_url("http://[::1]x/", &u), 1);
    assert_int_equal(httpc_parse_url("http://h_x/", &u), 1);
}

static void test_status(void **state)
{
    (void)state;
    int s = 0;
    assert_int_equal(httpc_parse_status("HTTP/1.1 200 OK\r\n", 17, &s), 1);
    assert_int_equal(s, 200);
    assert_int_equal(httpc_parse_status("HTTP/1.0 503\r\n", 14, &s), 1);
    assert_int_equal(s, 503);
    assert_int_equal(httpc_parse_status("HTTP/1.1 204 No Content\n", 24, &s), 1);
    assert_int_equal(s, 204);
    assert_int_equal(httpc_parse_status("HTTP/1.1 20", 11, &s), 0);
    assert_int_equal(httpc_parse_status("HTT", 3, &s), 0);
    assert_int_equal(httpc_parse_status("", 0, &s), 0);
    assert_int_equal(httpc_parse_status("HTTP/2 200\r\n", 12, &s), -1);
    assert_int_equal(httpc_parse_status("SSH-2.0-OpenSSH\r\n", 17, &s), -1);
    assert_int_equal(httpc_parse_status("HTTP/1.1 2000 OK\r\n", 18, &s), -1);
    assert_int_equal(httpc_parse_status("HTTP/1.1 099 X\r\n", 16, &s), -1);
    assert_int_equal(httpc_parse_status("HTTP/1.1 600 X\r\n", 16, &s), -1);
    assert_int_equal(httpc_parse_status("HTTP/1.1 2x0 X\r\n", 16, &s), -1);
    char big[2000];
    memcpy(big, "HTTP/1.1 200 ", 13);
    memset(big + 13, 'a', sizeof big - 13);
    assert_int_equal(httpc_parse_status(big, sizeof big, &s), -1);
}

static struct sockaddr_in v4(const char *a)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static struct sockaddr_in6 v6(const char *a)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof s);
    s.sin6_family = AF_INET6;
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return s;
}

#define ALLOWED(sa, allow) httpc_addr_allowed((struct sockaddr *)&(sa), allow, why, sizeof why)

static void test_policy(void **state)
{
    (void)state;
    char why[100];
    struct sockaddr_in a = v4("127.0.0.1"), meta = v4("169.254.169.254"), zero = v4("0.0.0.0"),
                       mc = v4("239.1.1.1"), bc = v4("255.255.255.255"), lan = v4("10.20.0.5");
    struct sockaddr_in6 lo6 = v6("::1"), ll6 = v6("fe80::1"), any6 = v6("::"),
                        mapped = v6("::ffff:169.254.169.254"), mapped_ok = v6("::ffff:10.1.2.3");
    assert_true(ALLOWED(a, NULL));
    assert_true(ALLOWED(lan, ""));
    assert_true(ALLOWED(lo6, NULL));
    assert_false(ALLOWED(meta, NULL));
    assert_non_null(strstr(why, "link-local"));
    assert_false(ALLOWED(zero, NULL));
    assert_false(ALLOWED(mc, NULL));
    assert_false(ALLOWED(bc, NULL));
    assert_false(ALLOWED(ll6, NULL));
    assert_false(ALLOWED(any6, NULL));
    assert_false(ALLOWED(mapped, NULL));
    /* the operator's allow list */
    assert_true(ALLOWED(lan, "10.0.0.0/8"));
    assert_true(ALLOWED(mapped_ok, "10.0.0.0/8"));
    assert_false(ALLOWED(a, "10.0.0.0/8"));
    assert_non_null(strstr(why, "WHISTLE_WEBHOOK_ALLOW"));
    assert_true(ALLOWED(a, "10.0.0.0/8, 127.0.0.1"));
    assert_false(ALLOWED(lo6, "10.0.0.0/8,127.0.0.1"));
    assert_true(ALLOWED(lo6, "::1/128"));
    assert_false(ALLOWED(meta, "0.0.0.0/0")); /* never, even when listed */
    assert_true(ALLOWED(lan, "10.20.0.0/23,junk"));
    assert_false(ALLOWED(lan, "10.20.2.0/23"));
    int fam, prefix;
    unsigned char net[16];
    assert_int_equal(httpc_parse_cidr("192.168.1.0/24", &fam, net, &prefix), 0);
    assert_int_equal(fam, AF_INET);
    assert_int_equal(prefix, 24);
    assert_int_equal(httpc_parse_cidr("fd00::/8", &fam, net, &prefix), 0);
    assert_int_equal(fam, AF_INET6);
    assert_int_equal(httpc_parse_cidr("1.2.3.4", &fam, net, &prefix), 0);
    assert_int_equal(prefix, 32);
    assert_int_equal(httpc_parse_cidr("1.2.3.4/33", &fam, net, &prefix), -1);
    assert_int_equal(httpc_parse_cidr("1.2.3.4/", &fam, net, &prefix), -1);
    assert_int_equal(httpc_parse_cidr("1.2.3/8", &fam, net, &prefix), -1);
    assert_int_equal(httpc_parse_cidr("/8", &fam, net, &prefix), -1);
    assert_true(httpc_literal_refused("169.254.169.254", NULL, why, sizeof why));
    assert_false(httpc_literal_refused("127.0.0.1", NULL, why, sizeof why));
    assert_false(httpc_literal_refused("oa.gov.cn", NULL, why, sizeof why));
}

static void test_filters(void **state)
{
    (void)state;
    assert_true(outbox_valid_event("order.signed"));
    assert_true(outbox_valid_event("supervision.issued"));
    assert_false(outbox_valid_event("Order.signed"));
    assert_false(outbox_valid_event("order signed"));
    assert_false(outbox_valid_event(".order"));
    assert_false(outbox_valid_event("ab"));
    assert_true(webhook_valid_pattern("*"));
    assert_true(webhook_valid_pattern("order.*"));
    assert_true(webhook_valid_pattern("order.signed"));
    assert_false(webhook_valid_pattern(".*"));
    assert_false(webhook_valid_pattern("order*"));
    assert_false(webhook_valid_pattern("*.signed"));
    assert_false(webhook_valid_pattern(""));
    json_t *p = json_pack("[s, s]", "order.*", "supervision.issued");
    assert_true(webhook_filter_matches(p, "order.signed"));
    assert_true(webhook_filter_matches(p, "supervision.issued"));
    assert_false(webhook_filter_matches(p, "supervision.closed"));
    assert_false(webhook_filter_matches(p, "orderly.thing"));
    json_decref(p);
    p = json_pack("[s]", "*");
    assert_true(webhook_filter_matches(p, "anything.at_all"));
    json_decref(p);
}

static void test_signature(void **state)
{
    (void)state;
    assert_true(sodium_init() >= 0);
    char sig[72];
    webhook_sign("test-secret-0123456789", 1700000000, "{\"a\":1}", 7, sig);
    /* python3: hmac.new(key, b'1700000000.{"a":1}', sha256).hexdigest() */
    assert_string_equal(sig, "sha256=6e873f59dc6002f6de5f578e9bf3f90a7906473a2924651d6f4cc33d61aff598");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url),     cmocka_unit_test(test_status),
        cmocka_unit_test(test_policy),  cmocka_unit_test(test_filters),
        cmocka_unit_test(test_signature),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
