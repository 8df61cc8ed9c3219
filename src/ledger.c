/*
 * ledger.c — the problem ledger (问题台账) and 销号 (see ledger.h).
 * Lists read the orders through the grid index (orders_grid: grid_code,
 * created_at) with a LIMIT; a subtree is the code range [code, code "~").
 */
#include "ledger.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "indicators.h"
#include "order.h"
#include "report.h"

static const char *const ledger_cols[] = {"code:工单号 order",
                                          "reported:上报时间 reported:time",
                                          "grid:网格 grid",
                                          "category:事项 category",
                                          "problem:问题 problem",
                                          "address:地址 address",
                                          "state:状态 state",
                                          "dept:责任部门 department",
                                          "deadline:时限 deadline:time",
                                          "result:办理结果 result",
                                          "ticked:销号 ticked off",
                                          NULL};

static void fmt_local(int64_t t, char out[32])
{
    if (t <= 0) {
        out[0] = '\0';
        return;
    }
    clock_format_local(t, out);
    if (strlen(out) >= 16) {
        out[10] = ' ';
        out[16] = '\0';
    }
}

static int final_state(int st)
{
    return st == OS_CLOSED || st == OS_RATED || st == OS_ONSITE;
}

/* One ledger row from the columns of the query below. */
static json_t *ledger_row(db_stmt *s)
{
    char rep[32], dl[32], tk[32], cl[32];
    fmt_local(db_col_int64(s, 2), rep);
    fmt_local(db_col_int64(s, 9), dl);
    fmt_local(db_col_int64(s, 12), tk);
    fmt_local(db_col_int64(s, 10), cl);
    int st = order_state_parse(db_col_text(s, 7));
    char result[160];
    const char *rating = db_col_text(s, 11);
    if (st == OS_REJECTED)
        snprintf(result, sizeof result, "不予立案");
    else if (st == OS_MERGED)
        snprintf(result, sizeof result, "已合并");
    else if (final_state(st))
        snprintf(result, sizeof result, "%s %s%s%s", st == OS_ONSITE ? "即时办结" : "已办结", cl,
                 rating ? " · 评价 " : "",
                 rating ? (strcmp(rating, "satisfied") == 0 ? "满意"
                           : strcmp(rating, "basic") == 0   ? "基本满意"
                                                            : "不满意")
                        : "");
    else
        snprintf(result, sizeof result, "办理中");
    char desc[160];
    const char *dtext = db_col_text(s, 5) ? db_col_text(s, 5) : "";
    /* at most ~40 characters of the description (UTF-8 safe) */
    size_t n = 0, chars = 0;
    while (dtext[n] && chars < 40 && n < sizeof desc - 8) {
        n++;
        while (((unsigned char)dtext[n] & 0xC0) == 0x80)
            n++;
        chars++;
    }
    snprintf(desc, sizeof desc, "%.*s%s", (int)n, dtext, dtext[n] ? "…" : "");
    return json_pack("[s, s, s, s, s, s, s, s, s, s, s]", db_col_text(s, 1) ?: "", rep,
                     db_col_text(s, 3) ?: "", db_col_text(s, 4) ?: "", desc,
                     db_col_text(s, 6) ?: "", order_state_zh(st), db_col_text(s, 8) ?: "", dl,
                     result, db_col_is_null(s, 12) ? "" : tk);
}

#define LEDGER_SELECT                                                                         \
    "SELECT o.id, o.code, o.created_at, o.grid_code, o.category_code, o.description, "        \
    "o.address, o.state, d.name, o.deadline, o.closed_at, o.rating, t.ticked_at FROM orders " \
    "o LEFT JOIN departments d ON d.id = o.lead_dept_id LEFT JOIN ledger_ticks t ON "         \
    "t.order_id = o.id "

static int scope_grid(const principal *who, const char *grid, werr *e)
{
    if (!grid || !*grid)
        return werr_set(e, W_EINVALID, "invalid_field", "grid: a grid code is required");
    if (who && who->scope_kind != SCOPE_ALL && !scope_covers_grid(who, grid))
        return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                        "grid: outside the grids you are responsible for");
    return WOK;
}

static void grid_hi(const char *grid, char *hi, size_t cap)
{
    snprintf(hi, cap, "%s~", grid); /* codes are digits: '~' sorts after them all */
}

static json_t *grid_title(db *d, const char *grid)
{
    db_stmt *s = db_query(d, "SELECT name FROM grids WHERE code = ?", "t", grid);
    json_t *out = NULL;
    if (s && db_step(s) == DB_ROW && db_col_text(s, 0))
        out = json_string(db_col_text(s, 0));
    db_done(s);
    return out ? out : json_string(grid);
}

