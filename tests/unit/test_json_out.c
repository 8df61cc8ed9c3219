/*
 * Unit tests for json_out (json_out.h): the writer every JSON answer goes
 * through must write exactly what json_dumps(JSON_COMPACT) wrote before it —
 * on fixed cases (escapes, Chinese text, NUL inside a string, extreme
 * integers, reals, empty containers, key order) and on thousands of random
 * trees — and must refuse what json_dumps refuses (invalid UTF-8).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "clock.h"
#include "json_out.h"

/* json_out's text for v; the test owns it. */
static char *out_of(const json_t *v)
{
    wbuf b = WBUF_INIT;
    if (json_out(&b, v) != 0) {
        wbuf_free(&b);
        return NULL;
    }
    return wbuf_steal(&b, NULL);
}

static void assert_same_as_dumps(const json_t *v)
{
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    char *got = out_of(v);
    assert_non_null(want);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(want);
    free(got);
}

static void test_fixed_cases(void **state)
{
    (void)state;
    json_t *v = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:i, s:f, s:f, s:b, s:b, s:n, s:[], s:{}, s:[i,s,{s:[]}]}",
        "plain", "井盖缺失", "escapes", "q\"b\\s/\b\f\n\r\t\x01\x1f\x7f", "emoji",
        "\xf0\x9f\x98\x80", "max", (json_int_t)INT64_MAX, "min", (json_int_t)INT64_MIN, "zero", 0,
        "real", 0.1, "big", 1e300, "t", 1, "f", 0, "null", "empty_array", "empty_object", "nested",
        -7, "县城市管理局", "deep");
    assert_non_null(v);
    assert_same_as_dumps(v);
    char *got = out_of(v);
    assert_non_null(strstr(got, "\"escapes\":\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001F\x7f\""));
    /* keys come out in the order they were set, as json_dumps writes them */
    assert_true(strstr(got, "\"plain\"") < strstr(got, "\"nested\""));
    free(got);
    json_decref(v);

    /* every ASCII byte on its own (the escape table, entry by entry) */
    for (int c = 0; c < 0x80; c++) {
        char one = (char)c;
        json_t *b = json_stringn(&one, 1);
        assert_non_null(b);
        assert_same_as_dumps(b);
        json_decref(b);
    }

    /* a NUL inside a string and inside a key */
    json_t *o = json_object();
    json_object_setn_new(o, "a\0b", 3, json_stringn("x\0y", 3));
    assert_same_as_dumps(o);
    json_decref(o);

    /* scalars on their own */
    json_t *s = json_string("");
    assert_same_as_dumps(s);
    json_decref(s);
    json_t *r = json_real(-2.5e-7);
    assert_same_as_dumps(r);
    json_decref(r);
}

static void test_refuses_what_dumps_refuses(void **state)
{
    (void)state;
    /* nocheck strings are the only way invalid UTF-8 gets into a tree */
    const char *bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe4\xb8", "ok\xf4\x90\x80\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        json_t *v = json_pack("{s:o}", "k", json_string_nocheck(bad[i]));
        assert_null(json_dumps(v, JSON_COMPACT));
        wbuf b = WBUF_INIT;
        assert_int_equal(json_out(&b, v), -1);
        wbuf_free(&b);
        json_decref(v);
    }
    assert_int_equal(json_out(&(wbuf)WBUF_INIT, NULL), -1);

    /* a tree deeper than the limit is refused rather than overflowing the stack */
    json_t *root = json_array(), *at = root;
    for (int i = 0; i < JSON_OUT_MAX_DEPTH + 5; i++) {
        json_t *next = json_array();
        json_array_append_new(at, next);
        at = next;
    }
    wbuf b = WBUF_INIT;
    assert_int_equal(json_out(&b, root), -1);
    wbuf_free(&b);
    json_decref(root);
}

/* Strings are copied eight bytes at a time until a byte needs escaping:
 * each such byte (and a broken UTF-8 sequence) after every number of
 * characters and before every number of them, in ASCII and in Chinese,
 * must give what json_dumps gives (or be refused as it is). */
static void test_escape_at_every_position(void **state)
{
    (void)state;
    static const char *const specials[] = {"\"",   "\\", "\n",  "\x01", "\x1f",
                                           "\x7f", " ",  "\x80" /* a lone continuation byte */};
    static const char *const units[] = {"a", "网"};
    for (size_t u = 0; u < 2; u++) {
        size_t ul = strlen(units[u]);
        for (size_t before = 0; before <= 20; before++) {
            for (size_t after = 0; after <= 20; after++) {
                for (size_t k = 0; k < sizeof specials / sizeof *specials; k++) {
                    char buf[160];
                    size_t len = 0;
                    for (size_t i = 0; i < before; i++, len += ul)
                        memcpy(buf + len, units[u], ul);
                    buf[len++] = specials[k][0];
                    for (size_t i = 0; i < after; i++, len += ul)
                        memcpy(buf + len, units[u], ul);
                    json_t *v = json_stringn_nocheck(buf, len);
                    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                    char *got = out_of(v);
                    if (want)
                        assert_string_equal(got ? got : "(refused)", want);
                    else
                        assert_null(got);
                    free(want);
                    free(got);
                    json_decref(v);
                }
            }
        }
    }
}

