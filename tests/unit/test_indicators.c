/*
 * Unit tests for the evaluation module's small pieces: China Standard Time
 * days, the period parser, percentiles (nearest rank), and handling time in
 * working hours across a weekend, a holiday (National Day 2026) and a
 * make-up working day (2026-10-10, a Saturday).
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
#include "indicators.h"
#include "stats.h"

/* Epoch seconds of a China Standard Time wall-clock time. */
static int64_t cst(int y, int mo, int d, int h, int mi)
{
    return stats_day_start(y * 10000 + mo * 100 + d) + h * 3600 + mi * 60;
}

static void test_days(void **state)
{
    (void)state;
    /* 2026-10-31T17:00:00Z is 2026-11-01 01:00 in China */
    assert_int_equal(stats_day(1793466000), 20261101);
    assert_int_equal(stats_day(1793466000 - 3600 - 1), 20261031);
    assert_int_equal(stats_day(0), 19700101);
    assert_int_equal(stats_day_add(20261231, 1), 20270101);
    assert_int_equal(stats_day_add(20240228, 1), 20240229);
    assert_int_equal(stats_day_add(20260301, -1), 20260228);
    assert_int_equal(stats_day_wday(20261123), 1); /* Monday */
    assert_int_equal(stats_day_wday(20261129), 7);
    assert_int_equal(stats_day(stats_day_start(20261123)), 20261123);
    assert_int_equal(month_add(202612, 1), 202701);
    assert_int_equal(month_add(202601, -1), 202512);
    assert_int_equal(month_add(202610, -12), 202510);
}

static void test_periods(void **state)
{
    (void)state;
    int a, b;
    assert_int_equal(period_parse("2026-10-05", &a, &b), 0);
    assert_int_equal(a, 20261005);
    assert_int_equal(b, 20261005);
    assert_int_equal(period_parse("2026-10", &a, &b), 0);
    assert_int_equal(a, 20261001);
    assert_int_equal(b, 20261031);
    assert_int_equal(period_parse("2028-02", &a, &b), 0);
    assert_int_equal(b, 20280229);
    assert_int_equal(period_parse("2026-Q4", &a, &b), 0);
    assert_int_equal(a, 20261001);
    assert_int_equal(b, 20261231);
    assert_int_equal(period_parse("2026", &a, &b), 0);
    assert_int_equal(a, 20260101);
    assert_int_equal(b, 20261231);
    /* ISO weeks: 2026-W01 starts on Monday 2025-12-29; 2026 has 53 weeks */
    assert_int_equal(period_parse("2026-W01", &a, &b), 0);
    assert_int_equal(a, 20251229);
    assert_int_equal(b, 20260104);
    assert_int_equal(period_parse("2026-W48", &a, &b), 0);
    assert_int_equal(a, 20261123);
    assert_int_equal(period_parse("2026-W53", &a, &b), 0);
    assert_int_equal(period_parse("2027-W53", &a, &b), -1);
    /* a week that runs past the last year kept (found by fuzz_period) */
    assert_int_equal(period_parse("2100-W52", &a, &b), -1);
    assert_int_equal(period_parse("2100-W51", &a, &b), 0);
    assert_true(b <= 21001231);
    assert_int_equal(period_parse("2026-10-01..2026-10-15", &a, &b), 0);
    assert_int_equal(a, 20261001);
    assert_int_equal(b, 20261015);
    static const char *const bad[] = {"", "2026-13", "2026-00", "2026-02-29", "2026-Q5", "2026-Q0",
                                      "2026-W00", "1999", "2101", "2026-1", "2026-10-1",
                                      "2026-10-15..2026-10-01", "2026-10-01..", "..2026-10-01",
                                      "2000-01-01..2026-01-01", "2026-10-05x", "20261005",
                                      "２０２６", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(period_parse(bad[i], &a, &b), -1);
    assert_int_equal(period_parse(NULL, &a, &b), -1);
    assert_int_equal(month_parse("2026-10"), 202610);
    assert_int_equal(month_parse("2026-1"), -1);
    assert_int_equal(month_parse("2026-13"), -1);
    assert_int_equal(ind_group_parse("dept"), IG_DEPT);
    assert_int_equal(ind_group_parse("planet"), -1);
}

static void test_percentiles(void **state)
{
    (void)state;
    int64_t one[] = {7};
    assert_int_equal(ind_percentile(one, 1, 90), 7);
    assert_int_equal(ind_percentile(one, 0, 90), -1);
    int64_t ten[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    assert_int_equal(ind_percentile(ten, 10, 90), 9);  /* rank ⌈9⌉ = 9 */
    assert_int_equal(ind_percentile(ten, 10, 91), 10); /* rank ⌈9.1⌉ = 10 */
    assert_int_equal(ind_percentile(ten, 10, 50), 5);
    assert_int_equal(ind_percentile(ten, 10, 100), 10);
    assert_int_equal(ind_percentile(ten, 10, 1), 1);
    assert_int_equal(ind_percentile(ten, 10, 0), 1); /* at least rank 1 */
    int64_t eleven[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    assert_int_equal(ind_percentile(eleven, 11, 90), 10); /* ⌈9.9⌉ = 10 */
}

static calendar cal;

static int setup(void **state)
{
    (void)state;
    calendar_init(&cal);
    const struct asset *a = asset_find("data/calendar-2026.json");
    if (!a)
        return -1;
    struct cal_year y;
    werr e;
    if (calendar_parse_year((const char *)a->data, a->len, &y, &e) != WOK)
        return -1;
    calendar_put_year(&cal, &y);
    return 0;
}

/* Handling time is counted in working minutes (08:30–12:00, 14:00–17:30
 * on working days), floor of the working seconds. */
static void test_working_minutes(void **state)
{
    (void)state;
    /* within one morning */
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 11, 23, 9, 0), cst(2026, 11, 23, 10, 30), 1), 90);
    /* across lunch: 11:00–15:00 is 1 h + 1 h */
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 11, 23, 11, 0), cst(2026, 11, 23, 15, 0), 1), 120);
    /* from Friday 17:00 to Monday 09:00: 30 min Friday + 30 min Monday */
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 11, 27, 17, 0), cst(2026, 11, 30, 9, 0), 1), 60);
    /* a report in the evening, closed the next morning */
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 11, 23, 20, 0), cst(2026, 11, 24, 8, 45), 1), 15);
    /* National Day: 2026-09-30 17:00 → 2026-10-08 09:00: 30 min on 30 Sep,
     * nothing from 1 to 7 October, 30 min on the 8th */
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 9, 30, 17, 0), cst(2026, 10, 8, 9, 0), 1), 60);
    /* the make-up working day Saturday 2026-10-10 counts in full (7 h) */
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 10, 10, 0, 0), cst(2026, 10, 11, 0, 0), 1), 420);
    /* an ordinary Saturday does not */
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 10, 17, 0, 0), cst(2026, 10, 18, 0, 0), 1), 0);
    /* seconds are floored to whole minutes; reversed ranges are 0 */
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 11, 23, 9, 0), cst(2026, 11, 23, 9, 0) + 119, 1), 1);
    assert_int_equal(calendar_minutes_between(&cal, cst(2026, 11, 24, 9, 0), cst(2026, 11, 23, 9, 0), 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_days),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_percentiles),
        cmocka_unit_test_setup(test_working_minutes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
