/*
 * Unit tests for the foundation modules: validate, clock, router, perm,
 * wbuf, werr mapping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"
#include "err.h"
#include "perm.h"
#include "router.h"
#include "validate.h"
#include "wbuf.h"

static void test_utf8(void **state)
{
    (void)state;
    assert_true(valid_utf8("hello", 5));
    assert_true(valid_utf8("井盖缺失", strlen("井盖缺失")));
    assert_false(valid_utf8("\xc3\x28", 2));          /* bad continuation */
    assert_false(valid_utf8("\xc0\xaf", 2));          /* overlong '/' */
    assert_false(valid_utf8("\xed\xa0\x80", 3));      /* surrogate */
    assert_false(valid_utf8("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
    assert_false(valid_utf8("\xe4\xb8", 2));          /* truncated */
    assert_int_equal(utf8_chars("井盖abc"), 5);
}

static void test_text_ranges(void **state)
{
    (void)state;
    assert_true(valid_text("王小明", 1, 3));
    assert_false(valid_text("王小明", 1, 2));
    assert_false(valid_text("", 1, 10));
    assert_false(valid_text("a\nb", 1, 10));
    assert_true(valid_multiline("a\nb", 1, 10));
    assert_false(valid_text("a\x7f", 1, 10));
    assert_true(valid_login("wang.dispatch"));
    assert_false(valid_login("ab"));
    assert_false(valid_login("王"));
    assert_false(valid_login("a b c"));
    assert_true(valid_phone("138 0000 5678"));
    assert_true(valid_phone("+86-28-12345678"));
    assert_false(valid_phone("call me"));
    assert_true(valid_code("511423-001"));
    assert_false(valid_code("a/b"));
}

static void test_json_fields(void **state)
{
    (void)state;
    json_t *o = json_loads("{\"n\":5,\"s\":\"井盖\",\"b\":true,\"d\":1.5,\"e\":\"x\",\"bad\":\"a\\u0000b\"}",
                           JSON_ALLOW_NUL, NULL);
    assert_non_null(o);
    werr e = {0};
    int64_t n = 0;
    assert_int_equal(jfield_int(o, "n", FIELD_REQUIRED, 1, 10, &n, &e), WOK);
    assert_int_equal(n, 5);
    assert_int_equal(jfield_int(o, "n", FIELD_REQUIRED, 6, 10, &n, &e), W_EINVALID);
    assert_non_null(strstr(e.message, "n:"));
    assert_int_equal(jfield_int(o, "s", FIELD_REQUIRED, 0, 10, &n, &e), W_EINVALID);
    assert_int_equal(jfield_int(o, "missing", FIELD_REQUIRED, 0, 10, &n, &e), W_EINVALID);
    assert_string_equal(e.code, "missing_field");
    n = 42;
    assert_int_equal(jfield_int(o, "missing", FIELD_OPTIONAL, 0, 10, &n, &e), WOK);
    assert_int_equal(n, 42);
    const char *s = NULL;
    assert_int_equal(jfield_text(o, "s", FIELD_REQUIRED, 1, 2, &s, &e), WOK);
    assert_string_equal(s, "井盖");
    assert_int_equal(jfield_text(o, "s", FIELD_REQUIRED, 3, 9, &s, &e), W_EINVALID);
    assert_int_equal(jfield_text(o, "bad", FIELD_REQUIRED, 0, 9, &s, &e), W_EINVALID);
    int b = 0;
    assert_int_equal(jfield_bool(o, "b", FIELD_REQUIRED, &b, &e), WOK);
    assert_true(b);
    double d = 0;
    assert_int_equal(jfield_double(o, "d", FIELD_REQUIRED, 0, 2, &d, &e), WOK);
    assert_int_equal(jfield_double(o, "d", FIELD_REQUIRED, 2, 3, &d, &e), W_EINVALID);
    static const char *const allowed[] = {"x", "y", NULL};
    const char *en = NULL;
    assert_int_equal(jfield_enum(o, "e", FIELD_REQUIRED, allowed, &en, &e), WOK);
    assert_int_equal(jfield_enum(o, "s", FIELD_REQUIRED, allowed, &en, &e), W_EINVALID);
    assert_non_null(strstr(e.message, "x, y"));
    json_decref(o);
}

static void test_clock_parse(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(clock_parse("2026-11-23T03:10:00Z", &t), 0);
    assert_int_equal(t, 1795403400);
    assert_int_equal(clock_parse("2026-11-23T11:10:00+08:00", &t), 0);
    assert_int_equal(t, 1795403400);
    assert_int_equal(clock_parse("2026-11-23", &t), 0); /* midnight in China */
    assert_int_equal(t, 1795403400 - 3 * 3600 - 600 - 8 * 3600);
    assert_int_equal(clock_parse("2024-02-29T00:00:00Z", &t), 0);
    assert_int_equal(clock_parse("2026-02-29", &t), -1);
    assert_int_equal(clock_parse("2026-13-01", &t), -1);
    assert_int_equal(clock_parse("2026-11-23T25:00:00Z", &t), -1);
    assert_int_equal(clock_parse("yesterday", &t), -1);
    assert_int_equal(clock_parse("2026-11-23T03:10:00Zjunk", &t), -1);
    assert_int_equal(clock_parse("2026-11-23T03:10:00.123Z", &t), 0);
    char buf[32];
    clock_format(1795403400, buf);
    assert_string_equal(buf, "2026-11-23T03:10:00Z");
    clock_format_local(1795403400, buf);
    assert_string_equal(buf, "2026-11-23T11:10:00+08:00");
}

/* clock_format computes the calendar itself: it must agree with gmtime_r
 * and strftime everywhere, leap days and negative times included. */
static void test_clock_format_matches_libc(void **state)
{
    (void)state;
    uint64_t x = 88172645463325252u;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        /* years 1900..2200, and every day boundary of 1970..2100 */
        int64_t t = i < 100000 ? (int64_t)(x % 9467280000u) - 2208988800
                               : (int64_t)(i - 100000) * 47304 + (i & 1 ? 86399 : 0);
        char got[32], want[32];
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%SZ", &tm);
        clock_format(t, got);
        assert_string_equal(got, want);
        tt = (time_t)(t + 8 * 3600);
        gmtime_r(&tt, &tm);
        strftime(want, sizeof want, "%Y-%m-%dT%H:%M:%S+08:00", &tm);
        clock_format_local(t, got);
        assert_string_equal(got, want);
    }
    char buf[32];
    clock_format(951782400, buf); /* 2000-02-29, a leap day of a century */
    assert_string_equal(buf, "2000-02-29T00:00:00Z");
    clock_format(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59Z");
    clock_format(253402300800, buf); /* year 10000: the libc path */
    assert_string_equal(buf, "10000-01-01T00:00:00Z");
}

static void test_clock_offset(void **state)
{
    (void)state;
    int64_t a = clock_now();
    clock_set_offset(3600);
    assert_in_range(clock_now() - a, 3599, 3602);
    clock_set_offset(0);
}

static void test_router(void **state)
{
    (void)state;
    http_req r;
    memset(&r, 0, sizeof r);
    char allow[128];
    assert_int_equal(router_find("GET", "/api/v1/users/42", &r, allow, sizeof allow), ROUTE_FOUND);
    assert_string_equal(r.route->pattern, "/api/v1/users/{id}");
    assert_string_equal(req_param(&r, "id"), "42");
    assert_null(req_param(&r, "nope"));
    router_free_params(&r);
    memset(&r, 0, sizeof r);
    assert_int_equal(router_find("DELETE", "/api/v1/users/42", &r, allow, sizeof allow),
                     ROUTE_BAD_METHOD);
    assert_non_null(strstr(allow, "GET"));
    assert_int_equal(router_find("GET", "/api/v1/users/", &r, allow, sizeof allow),
                     ROUTE_NOT_FOUND);
    assert_int_equal(router_find("GET", "/api/v1/users/42/extra", &r, allow, sizeof allow),
                     ROUTE_NOT_FOUND);
    assert_int_equal(router_find("HEAD", "/healthz", &r, allow, sizeof allow), ROUTE_FOUND);
    router_free_params(&r);
    /* every route's pattern is well formed and its permission is known */
    for (int i = 0; i < routes_count; i++) {
        assert_true(routes[i].pattern[0] == '/');
        assert_non_null(routes[i].handler);
        assert_non_null(routes[i].perm);
        assert_true(perm_allows(ROLE_ADMIN, routes[i].perm));
    }
}

static void test_perm(void **state)
{
    (void)state;
    assert_true(perm_allows(ROLE_NONE, PERM_PUBLIC));
    assert_false(perm_allows(ROLE_NONE, PERM_LOGIN));
    assert_true(perm_allows(ROLE_RESIDENT, PERM_LOGIN));
    assert_true(perm_allows(ROLE_ADMIN, "user.admin"));
    assert_false(perm_allows(ROLE_DISPATCHER, "user.admin"));
    assert_true(perm_allows(ROLE_DISPATCHER, "order.dispatch"));
    assert_false(perm_allows(ROLE_DEPARTMENT, "order.dispatch"));
    assert_true(perm_allows(ROLE_COMMUNITY, "module.allotment")); /* "module.*" grant */
    assert_false(perm_allows(ROLE_DEVICE, "audit.read"));
    assert_true(perm_allows(ROLE_INSPECTOR, "audit.read"));
    for (int r = 1; r < ROLE__COUNT; r++)
        assert_int_equal(role_parse(role_name(r)), r);
    assert_int_equal(role_parse("pope"), ROLE_NONE);
    principal p;
    memset(&p, 0, sizeof p);
    p.scope_kind = SCOPE_GRID;
    strcpy(p.scope_grid, "511423001");
    assert_true(scope_covers_grid(&p, "511423001002"));
    assert_false(scope_covers_grid(&p, "511423002001"));
    p.scope_kind = SCOPE_DEPT;
    assert_false(scope_covers_grid(&p, "511423001002"));
    p.scope_kind = SCOPE_ALL;
    assert_true(scope_covers_grid(&p, "anything"));
}

static void test_wbuf(void **state)
{
    (void)state;
    wbuf b = WBUF_INIT;
    for (int i = 0; i < 1000; i++)
        wbuf_printf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.s));
    wbuf_free(&b);
    wbuf_html(&b, "<a href=\"x\">&'</a>");
    assert_string_equal(b.s, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    wbuf_free(&b);
    wbuf_csv(&b, "a,b");
    wbuf_putc(&b, ';');
    wbuf_csv(&b, "=cmd()");
    wbuf_putc(&b, ';');
    wbuf_csv(&b, "-5");
    wbuf_putc(&b, ';');
    wbuf_csv(&b, "say \"hi\"");
    assert_string_equal(b.s, "\"a,b\";\"'=cmd()\";-5;\"say \"\"hi\"\"\"");
    size_t len;
    char *s = wbuf_steal(&b, &len);
    assert_int_equal(len, strlen(s));
    free(s);
}

static void test_werr(void **state)
{
    (void)state;
    assert_int_equal(werr_http_status(W_EINVALID), 422);
    assert_int_equal(werr_http_status(W_ECONFLICT), 409);
    assert_int_equal(werr_http_status(W_ETOOMANY), 429);
    assert_int_equal(werr_http_status(W_EINTERNAL), 500);
    werr e;
    assert_int_equal(werr_set(&e, W_ENOTFOUND, "not_found", "no %s", "user"), W_ENOTFOUND);
    assert_string_equal(e.code, "not_found");
    assert_string_equal(e.message, "no user");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8),        cmocka_unit_test(test_text_ranges),
        cmocka_unit_test(test_json_fields), cmocka_unit_test(test_clock_parse),
        cmocka_unit_test(test_clock_format_matches_libc),
        cmocka_unit_test(test_clock_offset), cmocka_unit_test(test_router),
        cmocka_unit_test(test_perm),        cmocka_unit_test(test_wbuf),
        cmocka_unit_test(test_werr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
