/*
 * cli_eval.c — `whistle report monthly` and the aggregate part of
 * `whistle check` (the evaluation module's command line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "cli.h"
#include "clock.h"
#include "indicators.h"
#include "report.h"

int cmd_report(int argc, char **argv)
{
    const char *usage = "monthly --month YYYY-MM [--format html|csv|xlsx|json] [--out FILE]";
    struct cli_flag flags[] = {
        {"db", "WHISTLE_DB", "database file", 0, "whistle.db"},
        {"month", NULL, "the month, e.g. 2026-10 (default: the current month)", 0, NULL},
        {"format", NULL, "html (prints on A4), csv, xlsx or json", 0, "html"},
        {"out", NULL, "write to this file instead of standard output", 0, NULL},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[2];
    int npos;
    cli_parse("report", usage, flags, argc, argv, pos, 1, &npos);
    if (npos != 1 || strcmp(pos[0], "monthly") != 0)
        cli_usage_error("report", usage, "name the report: monthly");
    int64_t now = clock_now();
    const char *m = cli_get(flags, "month");
    int month = m ? month_parse(m) : stats_day(now) / 100;
    if (month < 0)
        cli_usage_error("report", usage, "--month %s: expected YYYY-MM, e.g. 2026-10", m);
    int format = report_format_parse(cli_get(flags, "format"));
    if (format < 0)
        cli_usage_error("report", usage, "--format %s: expected html, csv, xlsx or json",
                        cli_get(flags, "format"));
    const char *path = cli_get(flags, "out");
    if (format == REPORT_XLSX && !path)
        cli_usage_error("report", usage, "--format xlsx needs --out FILE");
    store *st = cli_open_store(cli_get(flags, "db"));
    werr e = {0};
    calendar_load(st, &e);
    db *d = store_reader(st);
    json_t *doc = NULL;
    int rc = d ? report_monthly(st, d, month, now, &doc, &e) : W_EINTERNAL;
    store_release(st, d);
    char *out = NULL;
    size_t len = 0;
    if (rc == WOK)
        rc = report_render(doc, format, &out, &len, &e);
    json_decref(doc);
    store_close(st);
    if (rc != WOK) {
        fprintf(stderr, "whistle report: %s\n", e.message[0] ? e.message : "failed");
        return 1;
    }
    FILE *f = path ? fopen(path, "wb") : stdout;
    if (!f) {
        fprintf(stderr, "whistle report: cannot write %s\n", path);
        free(out);
        return 1;
    }
    size_t wrote = fwrite(out, 1, len, f);
    free(out);
    if (path && fclose(f) != 0)
        wrote = 0;
    if (wrote != len) {
        fprintf(stderr, "whistle report: write failed\n");
        return 1;
    }
    if (path)
        fprintf(stderr, "monthly report %04d-%02d written to %s (%zu bytes)\n", month / 100,
                month % 100, path, len);
    return 0;
}

int eval_check(store *st, const char *from, const char *to, const char *at)
{
    werr e = {0};
    int64_t now = clock_now();
    if (at && clock_parse(at, &now) != 0) {
        fprintf(stderr, "whistle check: --now: an RFC 3339 time\n");
        return 2;
    }
    int cur = stats_day(now) / 100;
    int fm = from ? month_parse(from) : -2, tm = to ? month_parse(to) : cur;
    if (fm == -1 || tm < 0) {
        fprintf(stderr, "whistle check: months are YYYY-MM\n");
        return 2;
    }
    db *d = store_reader(st);
    if (!d)
        return 1;
    if (fm == -2) {
        /* from the first month with events */
        db_stmt *s = db_query(d, "SELECT min(at) FROM order_events", "");
        fm = cur;
        if (s && db_step(s) == DB_ROW && !db_col_is_null(s, 0))
            fm = stats_day(db_col_int64(s, 0)) / 100;
        db_done(s);
    }
    calendar_load(st, &e);
    json_t *report = NULL;
    int n = indicators_check(d, fm, tm, now, &report, &e);
    store_release(st, d);
    if (n < 0) {
        fprintf(stderr, "whistle check: aggregates: %s\n", e.message);
        return 1;
    }
    size_t i;
    json_t *it;
    json_array_foreach(report, i, it)
    {
        if (i == 50) {
            fprintf(stderr, "… and %d more\n", n - 50);
            break;
        }
        fprintf(stderr, "aggregate mismatch %s %s %s %s: aggregates %lld, recomputed %lld\n",
                json_string_value(json_object_get(it, "month")),
                json_string_value(json_object_get(it, "group")),
                json_string_value(json_object_get(it, "key")),
                json_string_value(json_object_get(it, "indicator")),
                (long long)json_integer_value(json_object_get(it, "aggregates")),
                (long long)json_integer_value(json_object_get(it, "recomputed")));
    }
    json_decref(report);
    if (n > 0) {
        fprintf(stderr, "whistle check: %d aggregate differences\n", n);
        return 1;
    }
    printf("aggregates ok (%04d-%02d to %04d-%02d: every indicator for every department, street "
           "and community equals the recomputation from the timeline)\n",
           fm / 100, fm % 100, tm / 100, tm % 100);
    return 0;
}
