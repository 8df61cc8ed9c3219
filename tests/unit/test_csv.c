/*
 * Unit tests for the CSV reader (csv.h): RFC 4180 quoting, line ends,
 * the quirks of Chinese Excel exports, encodings (UTF-8 with and without
 * BOM, GBK/GB18030, UTF-16LE), separators, line numbers, malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"
#include "registry.h"

static void expect_record(csv_reader *r, int line, int n, const char *const *want)
{
    assert_int_equal(csv_next(r), 1);
    assert_int_equal(r->record_line, line);
    assert_int_equal(r->nfields, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(r->fields[i], want[i]);
}

static void test_rfc4180(void **state)
{
    (void)state;
    const char *in = "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\r\nlines\"\r\n,,last\r\nend";
    csv_reader r;
    werr e = {0};
    assert_int_equal(csv_open(&r, in, strlen(in), &e), WOK);
    assert_string_equal(r.encoding, "utf-8");
    assert_int_equal(r.delim, ',');
    expect_record(&r, 1, 3, (const char *[]){"a", "b", "c"});
    expect_record(&r, 2, 3, (const char *[]){"x, y", "say \"hi\"", "two\r\nlines"});
    expect_record(&r, 4, 3, (const char *[]){"", "", "last"});
    expect_record(&r, 5, 1, (const char *[]){"end"});
    assert_int_equal(csv_next(&r), 0);
    csv_close(&r);
}

static void test_excel_quirks(void **state)
{
    (void)state;
    /* BOM, a title line, empty rows of commas, a lone CR, tab separators */
    const char *in = "\xEF\xBB\xBF姓名\t身份证号\n \t \n\t\n张三\t=\"0123\"\r李四\tab\"c\n";
    csv_reader r;
    werr e = {0};
    assert_int_equal(csv_open(&r, in, strlen(in), &e), WOK);
    assert_string_equal(r.encoding, "utf-8-bom");
    assert_int_equal(r.delim, '\t');
    expect_record(&r, 1, 2, (const char *[]){"姓名", "身份证号"});
    expect_record(&r, 4, 2, (const char *[]){"张三", "=\"0123\""});
    expect_record(&r, 5, 2, (const char *[]){"李四", "ab\"c"});
    assert_int_equal(csv_next(&r), 0);
    csv_close(&r);
    /* cell cleaning: spaces (full-width too), ="…", the ' before a number */
    char c1[] = "  =\"0123\"\t", c2[] = "\xE3\x80\x80 张三 \xE3\x80\x80", c3[] = "'511402199001010021";
    assert_string_equal(reg_clean_cell(c1), "0123");
    assert_string_equal(reg_clean_cell(c2), "张三");
    assert_string_equal(reg_clean_cell(c3), "511402199001010021");
    char d[11];
    assert_int_equal(reg_parse_date("1990/1/2", d), 0);
    assert_string_equal(d, "1990-01-02");
    assert_int_equal(reg_parse_date("1990年12月31日", d), 0);
    assert_string_equal(d, "1990-12-31");
    assert_int_equal(reg_parse_date("19900229", d), -1);
}

static void test_gbk_and_utf16(void **state)
{
    (void)state;
    /* "姓名,小区\n张三,幸福里\n" in GBK */
    const char gbk[] = "\xD0\xD5\xC3\xFB,\xD0\xA1\xC7\xF8\n\xD5\xC5\xC8\xFD,\xD0\xD2\xB8\xA3\xC0\xEF\n";
    csv_reader r;
    werr e = {0};
    assert_int_equal(csv_open(&r, gbk, sizeof gbk - 1, &e), WOK);
    assert_string_equal(r.encoding, "gb18030");
    expect_record(&r, 1, 2, (const char *[]){"姓名", "小区"});
    expect_record(&r, 2, 2, (const char *[]){"张三", "幸福里"});
    csv_close(&r);
    /* UTF-16LE with BOM, as Excel's "Unicode text" saves it: "a\tb\n" */
    const char u16[] = "\xFF\xFE" "a\0\t\0b\0\n\0";
    assert_int_equal(csv_open(&r, u16, sizeof u16 - 1, &e), WOK);
    assert_string_equal(r.encoding, "utf-16le");
    expect_record(&r, 1, 2, (const char *[]){"a", "b"});
    csv_close(&r);
    /* not valid in any: a lone 0xFF byte */
    const char bad[] = "a,b\n\xFF\xFF\xFF,c\n";
    assert_int_equal(csv_open(&r, bad, sizeof bad - 1, &e), W_EINVALID);
    csv_close(&r);
}

static void test_malformed(void **state)
{
    (void)state;
    const char *in = "a,b\n\"open,c\nd,e\n";
    csv_reader r;
    werr e = {0};
    assert_int_equal(csv_open(&r, in, strlen(in), &e), WOK);
    expect_record(&r, 1, 2, (const char *[]){"a", "b"});
    assert_int_equal(csv_next(&r), -1);
    assert_non_null(strstr(r.error, "line 2"));
    csv_close(&r);
    /* too many columns */
    char *wide = malloc(CSV_MAX_FIELDS * 2 + 10);
    size_t n = 0;
    for (int i = 0; i < CSV_MAX_FIELDS + 5; i++)
        wide[n++] = ',';
    assert_int_equal(csv_open(&r, wide, n, &e), WOK);
    assert_int_equal(csv_next(&r), -1);
    csv_close(&r);
    free(wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4180),
        cmocka_unit_test(test_excel_quirks),
        cmocka_unit_test(test_gbk_and_utf16),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