int ledger_doc(db *d, const principal *who, const ledger_query *q, json_t **out, werr *e)
{
    int rc = scope_grid(who, q->grid, e);
    if (rc != WOK)
        return rc;
    const char *state = q->state ? q->state : "all";
    if (strcmp(state, "all") && strcmp(state, "open") && strcmp(state, "closed") &&
        strcmp(state, "ticked"))
        return werr_set(e, W_EINVALID, "invalid_field", "state: open, closed, ticked or all");
    char hi[80];
    grid_hi(q->grid, hi, sizeof hi);
    int limit = q->limit > 0 && q->limit <= 5000 ? q->limit : 1000;
    db_stmt *s = db_query(d,
                          LEDGER_SELECT "WHERE o.grid_code >= ? AND o.grid_code < ? AND "
                                        "o.created_at >= ? AND o.created_at < ? "
                                        "ORDER BY o.created_at, o.id LIMIT ?",
                          "ttIIi", q->grid, hi, stats_day_start(q->from),
                          stats_day_start(stats_day_add(q->to, 1)), limit);
    if (!s)
        return werr_set(e, W_EINTERNAL, "db_error", "ledger query failed");
    json_t *gname = grid_title(d, q->grid);
    char title[200];
    snprintf(title, sizeof title, "%s 问题台账", json_string_value(gname));
    json_t *sec = report_section("ledger", "问题台账 problem ledger", ledger_cols);
    int total = 0, open = 0, ticked = 0;
    while (db_step(s) == DB_ROW) {
        int st = order_state_parse(db_col_text(s, 7));
        int is_ticked = !db_col_is_null(s, 12);
        int is_open = !final_state(st) && st != OS_REJECTED && st != OS_MERGED;
        if ((strcmp(state, "open") == 0 && !is_open) ||
            (strcmp(state, "closed") == 0 && !final_state(st)) ||
            (strcmp(state, "ticked") == 0 && !is_ticked))
            continue;
        total++;
        open += is_open;
        ticked += is_ticked;
        json_t *row = ledger_row(s);
        json_array_append_new(row, json_integer(db_col_int64(s, 0))); /* id, not shown */
        json_array_append_new(report_rows(sec), row);
    }
    db_done(s);
    char note[200];
    snprintf(note, sizeof note, "共 %d 件，办理中 %d 件，已销号 %d 件 (total %d, open %d, ticked off %d)",
             total, open, ticked, total, open, ticked);
    json_object_set_new(sec, "note", json_string(note));
    char sub[160], from[16], to[16];
    snprintf(from, sizeof from, "%04d-%02d-%02d", q->from / 10000, q->from / 100 % 100,
             q->from % 100);
    snprintf(to, sizeof to, "%04d-%02d-%02d", q->to / 10000, q->to / 100 % 100, q->to % 100);
    snprintf(sub, sizeof sub, "网格 %s · %s 至 %s", q->grid, from, to);
    char gen[32];
    clock_format_local(clock_now(), gen);
    *out = json_pack("{s:s, s:s, s:s, s:s, s:[o], s:i, s:i, s:i}", "title", title, "subtitle",
                     sub, "generated_at", gen, "grid", q->grid, "sections", sec, "total", total,
                     "open", open, "ticked", ticked);
    json_decref(gname);
    return WOK;
}