/* ---- random trees ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

/* Random valid UTF-8 with a bias to the bytes that need escaping. */
static json_t *random_string(void)
{
    static const char *const pieces[] = {
        "a",  "Z",    " ",    "\"",   "\\", "/",    "\n",
        "\t", "\x01", "\x1f", "\x7f", "é",  "网格", "\xf0\x9f\x9a\xa8",
        "0"};
    char buf[256];
    size_t len = 0, n = next_rand() % 12;
    for (size_t i = 0; i < n; i++) {
        const char *p = pieces[next_rand() % (sizeof pieces / sizeof *pieces)];
        size_t pl = strlen(p);
        memcpy(buf + len, p, pl);
        len += pl;
    }
    if (next_rand() % 16 == 0)
        buf[len++] = '\0'; /* an embedded NUL */
    return json_stringn(buf, len);
}

static json_t *random_value(int depth)
{
    int kind = (int)(next_rand() % (depth > 4 ? 6 : 8));
    switch (kind) {
    case 0:
        return json_null();
    case 1:
        return json_boolean(next_rand() & 1);
    case 2:
        return json_integer((json_int_t)(((uint64_t)next_rand() << 32) | next_rand()));
    case 3:
        return json_real(next_rand() & 1
                             ? (double)(int32_t)next_rand() / (double)(next_rand() | 1)
                             : ldexp((double)(int32_t)next_rand(), (int)(next_rand() % 400) - 200));
    case 4:
    case 5:
        return random_string();
    case 6: {
        json_t *a = json_array();
        for (uint32_t i = 0, n = next_rand() % 6; i < n; i++)
            json_array_append_new(a, random_value(depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (uint32_t i = 0, n = next_rand() % 6; i < n; i++) {
            json_t *k = random_string();
            json_object_setn_new(o, json_string_value(k), json_string_length(k),
                                 random_value(depth + 1));
            json_decref(k);
        }
        return o;
    }
    }
}

static void test_random_trees(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        json_t *v = random_value(0);
        assert_same_as_dumps(v);
        json_decref(v);
    }
}

/* jw writes a document value by value; the same values put in a jansson
 * tree and dumped must give the same text. */
static void test_jw_matches_tree(void **state)
{
    (void)state;
    for (int round = 0; round < 2000; round++) {
        wbuf b = WBUF_INIT;
        jw j;
        jw_init(&j, &b);
        json_t *tree = json_object();
        jw_object(&j, NULL);
        json_t *items = json_array();
        jw_array(&j, "items");
        for (uint32_t i = 0, n = next_rand() % 5; i < n; i++) {
            json_t *it = json_object();
            jw_object(&j, NULL);
            json_t *s = random_string();
            const char *text = strlen(json_string_value(s)) == json_string_length(s)
                                   ? json_string_value(s)
                                   : "no NUL in C strings";
            jw_string(&j, "text", text);
            json_object_set_new(it, "text", json_string(text));
            json_decref(s);
            int64_t v = (int64_t)(((uint64_t)next_rand() << 32) | next_rand());
            jw_int(&j, "n", v);
            json_object_set_new(it, "n", json_integer(v));
            double r = ldexp((double)(int32_t)next_rand(), (int)(next_rand() % 120) - 60);
            jw_real(&j, "r", r);
            json_object_set_new(it, "r", json_real(r));
            jw_bool(&j, "b", (int)(i & 1));
            json_object_set_new(it, "b", json_boolean(i & 1));
            int64_t t = (int64_t)(next_rand() % 4000000000u) - 1;
            jw_time(&j, "at", t);
            if (t > 0) {
                char when[32];
                clock_format(t, when);
                json_object_set_new(it, "at", json_string(when));
            } else {
                json_object_set_new(it, "at", json_null());
            }
            jw_string(&j, "none", NULL);
            json_object_set_new(it, "none", json_null());
            json_t *sub = random_value(3);
            jw_value(&j, "sub", sub);
            json_object_set_new(it, "sub", sub);
            jw_object_end(&j);
            json_array_append_new(items, it);
        }
        jw_array_end(&j);
        json_object_set_new(tree, "items", items);
        jw_null(&j, "next");
        json_object_set_new(tree, "next", json_null());
        jw_object_end(&j);
        assert_int_equal(jw_finish(&j), 0);
        char *want = json_dumps(tree, JSON_COMPACT);
        assert_string_equal(b.s, want);
        free(want);
        json_decref(tree);
        wbuf_free(&b);
    }
}

static void test_jw_refuses(void **state)
{
    (void)state;
    wbuf b = WBUF_INIT;
    jw j;
    jw_init(&j, &b); /* invalid UTF-8 */
    jw_object(&j, NULL);
    jw_string(&j, "k", "\xc3\x28");
    jw_object_end(&j);
    assert_int_equal(jw_finish(&j), -1);
    wbuf_free(&b);
    jw_init(&j, &b); /* a real with no JSON form */
    jw_array(&j, NULL);
    jw_real(&j, NULL, NAN);
    jw_array_end(&j);
    assert_int_equal(jw_finish(&j), -1);
    wbuf_free(&b);
    jw_init(&j, &b); /* left open */
    jw_object(&j, NULL);
    jw_array(&j, "a");
    jw_array_end(&j);
    assert_int_equal(jw_finish(&j), -1);
    wbuf_free(&b);
    jw_init(&j, &b); /* closed once too often */
    jw_array(&j, NULL);
    jw_array_end(&j);
    jw_array_end(&j);
    assert_int_equal(jw_finish(&j), -1);
    wbuf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed_cases),  cmocka_unit_test(test_refuses_what_dumps_refuses),
        cmocka_unit_test(test_random_trees), cmocka_unit_test(test_jw_matches_tree),
        cmocka_unit_test(test_jw_refuses),   cmocka_unit_test(test_escape_at_every_position),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
