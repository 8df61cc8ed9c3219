/*
 * api_eval.c — handlers of the evaluation module: dashboard, indicators,
 * the aggregate check, assessment (scores and their rules), the monthly
 * report, the problem ledger and joint analysis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"
#include "api.h"
#include "assessment.h"
#include "audit.h"
#include "clock.h"
#include "indicators.h"
#include "ledger.h"
#include "report.h"
#include "validate.h"

/* ?month=YYYY-MM (default: the current month). */
static int q_month(http_req *r, int *month, werr *e)
{
    const char *m = NULL;
    int rc = qfield_text(r, "month", FIELD_OPTIONAL, 7, &m, e);
    if (rc != WOK)
        return rc;
    if (!m) {
        *month = stats_day(clock_now()) / 100;
        return WOK;
    }
    *month = month_parse(m);
    if (*month < 0)
        return werr_set(e, W_EINVALID, "invalid_query", "month: YYYY-MM, e.g. 2026-10");
    return WOK;
}

static void send_doc(http_resp *w, json_t *doc, int format, const char *name)
{
    if (format == REPORT_JSON) {
        resp_json(w, 200, doc);
        return;
    }
    werr e = {0};
    char *out = NULL;
    size_t len = 0;
    int rc = report_render(doc, format, &out, &len, &e);
    json_decref(doc);
    if (rc != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (format != REPORT_HTML) {
        char cd[200];
        snprintf(cd, sizeof cd, "attachment; filename=\"%s.%s\"", name, report_extension(format));
        resp_header(w, "Content-Disposition", cd);
    }
    resp_bytes(w, 200, report_content_type(format), out, len);
}

/* ---- dashboard -------------------------------------------------------------- */

static json_t *counts_of(const ind_row *r)
{
    json_t *j = ind_row_json(r);
    json_t *c = json_incref(json_object_get(j, "counts"));
    json_t *rates = json_object_get(j, "rates");
    const char *k;
    json_t *v;
    json_object_foreach(rates, k, v) json_object_set(c, k, json_object_get(v, "value"));
    json_decref(j);
    return c;
}

void h_stats_dashboard(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t now = clock_now();
    int today = stats_day(now);
    ind_filter base = {0};
    base.dept_id = -1;
    base.now = now;
    base.no_p90 = 1;
    char gridbuf[64];
    if (indicators_scope(r->who, &base, gridbuf, sizeof gridbuf, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_snapshot(r, w); /* today's balances are taken from the month's */
    if (!d)
        return;
    json_t *out = json_object();
    ind_result res, month;
    int rc;
    /* this month, with the balances of now (overdue now, unsigned past the
     * response limit: a count over the held orders of the whole city) */
    ind_filter f = base;
    month_range(today / 100, &f.from, &f.to);
    f.to = today;
    if ((rc = indicators_query(d, &f, &month, &e)) == WOK) {
        /* today: the same balances of now, taken from the month's row */
        f = base;
        f.from = f.to = today;
        f.no_now = 1;
        if ((rc = indicators_query(d, &f, &res, &e)) == WOK) {
            if (res.n && month.n) {
                res.rows[0].overdue_now = month.rows[0].overdue_now;
                res.rows[0].unsigned_overdue_now = month.rows[0].unsigned_overdue_now;
            }
            json_object_set_new(out, "today", res.n ? counts_of(&res.rows[0]) : json_object());
            ind_result_free(&res);
        }
        json_object_set_new(out, "month", month.n ? counts_of(&month.rows[0]) : json_object());
        ind_result_free(&month);
    }
    /* the last 30 days */
    f = base;
    f.from = stats_day_add(today, -29);
    f.to = today;
    f.group = IG_DAY;
    f.counts_only = 1;
    if (rc == WOK && (rc = indicators_query(d, &f, &res, &e)) == WOK) {
        json_t *trend = json_array();
        for (int i = 0; i < res.n; i++) {
            const int64_t *v = res.rows[i].v;
            json_array_append_new(
                trend, json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "date", res.rows[i].key,
                                 "received", (json_int_t)v[SC_received], "dispatched",
                                 (json_int_t)v[SC_dispatched], "closed", (json_int_t)v[SC_closed],
                                 "onsite", (json_int_t)v[SC_onsite], "overdue",
                                 (json_int_t)v[SC_overdue_done]));
        }
        json_object_set_new(out, "trend", trend);
        ind_result_free(&res);
    }
    /* categories this month */
    f = base;
    month_range(today / 100, &f.from, &f.to);
    f.group = IG_CATEGORY;
    f.counts_only = 1;
    if (rc == WOK && (rc = indicators_query(d, &f, &res, &e)) == WOK) {
        json_t *cats = json_array();
        for (int i = 0; i < res.n; i++)
            if (res.rows[i].v[SC_received])
                json_array_append_new(cats, json_pack("{s:s, s:I, s:I}", "category",
                                                      res.rows[i].key, "received",
                                                      (json_int_t)res.rows[i].v[SC_received],
                                                      "closed",
                                                      (json_int_t)res.rows[i].v[SC_closed]));
        json_object_set_new(out, "categories", cats);
        ind_result_free(&res);
    }
    /* department ranking of the month */
    json_t *a = NULL;
    if (rc == WOK && (rc = assessment_month(d, today / 100, ASSESS_DEPT, now, 0, &a, &e)) == WOK) {
        json_t *rank = json_array();
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(a, "items"), i, it)
        {
            json_array_append_new(rank, json_pack("{s:O, s:O, s:O, s:O}", "dept",
                                                  json_object_get(it, "subject"), "label",
                                                  json_object_get(it, "label"), "score",
                                                  json_object_get(it, "score"), "rank",
                                                  json_object_get(it, "rank")));
        }
        json_object_set_new(out, "ranking", rank);
        json_decref(a);
    }
    /* hotspots of the month */
    if (rc == WOK) {
        json_t *hot = json_array();
        db_stmt *s = db_query(d,
                              "SELECT h.grid_code, g.name, h.category_code, h.n FROM "
                              "stats_hot_monthly h LEFT JOIN grids g ON g.code = h.grid_code "
                              "WHERE h.month = ? ORDER BY h.n DESC, h.grid_code LIMIT 200",
                              "i", today / 100);
        while (s && db_step(s) == DB_ROW && json_array_size(hot) < 10) {
            const char *g = db_col_text(s, 0) ? db_col_text(s, 0) : "";
            if (base.grid && strncmp(g, base.grid, strlen(base.grid)) != 0)
                continue;
            json_array_append_new(hot, json_pack("{s:s, s:s, s:s, s:I}", "grid", g, "name",
                                                 db_col_text(s, 1) ? db_col_text(s, 1) : g,
                                                 "category",
                                                 db_col_text(s, 2) ? db_col_text(s, 2) : "",
                                                 "count", (json_int_t)db_col_int64(s, 3)));
        }
        db_done(s);
        json_object_set_new(out, "hotspots", hot);
    }
    store_release(r->st, d);
    if (rc != WOK) {
        json_decref(out);
        resp_werr(w, &e);
        return;
    }
    char when[32];
    clock_format(now, when);
    json_object_set_new(out, "now", json_string(when));
    resp_json(w, 200, out);
}

/* ---- indicators ------------------------------------------------------------- */

void h_stats_indicators(http_req *r, http_resp *w)
{
    werr e = {0};
    ind_filter f = {0};
    f.dept_id = -1;
    f.now = clock_now();
    const char *period = NULL, *from = NULL, *to = NULL, *group = NULL;
    int64_t dept = -1;
    if (qfield_text(r, "period", FIELD_OPTIONAL, 40, &period, &e) != WOK ||
        qfield_text(r, "from", FIELD_OPTIONAL, 10, &from, &e) != WOK ||
        qfield_text(r, "to", FIELD_OPTIONAL, 10, &to, &e) != WOK ||
        qfield_int(r, "dept", FIELD_OPTIONAL, 0, INT64_MAX, &dept, &e) != WOK ||
        qfield_text(r, "grid", FIELD_OPTIONAL, 60, &f.grid, &e) != WOK ||
        qfield_text(r, "category", FIELD_OPTIONAL, 32, &f.category, &e) != WOK ||
        qfield_text(r, "channel", FIELD_OPTIONAL, 32, &f.channel, &e) != WOK ||
        qfield_text(r, "group_by", FIELD_OPTIONAL, 16, &group, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    f.dept_id = dept;
    if (f.grid && !valid_code(f.grid)) {
        resp_error(w, 422, "invalid_query", "grid: a grid code");
        return;
    }
    if (period) {
        if (period_parse(period, &f.from, &f.to) != 0) {
            resp_error(w, 422, "invalid_query",
                       "period: 2026-10-05, 2026-W41, 2026-10, 2026-Q4, 2026 or "
                       "2026-10-01..2026-10-15");
            return;
        }
    } else if (from || to) {
        char range[32];
        snprintf(range, sizeof range, "%s..%s", from ? from : "", to ? to : "");
        if (!from || !to || period_parse(range, &f.from, &f.to) != 0) {
            resp_error(w, 422, "invalid_query",
                       "from, to: both dates YYYY-MM-DD, from <= to, at most 10 years apart");
            return;
        }
    } else {
        /* default: the current month up to today */
        int today = stats_day(f.now);
        month_range(today / 100, &f.from, &f.to);
    }
    f.group = ind_group_parse(group);
    if (f.group < 0) {
        resp_error(w, 422, "invalid_query",
                   "group_by: dept, street, community, category, channel, day, week or month");
        return;
    }
    char gridbuf[64];
    if (indicators_scope(r->who, &f, gridbuf, sizeof gridbuf, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = indicators_json(d, &f, &out, &e);
    store_release(r->st, d);
    if (rc != WOK)
        resp_werr(w, &e);
    else
        resp_json(w, 200, out);
}

void h_stats_check(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *from = NULL, *to = NULL;
    if (qfield_text(r, "from", FIELD_OPTIONAL, 7, &from, &e) != WOK ||
        qfield_text(r, "to", FIELD_OPTIONAL, 7, &to, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    int64_t now = clock_now();
    int cur = stats_day(now) / 100;
    int fm = from ? month_parse(from) : month_add(cur, -12);
    int tm = to ? month_parse(to) : cur;
    if (fm < 0 || tm < 0 || tm < fm || tm > month_add(fm, 240)) {
        resp_error(w, 422, "invalid_query", "from, to: months YYYY-MM, from <= to");
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *report = NULL;
    int n = indicators_check(d, fm, tm, now, &report, &e);
    store_release(r->st, d);
    if (n < 0) {
        resp_werr(w, &e);
        return;
    }
    char a[16], b[16];
    snprintf(a, sizeof a, "%04d-%02d", fm / 100, fm % 100);
    snprintf(b, sizeof b, "%04d-%02d", tm / 100, tm % 100);
    resp_json(w, 200, json_pack("{s:b, s:i, s:s, s:s, s:o}", "ok", n == 0, "differences", n,
                                "from", a, "to", b, "items", report));
}

/* ---- assessment -------------------------------------------------------------- */

void h_assessment(http_req *r, http_resp *w)
{
    werr e = {0};
    int month;
    const char *kind = NULL;
    if (q_month(r, &month, &e) != WOK ||
        qfield_text(r, "kind", FIELD_OPTIONAL, 16, &kind, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    int k = assessment_kind_parse(kind);
    if (k < 0) {
        resp_error(w, 422, "invalid_query", "kind: dept, street or community");
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = assessment_month(d, month, k, clock_now(), 1, &out, &e);
    store_release(r->st, d);
    if (rc != WOK)
        resp_werr(w, &e);
    else
        resp_json(w, 200, out);
}

void h_assessment_rules_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int month;
    if (q_month(r, &month, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *cur = NULL, *hist = NULL;
    int rc = assessment_rules_for_month(d, month, &cur, &e);
    if (rc == WOK)
        rc = assessment_rules_history(d, &hist, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        json_decref(cur);
        resp_werr(w, &e);
        return;
    }
    json_object_set_new(cur, "history", json_incref(json_object_get(hist, "items")));
    json_object_set_new(cur, "default", json_incref(json_object_get(hist, "default")));
    json_decref(hist);
    resp_json(w, 200, cur);
}

void h_assessment_rules_put(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *valid_from = NULL;
    if (jfield_text(r->json, "valid_from", FIELD_OPTIONAL, 10, 40, &valid_from, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    json_t *rules = json_object_get(r->json, "rules");
    if (!rules) {
        resp_error(w, 422, "invalid_field", "rules: required");
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    if (assessment_rules_save(r->st, &a, rules, valid_from, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, out);
}

/* ---- monthly report ------------------------------------------------------------ */

void h_report_monthly(http_req *r, http_resp *w)
{
    werr e = {0};
    int month;
    const char *fmt = NULL;
    if (q_month(r, &month, &e) != WOK ||
        qfield_text(r, "format", FIELD_OPTIONAL, 8, &fmt, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    int format = report_format_parse(fmt);
    if (format < 0) {
        resp_error(w, 422, "invalid_query", "format: html, csv, xlsx or json");
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *doc = NULL;
    int rc = report_monthly(r->st, d, month, clock_now(), &doc, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        resp_werr(w, &e);
        return;
    }
    char name[40];
    snprintf(name, sizeof name, "monthly-report-%04d-%02d", month / 100, month % 100);
    send_doc(w, doc, format, name);
}

/* ---- ledger ------------------------------------------------------------------- */

void h_ledger(http_req *r, http_resp *w)
{
    werr e = {0};
    ledger_query q = {0};
    const char *period = NULL, *fmt = NULL;
    int64_t limit = 1000;
    if (qfield_text(r, "grid", FIELD_REQUIRED, 60, &q.grid, &e) != WOK ||
        qfield_text(r, "period", FIELD_OPTIONAL, 40, &period, &e) != WOK ||
        qfield_text(r, "state", FIELD_OPTIONAL, 8, &q.state, &e) != WOK ||
        qfield_text(r, "format", FIELD_OPTIONAL, 8, &fmt, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 5000, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    q.limit = (int)limit;
    if (!valid_code(q.grid)) {
        resp_error(w, 422, "invalid_query", "grid: a grid code");
        return;
    }
    if (period) {
        if (period_parse(period, &q.from, &q.to) != 0) {
            resp_error(w, 422, "invalid_query", "period: a day, week, month, quarter, year or range");
            return;
        }
    } else {
        int today = stats_day(clock_now());
        month_range(today / 100, &q.from, &q.to);
    }
    int format = report_format_parse(fmt ? fmt : "json");
    if (format < 0) {
        resp_error(w, 422, "invalid_query", "format: json, html, csv or xlsx");
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *doc = NULL;
    int rc = ledger_doc(d, r->who, &q, &doc, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        resp_werr(w, &e);
        return;
    }
    char name[100];
    snprintf(name, sizeof name, "ledger-%s", q.grid);
    send_doc(w, doc, format, name);
}

void h_ledger_week(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *grid = NULL, *week = NULL, *fmt = NULL;
    if (qfield_text(r, "grid", FIELD_REQUIRED, 60, &grid, &e) != WOK ||
        qfield_text(r, "week", FIELD_OPTIONAL, 10, &week, &e) != WOK ||
        qfield_text(r, "format", FIELD_OPTIONAL, 8, &fmt, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (!valid_code(grid)) {
        resp_error(w, 422, "invalid_query", "grid: a grid code");
        return;
    }
    int64_t now = clock_now();
    int monday, sunday;
    if (week) {
        if (strlen(week) != 8 || week[5] != 'W' || period_parse(week, &monday, &sunday) != 0) {
            resp_error(w, 422, "invalid_query", "week: an ISO week, e.g. 2026-W47");
            return;
        }
    } else {
        int today = stats_day(now);
        monday = stats_day_add(today, 1 - stats_day_wday(today));
    }
    int format = report_format_parse(fmt ? fmt : "html");
    if (format < 0) {
        resp_error(w, 422, "invalid_query", "format: html, csv, xlsx or json");
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *doc = NULL;
    int rc = ledger_week_doc(d, r->who, grid, monday, now, &doc, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        resp_werr(w, &e);
        return;
    }
    char name[100];
    snprintf(name, sizeof name, "ledger-week-%s-%d", grid, monday);
    send_doc(w, doc, format, name);
}

void h_ledger_tick(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    const char *note = NULL;
    if (param_id(r, "id", &id, &e) != WOK ||
        (r->json && jfield_text(r->json, "note", FIELD_OPTIONAL, 0, 500, &note, &e) != WOK)) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    if (ledger_tick(r->st, r->who, &a, id, note, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, out);
}

/* ---- joint analysis ----------------------------------------------------------- */

void h_analysis(http_req *r, http_resp *w)
{
    werr e = {0};
    int month;
    int64_t days = 30;
    if (q_month(r, &month, &e) != WOK ||
        qfield_int(r, "days", FIELD_OPTIONAL, 1, 365, &days, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = analysis_month(r->st, d, r->who, month, (int)days, &out, &e);
    store_release(r->st, d);
    if (rc != WOK)
        resp_werr(w, &e);
    else
        resp_json(w, 200, out);
}
