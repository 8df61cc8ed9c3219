/* libFuzzer: the period and month parsers of the evaluation module
 * (?period=, ?month=, ?week=, ?group_by=), with the invariants they
 * promise: a parsed period is a valid, ordered range of real days that
 * re-parses to itself when written as a range. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "indicators.h"
#include "stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    int from, to;
    if (period_parse(s, &from, &to) == 0) {
        if (from > to || from < 20000101 || to > 21001231)
            abort();
        /* real days: the day after the last day is a later date */
        if (stats_day_add(to, 1) <= to || stats_day(stats_day_start(from)) != from)
            abort();
        char range[64];
        snprintf(range, sizeof range, "%04d-%02d-%02d..%04d-%02d-%02d", from / 10000,
                 from / 100 % 100, from % 100, to / 10000, to / 100 % 100, to % 100);
        int f2, t2;
        if (period_parse(range, &f2, &t2) != 0 || f2 != from || t2 != to)
            abort();
    }
    int m = month_parse(s);
    if (m >= 0) {
        int a, b;
        month_range(m, &a, &b);
        if (a / 100 != m || b / 100 != m || month_add(month_add(m, 1), -1) != m)
            abort();
    }
    (void)ind_group_parse(s);
    free(s);
    return 0;
}