int ledger_week_doc(db *d, const principal *who, const char *grid, int monday, int64_t now,
                    json_t **out, werr *e)
{
    int rc = scope_grid(who, grid, e);
    if (rc != WOK)
        return rc;
    char hi[80];
    grid_hi(grid, hi, sizeof hi);
    int64_t mon = stats_day_start(monday), thu = stats_day_start(stats_day_add(monday, 3));
    int64_t next = stats_day_start(stats_day_add(monday, 7));
    json_t *gname = grid_title(d, grid);
    char title[200];
    snprintf(title, sizeof title, "%s 周问题清单", json_string_value(gname));
    json_decref(gname);
    /* 1. collected Monday–Wednesday */
    json_t *s1 = report_section("collected", "一、本周一至周三收集的问题 collected Mon–Wed",
                                ledger_cols);
    db_stmt *s = db_query(d,
                          LEDGER_SELECT "WHERE o.grid_code >= ? AND o.grid_code < ? AND "
                                        "o.created_at >= ? AND o.created_at < ? "
                                        "ORDER BY o.created_at, o.id LIMIT 2000",
                          "ttII", grid, hi, mon, thu);
    while (s && db_step(s) == DB_ROW)
        json_array_append_new(report_rows(s1), ledger_row(s));
    db_done(s);
    /* 2. still open from before (not closed, reported before Monday) */
    json_t *s2 = report_section("open", "二、往期未办结问题 still open from before", ledger_cols);
    s = db_query(d,
                 LEDGER_SELECT "WHERE o.grid_code >= ? AND o.grid_code < ? AND o.created_at < ? "
                               "AND o.state IN ('submitted', 'accepted', 'dispatched', "
                               "'signed', 'feedback', 'rework') ORDER BY o.created_at, o.id "
                               "LIMIT 2000",
                 "ttI", grid, hi, mon);
    while (s && db_step(s) == DB_ROW)
        json_array_append_new(report_rows(s2), ledger_row(s));
    db_done(s);
    /* 3. ticked off this week */
    json_t *s3 = report_section("ticked", "三、本周销号 ticked off this week", ledger_cols);
    s = db_query(d,
                 LEDGER_SELECT "WHERE t.ticked_at >= ? AND t.ticked_at < ? AND o.grid_code >= ? "
                               "AND o.grid_code < ? ORDER BY t.ticked_at LIMIT 2000",
                 "IItt", mon, next, grid, hi);
    while (s && db_step(s) == DB_ROW)
        json_array_append_new(report_rows(s3), ledger_row(s));
    db_done(s);
    char sub[300], thu_s[16], fri_s[16];
    int thu_d = stats_day_add(monday, 3), fri_d = stats_day_add(monday, 4);
    snprintf(thu_s, sizeof thu_s, "%d月%d日", thu_d / 100 % 100, thu_d % 100);
    snprintf(fri_s, sizeof fri_s, "%d月%d日", fri_d / 100 % 100, fri_d % 100);
    snprintf(sub, sizeof sub,
             "网格员周一至周三收集，%s(周四)汇总，%s(周五)交包保单位 · grid %s", thu_s, fri_s,
             grid);
    char gen[32];
    clock_format_local(now, gen);
    *out = json_pack("{s:s, s:s, s:s, s:[o, o, o]}", "title", title, "subtitle", sub,
                     "generated_at", gen, "sections", s1, s2, s3);
    return WOK;
}

struct tick_ctx {
    const principal *who;
    const audit_actor *a;
    int64_t id;
    const char *note;
    int64_t at;
    werr *e;
};

static int tick_tx(db *d, void *arg)
{
    struct tick_ctx *c = arg;
    db_stmt *s = db_query(d, "SELECT state, grid_code FROM orders WHERE id = ?", "I", c->id);
    if (!s)
        return werr_set(c->e, W_EINTERNAL, "db_error", "cannot read the order");
    if (db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no order %lld", (long long)c->id);
    }
    int st = order_state_parse(db_col_text(s, 0));
    char grid[64];
    snprintf(grid, sizeof grid, "%s", db_col_text(s, 1) ? db_col_text(s, 1) : "");
    db_done(s);
    if (c->who && c->who->scope_kind != SCOPE_ALL && !scope_covers_grid(c->who, grid))
        return werr_set(c->e, W_EFORBIDDEN, "out_of_scope",
                        "order %lld is outside the grids you are responsible for",
                        (long long)c->id);
    if (!final_state(st))
        return werr_set(c->e, W_ECONFLICT, "not_closed",
                        "未办结的问题不能销号 (order %lld is %s; only closed problems are "
                        "ticked off)",
                        (long long)c->id, order_state_name(st));
    int rc = db_exec(d,
                     "INSERT INTO ledger_ticks (order_id, ticked_at, ticked_by, note) VALUES (?, "
                     "?, ?, ?)",
                     "IIIt", c->id, c->at, c->who ? c->who->user_id : (int64_t)0, c->note);
    if (rc == W_ECONFLICT)
        return werr_set(c->e, W_ECONFLICT, "already_ticked", "order %lld is already ticked off",
                        (long long)c->id);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "db_error", "cannot tick off");
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:s?}", "note", c->note);
    rc = audit_record(d, c->a, "ledger.tick", "order", idbuf, detail);
    json_decref(detail);
    return rc;
}

int ledger_tick(store *st, const principal *who, const audit_actor *a, int64_t order_id,
                const char *note, json_t **out, werr *e)
{
    struct tick_ctx c = {who, a, order_id, note, clock_now(), e};
    int rc = store_write(st, tick_tx, &c);
    if (rc == WOK && out) {
        char when[32];
        clock_format(c.at, when);
        *out = json_pack("{s:I, s:s, s:b}", "order_id", (json_int_t)order_id, "ticked_at", when,
                         "ticked", 1);
    }
    return rc;
}
