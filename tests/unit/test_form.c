/* Unit tests for form.c: application/x-www-form-urlencoded bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "form.h"

static int parse(const char *s, form *f)
{
    werr e = {0};
    return form_parse(s, strlen(s), f, &e);
}

static void test_basic(void **state)
{
    (void)state;
    form f;
    assert_int_equal(parse("api_key=wt_1&service_code=0201&lat=30.05&long=103.51", &f), WOK);
    assert_int_equal(f.n, 4);
    assert_string_equal(form_get(&f, "service_code"), "0201");
    assert_string_equal(form_get(&f, "long"), "103.51");
    assert_null(form_get(&f, "missing"));
    form_free(&f);
}

static void test_decoding(void **state)
{
    (void)state;
    form f;
    /* '+' is a space, %XX a byte (UTF-8 of 井盖), brackets in keys */
    assert_int_equal(parse("description=%E4%BA%95%E7%9B%96+lost%21&attribute%5Bkind%5D=sewer"
                           "&attribute[t][]=a&attribute[t][]=b&x=%3c%26%3E",
                           &f),
                     WOK);
    assert_string_equal(form_get(&f, "description"), "井盖 lost!");
    assert_string_equal(form_get(&f, "attribute[kind]"), "sewer");
    assert_string_equal(form_get(&f, "attribute[t][]"), "a"); /* the first */
    assert_int_equal(f.n, 5);
    assert_string_equal(f.f[3].value, "b");
    assert_string_equal(form_get(&f, "x"), "<&>");
    form_free(&f);
}

static void test_edges(void **state)
{
    (void)state;
    form f;
    assert_int_equal(parse("", &f), WOK);
    assert_int_equal(f.n, 0);
    form_free(&f);
    assert_int_equal(parse("&&a=1&&b&c=&", &f), WOK);
    assert_int_equal(f.n, 3);
    assert_string_equal(form_get(&f, "a"), "1");
    assert_string_equal(form_get(&f, "b"), "");
    assert_string_equal(form_get(&f, "c"), "");
    form_free(&f);
    assert_int_equal(parse("a=1=2", &f), WOK); /* only the first '=' splits */
    assert_string_equal(form_get(&f, "a"), "1=2");
    form_free(&f);
}

static void test_refused(void **state)
{
    (void)state;
    form f;
    werr e = {0};
    assert_int_equal(form_parse("a=%zz", 5, &f, &e), W_EBADREQ);
    assert_string_equal(e.code, "bad_form");
    assert_int_equal(f.n, 0);
    assert_int_equal(parse("a=%4", &f), W_EBADREQ);   /* truncated escape */
    assert_int_equal(parse("a=%", &f), W_EBADREQ);
    assert_int_equal(parse("a=%00", &f), W_EBADREQ);  /* NUL */
    assert_int_equal(parse("a=%C3%28", &f), W_EBADREQ); /* not UTF-8 */
    assert_int_equal(parse("%FF=1", &f), W_EBADREQ);
    /* an embedded NUL byte in the raw body */
    assert_int_equal(form_parse("a=1\0b=2", 7, &f, &e), W_EBADREQ);
    /* too many fields */
    char *many = malloc(FORM_MAX_FIELDS * 4 + 16);
    size_t n = 0;
    for (int i = 0; i <= FORM_MAX_FIELDS; i++)
        n += (size_t)sprintf(many + n, "a=1&");
    assert_int_equal(form_parse(many, n, &f, &e), W_EBADREQ);
    free(many);
    /* a key that is too long */
    char key[FORM_MAX_KEY + 10];
    memset(key, 'k', sizeof key - 3);
    strcpy(key + sizeof key - 3, "=1");
    assert_int_equal(parse(key, &f), W_EBADREQ);
    form_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
