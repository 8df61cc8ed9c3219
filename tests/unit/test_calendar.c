/*
 * Unit tests for the working-day calendar: the shipped 2026 calendar
 * (holidays and make-up working days of the State Council notice), and
 * deadlines across a weekend, a holiday and a make-up working day.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "assets.h"
#include "calendar.h"

/* Epoch seconds of a China Standard Time wall-clock time. */
static int64_t cst(int y, int mo, int d, int h, int mi)
{
    /* days from civil (proleptic Gregorian) */
    y -= mo <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = era * 146097 + doe - 719468;
    return days * 86400 + h * 3600 + mi * 60 - 8 * 3600;
}

static calendar cal2026;

static int setup(void **state)
{
    (void)state;
    calendar_init(&cal2026);
    const struct asset *a = asset_find("data/calendar-2026.json");
    if (!a)
        return -1;
    struct cal_year y;
    werr e = {0};
    if (calendar_parse_year((const char *)a->data, a->len, &y, &e) != WOK)
        return -1;
    calendar_put_year(&cal2026, &y);
    return 0;
}

static void test_days_2026(void **state)
{
    (void)state;
    assert_false(calendar_is_workday(&cal2026, cst(2026, 1, 1, 10, 0)));  /* 元旦 Thursday */
    assert_true(calendar_is_workday(&cal2026, cst(2026, 1, 4, 10, 0)));   /* make-up Sunday */
    assert_true(calendar_is_workday(&cal2026, cst(2026, 1, 5, 10, 0)));   /* Monday */
    assert_false(calendar_is_workday(&cal2026, cst(2026, 1, 10, 10, 0))); /* Saturday */
    assert_false(calendar_is_workday(&cal2026, cst(2026, 2, 17, 10, 0))); /* 春节 */
    assert_true(calendar_is_workday(&cal2026, cst(2026, 2, 14, 10, 0)));  /* make-up Saturday */
    assert_true(calendar_is_workday(&cal2026, cst(2026, 2, 28, 10, 0)));
    assert_false(calendar_is_workday(&cal2026, cst(2026, 10, 7, 10, 0))); /* 国庆 */
    assert_true(calendar_is_workday(&cal2026, cst(2026, 10, 10, 10, 0))); /* make-up Saturday */
    assert_true(calendar_is_workday(&cal2026, cst(2026, 9, 20, 10, 0)));  /* make-up Sunday */
    /* local midnight, not UTC midnight: 2026-10-08 00:30 CST is 2026-10-07 16:30 UTC */
    assert_true(calendar_is_workday(&cal2026, cst(2026, 10, 8, 0, 30)));
}

static void test_deadline_weekend(void **state)
{
    (void)state;
    /* Friday 16:00 + 2 working hours: 1.5 h on Friday, 0.5 h on Monday */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 3, 13, 16, 0), 120, 1),
                     cst(2026, 3, 16, 9, 0));
    /* + 8 working hours ends Monday 17:00 */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 3, 13, 16, 0), 480, 1),
                     cst(2026, 3, 16, 17, 0));
    /* a report at lunch time counts from 14:00 */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 3, 16, 12, 30), 60, 1),
                     cst(2026, 3, 16, 15, 0));
    /* a report on Saturday night counts from Monday 08:30 */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 3, 14, 22, 0), 30, 1),
                     cst(2026, 3, 16, 9, 0));
    /* natural time ignores all of it */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 3, 13, 16, 0), 120, 0),
                     cst(2026, 3, 13, 18, 0));
}

static void test_deadline_holiday(void **state)
{
    (void)state;
    /* Wednesday 30 September 16:00: 国庆 1–7 October, then Thursday 8th */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 9, 30, 16, 0), 120, 1),
                     cst(2026, 10, 8, 9, 0));
    /* Thursday 24 September 16:00: 中秋 25–27, Monday 28th */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 9, 24, 16, 0), 120, 1),
                     cst(2026, 9, 28, 9, 0));
    /* Saturday 14 February (make-up) 16:00: 春节 15–23, Tuesday 24th */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 2, 14, 16, 0), 120, 1),
                     cst(2026, 2, 24, 9, 0));
}

static void test_deadline_makeup_day(void **state)
{
    (void)state;
    /* Friday 9 October 16:00: Saturday 10th is a make-up working day */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 10, 9, 16, 0), 120, 1),
                     cst(2026, 10, 10, 9, 0));
    /* Friday 13 February 16:00: Saturday 14th is a make-up working day */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 2, 13, 16, 0), 120, 1),
                     cst(2026, 2, 14, 9, 0));
    /* Saturday 3 January 16:00 is a holiday; Sunday 4th is a make-up working day */
    assert_int_equal(calendar_add(&cal2026, cst(2026, 1, 3, 16, 0), 60, 1),
                     cst(2026, 1, 4, 9, 30));
}

static void test_minutes_between_inverts_add(void **state)
{
    (void)state;
    srand(2026);
    int64_t base = cst(2026, 1, 1, 0, 0);
    for (int i = 0; i < 3000; i++) {
        int64_t start = base + (int64_t)(rand() % (360 * 86400));
        int64_t minutes = 1 + rand() % (60 * 24 * 5);
        int64_t end = calendar_add(&cal2026, start, minutes, 1);
        assert_true(end > start);
        assert_int_equal(calendar_minutes_between(&cal2026, start, end, 1), minutes);
        /* a deadline never falls outside working time */
        assert_true(calendar_is_workday(&cal2026, end));
    }
    assert_int_equal(calendar_minutes_between(&cal2026, cst(2026, 3, 13, 16, 0),
                                              cst(2026, 3, 16, 9, 0), 1),
                     120);
    assert_int_equal(calendar_minutes_between(&cal2026, 100, 50, 1), 0);
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct cal_year y;
    werr e = {0};
    const char *bad[] = {
        "",
        "[]",
        "{\"year\":1999}",
        "{\"year\":2026,\"holidays\":[\"2026-02-30\"]}",
        "{\"year\":2026,\"holidays\":[\"2027-01-01\"]}",
        "{\"year\":2026,\"holidays\":[\"2026-01-01\",\"2026-01-01\"]}",
        "{\"year\":2026,\"workdays\":\"2026-01-04\"}",
        "{\"year\":2026,\"hours\":[[\"12:00\",\"08:30\"]]}",
        "{\"year\":2026,\"hours\":[[\"14:00\",\"17:30\"],[\"08:30\",\"12:00\"]]}",
        "{\"year\":2026,\"hours\":[[\"25:00\",\"26:00\"]]}",
        "{\"year\":2026,\"hours\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(calendar_parse_year(bad[i], strlen(bad[i]), &y, &e), W_EINVALID);
    const char *good = "{\"year\":2027,\"hours\":[[\"09:00\",\"17:00\"]],\"holidays\":[],"
                       "\"workdays\":[\"2027-02-20\"]}";
    assert_int_equal(calendar_parse_year(good, strlen(good), &y, &e), WOK);
    calendar c;
    calendar_init(&c);
    calendar_put_year(&c, &y);
    /* 9:00–17:00 in 2027: Friday 16:00 + 2 h → Saturday 20 February (make-up) 10:00 */
    assert_int_equal(calendar_add(&c, cst(2027, 2, 19, 16, 0), 120, 1), cst(2027, 2, 20, 10, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days_2026),
        cmocka_unit_test(test_deadline_weekend),
        cmocka_unit_test(test_deadline_holiday),
        cmocka_unit_test(test_deadline_makeup_day),
        cmocka_unit_test(test_minutes_between_inverts_add),
        cmocka_unit_test(test_parse_errors),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
