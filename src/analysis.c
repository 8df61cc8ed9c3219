/*
 * analysis.c — joint analysis (联动分析), see analysis.h.
 */
#include "analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "clock.h"
#include "indicators.h"

static const char *cat_name(catalog *cat, const char *code)
{
    const struct cat_category *c = cat && code ? catalog_find(cat, code) : NULL;
    return c && c->name ? c->name : (code ? code : "");
}

static int in_scope(const principal *who, const char *grid)
{
    return !who || who->scope_kind == SCOPE_ALL || scope_covers_grid(who, grid);
}

static json_t *order_link(int64_t id, const char *code, int64_t at)
{
    char when[32];
    clock_format_local(at, when);
    char href[64];
    snprintf(href, sizeof href, "/api/v1/orders/%lld", (long long)id);
    return json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id, "code", code ? code : "",
                     "reported", when, "href", href);
}

/* Recurrences within one hot (grid, category): orders of the pair from
 * `days` before the month to its end, in time order; a recurrence is an
 * order that follows another of the same address (or, without address,
 * the same grid) within `days`. */
static void recurring_pair(db *d, const char *grid, const char *category, int64_t lo,
                           int64_t month_start, int64_t hi, int days, catalog *cat, json_t *list)
{
    db_stmt *s = db_query(d,
                          "SELECT id, code, created_at, coalesce(address, '') FROM orders WHERE "
                          "grid_code = ? AND created_at >= ? AND created_at < ? AND "
                          "category_code = ? AND state NOT IN ('rejected', 'merged') "
                          "ORDER BY created_at, id LIMIT 500",
                          "tIIt", grid, lo, hi, category);
    struct rec {
        int64_t id, at;
        char code[16];
        char addr[128];
        int used;
    } *o = calloc(500, sizeof *o);
    int n = 0;
    if (!o) {
        db_done(s);
        return;
    }
    while (s && db_step(s) == DB_ROW && n < 500) {
        o[n].id = db_col_int64(s, 0);
        snprintf(o[n].code, sizeof o[n].code, "%s", db_col_text(s, 1) ? db_col_text(s, 1) : "");
        o[n].at = db_col_int64(s, 2);
        snprintf(o[n].addr, sizeof o[n].addr, "%s", db_col_text(s, 3));
        n++;
    }
    db_done(s);
    /* group by address ("" = the grid as a whole) */
    for (int i = 0; i < n; i++) {
        if (o[i].used)
            continue;
        json_t *orders = json_array();
        int64_t last = o[i].at;
        int count = 1, in_month = o[i].at >= month_start;
        json_array_append_new(orders, order_link(o[i].id, o[i].code, o[i].at));
        o[i].used = 1;
        for (int j = i + 1; j < n; j++) {
            if (o[j].used || strcmp(o[j].addr, o[i].addr) != 0)
                continue;
            if (o[j].at - last > (int64_t)days * 86400)
                break;
            o[j].used = 1;
            json_array_append_new(orders, order_link(o[j].id, o[j].code, o[j].at));
            last = o[j].at;
            count++;
            in_month |= o[j].at >= month_start;
        }
        if (count >= 2 && in_month) {
            json_t *item = json_pack("{s:s, s:s, s:s, s:i, s:o}", "grid", grid, "category",
                                     category, "category_name", cat_name(cat, category), "count",
                                     count, "orders", orders);
            if (o[i].addr[0])
                json_object_set_new(item, "address", json_string(o[i].addr));
            json_array_append_new(list, item);
        } else {
            json_decref(orders);
        }
    }
    free(o);
}

int analysis_month(store *st, db *d, const principal *who, int month, int days, json_t **out,
                   werr *e)
{
    int from, to;
    month_range(month, &from, &to);
    int64_t mstart = stats_day_start(from), mend = stats_day_start(stats_day_add(to, 1));
    catalog *cat = catalog_current(st);
    json_t *recurring = json_array(), *hot = json_array(), *rising = json_array();
    /* hotspots and the candidate pairs for recurrence */
    db_stmt *s = db_query(d,
                          "SELECT h.grid_code, h.category_code, h.n, g.name FROM "
                          "stats_hot_monthly h LEFT JOIN grids g ON g.code = h.grid_code "
                          "WHERE h.month = ? AND h.n >= 2 ORDER BY h.n DESC, h.grid_code "
                          "LIMIT 200",
                          "i", month);
    json_t *pairs = json_array();
    while (s && db_step(s) == DB_ROW) {
        const char *grid = db_col_text(s, 0) ? db_col_text(s, 0) : "";
        if (!in_scope(who, grid))
            continue;
        const char *c = db_col_text(s, 1) ? db_col_text(s, 1) : "";
        if (json_array_size(hot) < 20) {
            char href[200];
            snprintf(href, sizeof href, "/api/v1/orders?grid=%s&category=%s", grid, c);
            json_array_append_new(
                hot, json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "grid", grid, "grid_name",
                               db_col_text(s, 3) ? db_col_text(s, 3) : grid, "category", c,
                               "category_name", cat_name(cat, c), "count",
                               (json_int_t)db_col_int64(s, 2), "orders_href", href));
        }
        json_array_append_new(pairs, json_pack("[s, s]", grid, c));
    }
    db_done(s);
    size_t i;
    json_t *p;
    json_array_foreach(pairs, i, p)
    {
        recurring_pair(d, json_string_value(json_array_get(p, 0)),
                       json_string_value(json_array_get(p, 1)), mstart - (int64_t)days * 86400,
                       mstart, mend, days, cat, recurring);
    }
    json_decref(pairs);
    /* categories rising month on month (whole county; categories are not
     * personal data) */
    int pfrom, pto;
    month_range(month_add(month, -1), &pfrom, &pto);
    s = db_query(d,
                 "SELECT category_code, SUM(CASE WHEN day >= ? THEN received ELSE 0 END) AS cur, "
                 "SUM(CASE WHEN day < ? THEN received ELSE 0 END) AS prev FROM stats_cat_monthly "
                 "WHERE day >= ? AND day <= ? GROUP BY category_code",
                 "iiii", from, from, pfrom, to);
    while (s && db_step(s) == DB_ROW) {
        int64_t cur = db_col_int64(s, 1), prev = db_col_int64(s, 2);
        if (cur <= prev)
            continue;
        const char *c = db_col_text(s, 0) ? db_col_text(s, 0) : "";
        char href[120];
        snprintf(href, sizeof href, "/api/v1/orders?category=%s", c);
        json_array_append_new(
            rising, json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:s}", "category", c,
                              "category_name", cat_name(cat, c), "count", (json_int_t)cur,
                              "previous", (json_int_t)prev, "increase", (json_int_t)(cur - prev),
                              "growth", prev ? json_real((double)(cur - prev) / (double)prev) : json_null(),
                              "orders_href", href));
    }
    db_done(s);
    if (cat)
        catalog_release(cat);
    char m[16];
    snprintf(m, sizeof m, "%04d-%02d", month / 100, month % 100);
    *out = json_pack("{s:s, s:i, s:o, s:o, s:o}", "month", m, "days", days, "recurring",
                     recurring, "hotspots", hot, "rising", rising);
    (void)e;
    return WOK;
}
