/*
 * indicators.c — the indicators of docs/indicators.md from the aggregates
 * of stats.c. One query per table chooses the narrowest aggregate table
 * that can answer the filters and the grouping:
 *   department only        → stats_dept_daily
 *   street/community only  → stats_area_monthly (whole months)
 *   category only          → stats_cat_monthly (whole months)
 *   anything else          → stats_daily
 * then the per-order facts add what is a state, not a flow (overdue now,
 * holdings overdue and still going on), and stats_closes the exact
 * percentiles of handling time.
 */
#include "indicators.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- periods ------------------------------------------------------------ */

static int days_in_month(int y, int m)
{
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* Reads exactly n digits; -1 otherwise. */
static int digits(const char *s, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int valid_year(int y)
{
    return y >= 2000 && y <= 2100;
}

/* "YYYY-MM-DD" exactly (10 chars) → yyyymmdd, -1 otherwise. */
static int parse_date(const char *s, size_t len)
{
    if (len != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (!valid_year(y) || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return -1;
    return y * 10000 + m * 100 + d;
}

int month_parse(const char *s)
{
    if (!s || strlen(s) != 7 || s[4] != '-')
        return -1;
    int y = digits(s, 4), m = digits(s + 5, 2);
    if (!valid_year(y) || m < 1 || m > 12)
        return -1;
    return y * 100 + m;
}

void month_range(int month, int *from, int *to)
{
    int y = month / 100, m = month % 100;
    *from = y * 10000 + m * 100 + 1;
    *to = y * 10000 + m * 100 + days_in_month(y, m);
}

int month_add(int month, int n)
{
    int idx = (month / 100) * 12 + (month % 100 - 1) + n;
    return (idx / 12) * 100 + idx % 12 + 1;
}

/* Monday of ISO week 1 of year y. */
static int iso_week1_monday(int y)
{
    int jan4 = y * 10000 + 104;
    return stats_day_add(jan4, 1 - stats_day_wday(jan4));
}

int period_parse(const char *s, int *from, int *to)
{
    if (!s)
        return -1;
    size_t len = strlen(s);
    const char *dots = strstr(s, "..");
    if (dots) {
        int a = parse_date(s, (size_t)(dots - s));
        int b = parse_date(dots + 2, strlen(dots + 2));
        if (a < 0 || b < 0 || b < a)
            return -1;
        int64_t span = (stats_day_start(b) - stats_day_start(a)) / 86400;
        if (span > 3660)
            return -1;
        *from = a;
        *to = b;
        return 0;
    }
    if (len == 10) {
        int d = parse_date(s, len);
        if (d < 0)
            return -1;
        *from = *to = d;
        return 0;
    }
    if (len == 4) {
        int y = digits(s, 4);
        if (!valid_year(y))
            return -1;
        *from = y * 10000 + 101;
        *to = y * 10000 + 1231;
        return 0;
    }
    if (len == 7 && s[4] == '-' && s[5] == 'Q') {
        int y = digits(s, 4), q = digits(s + 6, 1);
        if (!valid_year(y) || q < 1 || q > 4)
            return -1;
        month_range(y * 100 + q * 3 - 2, from, to);
        int f2;
        month_range(y * 100 + q * 3, &f2, to);
        return 0;
    }
    if (len == 8 && s[4] == '-' && s[5] == 'W') {
        int y = digits(s, 4), w = digits(s + 6, 2);
        if (!valid_year(y) || w < 1)
            return -1;
        /* years with 53 ISO weeks: the next year's week 1 starts 53 weeks on */
        int weeks = stats_day_add(iso_week1_monday(y), 7 * 52) == iso_week1_monday(y + 1) ? 52 : 53;
        if (w > weeks)
            return -1;
        int a = stats_day_add(iso_week1_monday(y), 7 * (w - 1)), b = stats_day_add(a, 6);
        /* an ISO week may begin in the year before or end in the year after
         * its own: it must still lie within the years we keep (2000–2100) */
        if (a < 20000101 || b > 21001231)
            return -1;
        *from = a;
        *to = b;
        return 0;
    }
    if (len == 7) {
        int m = month_parse(s);
        if (m < 0)
            return -1;
        month_range(m, from, to);
        return 0;
    }
    return -1;
}

int ind_group_parse(const char *s)
{
    static const char *const names[] = {"",        "dept", "street", "community", "category",
                                        "channel", "day",  "week",   "month"};
    if (!s)
        return IG_NONE;
    for (int i = 0; i < (int)(sizeof names / sizeof names[0]); i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int64_t ind_percentile(const int64_t *sorted, int64_t n, int p)
{
    if (n <= 0)
        return -1;
    int64_t rank = (p * n + 99) / 100; /* ⌈p/100 × n⌉ */
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return sorted[rank - 1];
}

/* ---- the result set ------------------------------------------------------- */

struct acc {
    ind_result *r;
    int cap;
    json_t *index; /* key → position */
    int last;      /* position of the last key looked up, -1: none */
    int p90_store; /* save the percentiles of this closed month in the cache */
    /* handling minutes per row, for percentiles */
    int64_t **mins;
    int64_t *nmins, *capmins;
};

static ind_row *row_for(struct acc *a, const char *key)
{
    /* rows come grouped: the same key as the last one is common */
    if (a->last >= 0 && a->last < a->r->n && strcmp(a->r->rows[a->last].key, key) == 0)
        return &a->r->rows[a->last];
    json_t *pos = json_object_get(a->index, key);
    if (pos)
        a->last = (int)json_integer_value(pos);
    if (pos)
        return &a->r->rows[json_integer_value(pos)];
    if (a->r->n == a->cap) {
        int cap = a->cap ? a->cap * 2 : 16;
        ind_row *rows = realloc(a->r->rows, (size_t)cap * sizeof *rows);
        int64_t **mins = realloc(a->mins, (size_t)cap * sizeof *mins);
        if (mins)
            a->mins = mins;
        int64_t *nm = realloc(a->nmins, (size_t)cap * sizeof *nm);
        if (nm)
            a->nmins = nm;
        int64_t *cm = realloc(a->capmins, (size_t)cap * sizeof *cm);
        if (cm)
            a->capmins = cm;
        if (!rows || !mins || !nm || !cm) {
            if (rows)
                a->r->rows = rows;
            return NULL;
        }
        a->r->rows = rows;
        a->cap = cap;
    }
    int i = a->r->n++;
    ind_row *row = &a->r->rows[i];
    memset(row, 0, sizeof *row);
    snprintf(row->key, sizeof row->key, "%s", key);
    row->p90_minutes = -1;
    a->mins[i] = NULL;
    a->nmins[i] = a->capmins[i] = 0;
    json_object_set_new(a->index, key, json_integer(i));
    a->last = i;
    return row;
}

/* Handling times are kept as (minutes, count) pairs: one per close from
 * stats_closes, one per histogram bucket from stats_close_hist. */
static int add_minutes(struct acc *a, ind_row *row, int64_t m, int64_t count)
{
    int i = (int)(row - a->r->rows);
    if (a->nmins[i] + 2 > a->capmins[i]) {
        int64_t cap = a->capmins[i] ? a->capmins[i] * 2 : 16;
        int64_t *p = realloc(a->mins[i], (size_t)cap * sizeof *p);
        if (!p)
            return W_EINTERNAL;
        a->mins[i] = p;
        a->capmins[i] = cap;
    }
    a->mins[i][a->nmins[i]++] = m;
    a->mins[i][a->nmins[i]++] = count;
    return WOK;
}

static int cmp_pair(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* Nearest-rank percentile p of (minutes, count) pairs (sorted here). */
static int64_t pair_percentile(int64_t *pairs, int64_t npairs, int p)
{
    if (npairs > 0)
        qsort(pairs, (size_t)npairs, 2 * sizeof(int64_t), cmp_pair);
    int64_t total = 0;
    for (int64_t i = 0; i < npairs; i++)
        total += pairs[2 * i + 1];
    if (total <= 0)
        return -1;
    int64_t rank = (p * total + 99) / 100, seen = 0;
    if (rank < 1)
        rank = 1;
    for (int64_t i = 0; i < npairs; i++) {
        seen += pairs[2 * i + 1];
        if (seen >= rank)
            return pairs[2 * i];
    }
    return pairs[2 * (npairs - 1)];
}

static int is_int_key(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s) && *s != '-')
            return 0;
    return 1;
}

static int cmp_rows(const void *x, const void *y)
{
    const ind_row *a = x, *b = y;
    if (is_int_key(a->key) && is_int_key(b->key) && strlen(a->key) < 9 && strlen(b->key) < 9) {
        long long p = atoll(a->key), q = atoll(b->key);
        return (p > q) - (p < q);
    }
    return strcmp(a->key, b->key);
}

void ind_result_free(ind_result *r)
{
    if (r) {
        free(r->rows);
        r->rows = NULL;
        r->n = 0;
    }
}

/* ---- keys --------------------------------------------------------------- */

struct keyer {
    int group;
    int len_street, len_comm; /* area prefix lengths */
};

static void area_lengths(db *d, int *l1, int *l2)
{
    char out[2][64];
    /* a long fake code gives the prefix lengths */
    int n = stats_area_prefixes(d, "0000000000000000000000000000000000000000", out);
    *l1 = n > 0 ? (int)strlen(out[0]) : 9;
    *l2 = n > 1 ? (int)strlen(out[1]) : 12;
}

static void time_key(int group, int day, char *out, size_t cap)
{
    if (group == IG_DAY) {
        snprintf(out, cap, "%04d-%02d-%02d", day / 10000, day / 100 % 100, day % 100);
    } else if (group == IG_MONTH) {
        snprintf(out, cap, "%04d-%02d", day / 10000, day / 100 % 100);
    } else {
        /* ISO week: the Thursday of the week decides the year */
        int thu = stats_day_add(day, 4 - stats_day_wday(day));
        int y = thu / 10000;
        int w =
            (int)((stats_day_start(thu) - stats_day_start(iso_week1_monday(y))) / 86400 / 7) + 1;
        snprintf(out, cap, "%04d-W%02d", y, w);
    }
}

/* The group key of a row into out; 0 when the row is in no group: an
 * order filed above the street (community) level belongs to no street
 * (community), as in the area tables and the recomputation. */
static int make_key(const struct keyer *k, int64_t dept, const char *grid, const char *cat,
                    const char *chan, int day, char *out, size_t cap)
{
    switch (k->group) {
    case IG_DEPT:
        snprintf(out, cap, "%lld", (long long)dept);
        break;
    case IG_STREET:
    case IG_COMMUNITY: {
        int l = k->group == IG_STREET ? k->len_street : k->len_comm;
        if ((int)strlen(grid) < l)
            return 0;
        snprintf(out, cap, "%.*s", l, grid);
        break;
    }
    case IG_CATEGORY:
        snprintf(out, cap, "%s", cat);
        break;
    case IG_CHANNEL:
        snprintf(out, cap, "%s", chan);
        break;
    case IG_DAY:
    case IG_WEEK:
    case IG_MONTH:
        time_key(k->group, day, out, cap);
        break;
    default:
        out[0] = '\0';
    }
    return 1;
}

static int is_time_group(int g)
{
    return g == IG_DAY || g == IG_WEEK || g == IG_MONTH;
}

/* ---- the query ---------------------------------------------------------- */

enum { TB_DAILY, TB_DEPT, TB_AREA, TB_CAT };

static const char *col_sums(void)
{
    static char buf[2048];
    if (!buf[0]) {
        size_t n = 0;
        for (int c = 0; c < SC__COUNT; c++)
            n += (size_t)snprintf(buf + n, sizeof buf - n, ", SUM(%s)", stats_col_names[c]);
    }
    return buf;
}

/* 1 when [from, to] is a run of whole months. */
static int whole_months(int from, int to)
{
    int a, b;
    month_range(from / 100, &a, &b);
    if (from != a)
        return 0;
    month_range(to / 100, &a, &b);
    return to == b;
}

static int choose_table(const ind_filter *f, int len_street, int len_comm)
{
    int need_dept = f->dept_id >= 0 || f->group == IG_DEPT;
    int need_grid = f->grid != NULL || f->group == IG_STREET || f->group == IG_COMMUNITY;
    int need_cat = f->category != NULL || f->group == IG_CATEGORY;
    int need_chan = f->channel != NULL || f->group == IG_CHANNEL;
    if (!need_grid && !need_cat && !need_chan)
        return TB_DEPT;
    /* the monthly tables answer whole months, grouped by nothing finer */
    if (!whole_months(f->from, f->to) || f->group == IG_DAY || f->group == IG_WEEK)
        return TB_DAILY;
    if (need_grid && !need_dept && !need_cat && !need_chan) {
        int gl = f->grid ? (int)strlen(f->grid) : 0;
        if (f->group == IG_STREET && (gl == 0 || gl == len_street))
            return TB_AREA;
        if (f->group == IG_COMMUNITY && (gl == 0 || gl == len_street || gl == len_comm))
            return TB_AREA;
        if (f->group != IG_STREET && f->group != IG_COMMUNITY &&
            (gl == len_street || gl == len_comm))
            return TB_AREA;
    }
    if (need_cat && !need_dept && !need_grid && !need_chan && f->group != IG_CHANNEL)
        return TB_CAT;
    return TB_DAILY;
}

/* Runs sql (built for table tb) and calls back per row: the first column
 * is the key material (see key_cols), then the 27 sums. */
static int run_sums(db *d, int tb, const ind_filter *f, const struct keyer *k, int balance,
                    struct acc *a, int64_t *overall_carried, werr *e)
{
    char sql[4096];
    const char *table = tb == TB_DEPT   ? "stats_dept_daily"
                        : tb == TB_AREA ? "stats_area_monthly"
                        : tb == TB_CAT  ? "stats_cat_monthly"
                                        : "stats_daily";
    /* key material: dept, grid/area, category, channel, day */
    const char *kdept = (tb == TB_DEPT || tb == TB_DAILY) ? "dept_id" : "0";
    const char *kgrid = tb == TB_AREA ? "area_code" : (tb == TB_DAILY ? "grid_code" : "''");
    const char *kcat = (tb == TB_CAT || tb == TB_DAILY) ? "category_code" : "''";
    const char *kchan = tb == TB_DAILY ? "channel" : "''";
    int timeg = is_time_group(f->group);
    /* group on the key material the grouping needs (time: by day) */
    const char *gcol = "";
    char gbuf[96];
    switch (f->group) {
    case IG_DEPT:
        gcol = kdept;
        break;
    case IG_STREET:
    case IG_COMMUNITY:
        if (tb == TB_AREA)
            gcol = kgrid;
        else {
            snprintf(gbuf, sizeof gbuf, "substr(grid_code, 1, %d)",
                     f->group == IG_STREET ? k->len_street : k->len_comm);
            gcol = gbuf;
        }
        break;
    case IG_CATEGORY:
        gcol = kcat;
        break;
    case IG_CHANNEL:
        gcol = kchan;
        break;
    default:
        gcol = timeg ? "day" : "''";
    }
    if (balance && timeg)
        gcol = "''";
    const char *sel_grid = (f->group == IG_STREET || f->group == IG_COMMUNITY) ? gcol : "''";
    const char *sel_dept = f->group == IG_DEPT ? kdept : "0";
    const char *sel_cat = f->group == IG_CATEGORY ? kcat : "''";
    const char *sel_chan = f->group == IG_CHANNEL ? kchan : "''";
    const char *sel_day = (timeg && !balance) ? "day" : "0";
    size_t n = (size_t)snprintf(sql, sizeof sql, "SELECT %s, %s, %s, %s, %s", sel_dept, sel_grid,
                                sel_cat, sel_chan, sel_day);
    if (balance)
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              ", SUM(CASE WHEN day = 0 THEN inflow - outflow ELSE outflow - "
                              "inflow END)");
    else
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s", col_sums());
    n += (size_t)snprintf(sql + n, sizeof sql - n, " FROM %s WHERE %s", table,
                          balance ? "(day = 0 OR day >= ?) AND ? >= 0" : "day >= ? AND day <= ?");
    /* filters: each is a no-op when its parameter is NULL / negative */
    if (tb == TB_DEPT || tb == TB_DAILY)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " AND (? < 0 OR dept_id = ?)");
    else
        n += (size_t)snprintf(sql + n, sizeof sql - n, " AND ? = ?");
    if (tb == TB_DAILY)
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              " AND (? IS NULL OR substr(grid_code, 1, ?) = ?)"
                              " AND (? IS NULL OR category_code = ?)"
                              " AND (? IS NULL OR channel = ?)");
    else if (tb == TB_AREA)
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              " AND (? IS NULL OR substr(area_code, 1, ?) = ?)"
                              " AND (? IS NULL OR length(area_code) = ?)"
                              " AND (? IS NULL OR ? IS NULL)");
    else if (tb == TB_CAT)
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              " AND (? IS NULL OR ? = ?)"
                              " AND (? IS NULL OR category_code = ?)"
                              " AND (? IS NULL OR ? IS NULL)");
    else
        n += (size_t)snprintf(sql + n, sizeof sql - n,
                              " AND (? IS NULL OR ? = ?) AND (? IS NULL OR ? IS NULL)"
                              " AND (? IS NULL OR ? IS NULL)");
    if (strcmp(gcol, "''") != 0)
        n += (size_t)snprintf(sql + n, sizeof sql - n, " GROUP BY %s", gcol);
    if (n >= sizeof sql - 64)
        return werr_set(e, W_EINTERNAL, "internal", "indicator query too long");

    /* the area table: which level (length) to read */
    const char *lenarg = NULL;
    char lenbuf[8];
    if (tb == TB_AREA) {
        int want = f->group == IG_STREET      ? k->len_street
                   : f->group == IG_COMMUNITY ? k->len_comm
                                              : (int)strlen(f->grid);
        snprintf(lenbuf, sizeof lenbuf, "%d", want);
        lenarg = lenbuf;
    }
    int glen = f->grid ? (int)strlen(f->grid) : 0;
    db_stmt *s;
    int64_t dept = f->dept_id;
    if (tb == TB_DAILY)
        s = db_query(d, sql, "iiIItittttt", f->from, balance ? 0 : f->to, dept, dept, f->grid, glen,
                     f->grid, f->category, f->category, f->channel, f->channel);
    else if (tb == TB_AREA)
        s = db_query(d, sql, "iiiitittitt", f->from, balance ? 0 : f->to, 0, 0, f->grid, glen,
                     f->grid, lenarg, lenarg ? atoi(lenarg) : 0, NULL, NULL);
    else if (tb == TB_CAT)
        s = db_query(d, sql, "iiiittttttt", f->from, balance ? 0 : f->to, 0, 0, NULL, NULL, NULL,
                     f->category, f->category, NULL, NULL);
    else
        s = db_query(d, sql, "iiIIttttttt", f->from, balance ? 0 : f->to, dept, dept, NULL, NULL,
                     NULL, NULL, NULL, NULL, NULL);
    if (!s)
        return werr_set(e, W_EINTERNAL, "db_error", "indicator query failed: %s", db_errmsg(d));
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        char key[64];
        const char *g = db_col_text(s, 1), *c = db_col_text(s, 2), *ch = db_col_text(s, 3);
        int day = db_col_int(s, 4);
        if (balance && timeg) {
            *overall_carried += db_col_int64(s, 5);
            continue;
        }
        if (!make_key(k, db_col_int64(s, 0), g ? g : "", c ? c : "", ch ? ch : "", day, key,
                      sizeof key))
            continue;
        ind_row *row = row_for(a, key);
        if (!row) {
            db_done(s);
            return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        }
        if (balance)
            row->carried_in += db_col_int64(s, 5);
        else
            for (int col = 0; col < SC__COUNT; col++)
                row->v[col] += db_col_int64(s, 5 + col);
    }
    db_done(s);
    if (rc != DB_DONE)
        return werr_set(e, W_EINTERNAL, "db_error", "indicator query failed: %s", db_errmsg(d));
    return WOK;
}

/* Rows of the facts and closes tables pass this filter in C (they are few:
 * the orders held now, the closes of the period). */
static int passes(const ind_filter *f, int64_t dept, const char *grid, const char *cat,
                  const char *chan)
{
    if (f->dept_id >= 0 && dept != f->dept_id)
        return 0;
    if (f->grid && strncmp(grid, f->grid, strlen(f->grid)) != 0)
        return 0;
    if (f->category && strcmp(cat, f->category) != 0)
        return 0;
    if (f->channel && strcmp(chan, f->channel) != 0)
        return 0;
    return 1;
}

static const char *txt(db_stmt *s, int col)
{
    const char *t = db_col_text(s, col);
    return t ? t : "";
}

/* Percentiles of closed months never change (a close counts in the month
 * it happens), so the report's previous month and same month last year
 * are computed once per process. */
#define P90_CACHE 48
struct p90_item {
    char key[64];
    int64_t p90, closes;
};
static struct p90_entry {
    int month, group;
    int64_t dept;
    int n;
    struct p90_item *items;
} p90_cache[P90_CACHE];
static int p90_next;
static pthread_mutex_t p90_mu = PTHREAD_MUTEX_INITIALIZER;

static int p90_cache_apply(const ind_filter *f, struct acc *a)
{
    int hit = 0;
    pthread_mutex_lock(&p90_mu);
    for (int i = 0; i < P90_CACHE && !hit; i++) {
        struct p90_entry *c = &p90_cache[i];
        if (!c->items || c->month != f->from / 100 || c->group != f->group || c->dept != f->dept_id)
            continue;
        hit = 1;
        for (int j = 0; j < c->n; j++) {
            ind_row *row = row_for(a, c->items[j].key);
            if (row) {
                row->p90_minutes = c->items[j].p90;
                row->closes = c->items[j].closes;
            }
        }
    }
    pthread_mutex_unlock(&p90_mu);
    return hit;
}

static void p90_cache_store(const ind_filter *f, const ind_result *r)
{
    struct p90_item *items = calloc((size_t)r->n + 1, sizeof *items);
    if (!items)
        return;
    int n = 0;
    for (int i = 0; i < r->n; i++) {
        memcpy(items[n].key, r->rows[i].key, sizeof items[n].key);
        items[n].p90 = r->rows[i].p90_minutes;
        items[n].closes = r->rows[i].closes;
        n++;
    }
    pthread_mutex_lock(&p90_mu);
    struct p90_entry *c = &p90_cache[p90_next];
    p90_next = (p90_next + 1) % P90_CACHE;
    free(c->items);
    c->month = f->from / 100;
    c->group = f->group;
    c->dept = f->dept_id;
    c->n = n;
    c->items = items;
    pthread_mutex_unlock(&p90_mu);
}

static int add_facts(db *d, const ind_filter *f, const struct keyer *k, struct acc *a, werr *e)
{
    int64_t lo = stats_day_start(f->from), hi = stats_day_start(stats_day_add(f->to, 1));
    int timeg = is_time_group(f->group);
    int rc;
    db_stmt *s;
    char key[64];
    /* Department-level questions (the dashboard, the report) read the
     * per-department balance kept by the overdue job, plus the few held
     * orders whose deadline passed since the job last ran. Anything finer
     * scans the held orders past their deadline. */
    int cheap = !f->grid && !f->category && !f->channel &&
                (f->group == IG_NONE || f->group == IG_DEPT || timeg);
    if (f->no_facts)
        goto percentiles;
    if (cheap) {
        if (!timeg && !f->no_now) {
            s = db_query(d, "SELECT dept_id, n FROM stats_overdue_open WHERE n <> 0", "");
            while (s && (rc = db_step(s)) == DB_ROW) {
                int64_t dept = db_col_int64(s, 0);
                if (f->dept_id >= 0 && dept != f->dept_id)
                    continue;
                make_key(k, dept, "", "", "", 0, key, sizeof key);
                ind_row *row = row_for(a, key);
                if (row)
                    row->overdue_now += db_col_int64(s, 1);
            }
            db_done(s);
            /* one range count per department (stats_orders_unsigned_dept) */
            s = db_query(d,
                         "SELECT d.id, (SELECT COUNT(*) FROM stats_orders s WHERE s.state = "
                         "'dispatched' AND s.dept_id = d.id AND s.response_deadline > 0 AND "
                         "s.response_deadline < ?1) AS n FROM departments d WHERE (?2 < 0 OR "
                         "d.id = ?2)",
                         "II", f->now, f->dept_id);
            while (s && (rc = db_step(s)) == DB_ROW) {
                if (db_col_int64(s, 1) == 0)
                    continue;
                make_key(k, db_col_int64(s, 0), "", "", "", 0, key, sizeof key);
                ind_row *row = row_for(a, key);
                if (row)
                    row->unsigned_overdue_now += db_col_int64(s, 1);
            }
            db_done(s);
        }
        s = db_query(d,
                     "SELECT dept_id, grid_code, category_code, channel, hold_start, deadline, "
                     "0 FROM stats_orders WHERE holding = 1 AND overdue_marked = 0 AND "
                     "deadline > 0 AND deadline < ?",
                     "I", f->now);
    } else {
        s = db_query(d,
                     "SELECT dept_id, grid_code, category_code, channel, hold_start, deadline, "
                     "overdue_marked FROM stats_orders WHERE holding = 1 AND deadline > 0 AND "
                     "deadline < ?",
                     "I", f->now);
    }
    if (!s)
        return werr_set(e, W_EINTERNAL, "db_error", "facts query failed");
    while ((rc = db_step(s)) == DB_ROW) {
        int64_t dept = db_col_int64(s, 0);
        const char *grid = txt(s, 1), *cat = txt(s, 2), *chan = txt(s, 3);
        if (!passes(f, dept, grid, cat, chan))
            continue;
        int64_t hs = db_col_int64(s, 4), dl = db_col_int64(s, 5);
        int counted = db_col_int(s, 6); /* already in the overdue_done counter */
        int64_t became = hs > dl ? hs : dl;
        int in_period = !counted && became >= lo && became < hi;
        if (!timeg) {
            if (!make_key(k, dept, grid, cat, chan, 0, key, sizeof key))
                continue;
            ind_row *row = row_for(a, key);
            if (!row)
                break;
            row->overdue_now++;
            row->overdue += in_period;
        } else if (in_period) {
            if (!make_key(k, dept, grid, cat, chan, stats_day(became), key, sizeof key))
                continue;
            ind_row *row = row_for(a, key);
            if (!row)
                break;
            row->overdue++;
        }
    }
    db_done(s);
    if (rc != DB_DONE)
        return werr_set(e, W_EINTERNAL, "db_error", "facts query failed");
    if (!timeg && !cheap) {
        s = db_query(d,
                     "SELECT dept_id, grid_code, category_code, channel FROM stats_orders "
                     "WHERE state = 'dispatched' AND response_deadline > 0 AND "
                     "response_deadline < ?",
                     "I", f->now);
        while (s && (rc = db_step(s)) == DB_ROW) {
            int64_t dept = db_col_int64(s, 0);
            const char *grid = txt(s, 1), *cat = txt(s, 2), *chan = txt(s, 3);
            if (!passes(f, dept, grid, cat, chan))
                continue;
            if (!make_key(k, dept, grid, cat, chan, 0, key, sizeof key))
                continue;
            ind_row *row = row_for(a, key);
            if (row)
                row->unsigned_overdue_now++;
        }
        db_done(s);
    }
percentiles:
    if (f->no_p90)
        return WOK;
    /* handling times of the period's closes. Whole months without grid,
     * category or channel: the monthly histogram. Otherwise every close of
     * the period; without grid, category or channel that query reads only
     * the covering index (day, dept, minutes). */
    int narrow = !f->grid && !f->category && !f->channel && f->group != IG_STREET &&
                 f->group != IG_COMMUNITY && f->group != IG_CATEGORY && f->group != IG_CHANNEL;
    int mf, mt;
    month_range(f->from / 100, &mf, &mt);
    int whole = f->from == mf;
    month_range(f->to / 100, &mf, &mt);
    whole = whole && f->to == mt;
    int hist =
        narrow && whole && (f->group == IG_NONE || f->group == IG_DEPT || f->group == IG_MONTH);
    if (hist && (f->group == IG_NONE || f->group == IG_DEPT) && f->from / 100 == f->to / 100 &&
        f->from / 100 < stats_day(f->now) / 100) {
        if (p90_cache_apply(f, a))
            return WOK;
        a->p90_store = 1;
    }
    /* (the pairs are sorted in pair_percentile: no GROUP BY minutes here,
     * which made SQLite sort a city month's 40,000 rows) */
    if (hist && f->group == IG_NONE)
        s = db_query(d,
                     "SELECT dept_id, '', '', '', 0, minutes, n FROM stats_close_hist WHERE "
                     "month >= ? AND month <= ? AND (? < 0 OR dept_id = ?)",
                     "iiII", f->from / 100, f->to / 100, f->dept_id, f->dept_id);
    else if (hist)
        s = db_query(d,
                     "SELECT dept_id, '', '', '', month * 100 + 1, minutes, n FROM "
                     "stats_close_hist WHERE month >= ? AND month <= ? AND (? < 0 OR "
                     "dept_id = ?)",
                     "iiII", f->from / 100, f->to / 100, f->dept_id, f->dept_id);
    else
        s = db_query(d,
                     narrow ? "SELECT dept_id, '', '', '', day, minutes, 1 FROM stats_closes "
                              "WHERE day >= ? AND day <= ? AND (? < 0 OR dept_id = ?)"
                            : "SELECT dept_id, grid_code, category_code, channel, day, minutes, "
                              "1 FROM stats_closes WHERE day >= ? AND day <= ? AND (? < 0 OR "
                              "dept_id = ?)",
                     "iiII", f->from, f->to, f->dept_id, f->dept_id);
    if (!s)
        return werr_set(e, W_EINTERNAL, "db_error", "closes query failed");
    /* Rows come in runs of one department and day (the tables' order):
     * the run's row is looked up once. Only a row_for() call can move the
     * rows, and it replaces the remembered one. */
    ind_row *last = NULL;
    int64_t last_dept = 0;
    int last_day = 0;
    while ((rc = db_step(s)) == DB_ROW) {
        int64_t dept = db_col_int64(s, 0);
        const char *grid = txt(s, 1), *cat = txt(s, 2), *chan = txt(s, 3);
        int day = db_col_int(s, 4), plain = !*grid && !*cat && !*chan;
        ind_row *row;
        if (last && plain && dept == last_dept && day == last_day) {
            row = last;
        } else {
            if (!passes(f, dept, grid, cat, chan) ||
                !make_key(k, dept, grid, cat, chan, day, key, sizeof key))
                continue;
            row = row_for(a, key);
            last = plain ? row : NULL;
            last_dept = dept;
            last_day = day;
        }
        int64_t n = db_col_int64(s, 6);
        if (!row || add_minutes(a, row, db_col_int64(s, 5), n) != WOK) {
            db_done(s);
            return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        }
        row->closes += n;
    }
    db_done(s);
    if (rc != DB_DONE)
        return werr_set(e, W_EINTERNAL, "db_error", "closes query failed");
    return WOK;
}

const ind_row *ind_result_find(const ind_result *r, const char *key)
{
    ind_row probe;
    snprintf(probe.key, sizeof probe.key, "%s", key);
    if (r->n == 0)
        return NULL;
    return bsearch(&probe, r->rows, (size_t)r->n, sizeof *r->rows, cmp_rows);
}

/* The balance of the tables without day-0 rows: the orders in progress
 * now (per-order facts, partial index stats_orders_open); run_sums has
 * already subtracted the net inflow since the period's start. */
static int add_open_now(db *d, const ind_filter *f, const struct keyer *k, struct acc *a,
                        int64_t *overall, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT dept_id, grid_code, category_code, channel FROM stats_orders "
                          "WHERE in_prog = 1",
                          "");
    if (!s)
        return werr_set(e, W_EINTERNAL, "db_error", "facts query failed");
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        int64_t dept = db_col_int64(s, 0);
        const char *grid = txt(s, 1), *cat = txt(s, 2), *chan = txt(s, 3);
        if (!passes(f, dept, grid, cat, chan))
            continue;
        if (is_time_group(f->group)) {
            (*overall)++;
            continue;
        }
        char key[64];
        if (!make_key(k, dept, grid, cat, chan, 0, key, sizeof key))
            continue;
        ind_row *row = row_for(a, key);
        if (!row) {
            db_done(s);
            return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        }
        row->carried_in++;
    }
    db_done(s);
    return rc == DB_DONE ? WOK : werr_set(e, W_EINTERNAL, "db_error", "facts query failed");
}

/* Supervision notices (督办单) issued in [from, to], per department and
 * issue day; on time when answered by their due time. Read from their
 * daily counts (stats_notices, kept by triggers: 009_stats_supervision.sql). */
static int ind_notice_rows(db *d, int from, int to,
                           void (*cb)(void *arg, int64_t dept, int day, int64_t n, int64_t ontime),
                           void *arg)
{
    db_stmt *s = db_query(d,
                          "SELECT dept_id, day, issued, ontime FROM stats_notices "
                          "WHERE day >= ? AND day <= ? AND issued <> 0",
                          "ii", from, to);
    if (!s)
        return -1;
    int rc;
    while ((rc = db_step(s)) == DB_ROW)
        cb(arg, db_col_int64(s, 0), db_col_int(s, 1), db_col_int64(s, 2), db_col_int64(s, 3));
    db_done(s);
    return rc == DB_DONE ? 0 : -1;
}

struct notice_ctx {
    const ind_filter *f;
    const struct keyer *k;
    struct acc *a;
};

static void notice_cb(void *arg, int64_t dept, int day, int64_t n, int64_t ontime)
{
    struct notice_ctx *c = arg;
    if (c->f->dept_id >= 0 && dept != c->f->dept_id)
        return;
    char key[64];
    make_key(c->k, dept, "", "", "", day, key, sizeof key);
    ind_row *row = row_for(c->a, key);
    if (row) {
        row->notices += n;
        row->notices_ontime += ontime;
    }
}

static int add_notices(db *d, const ind_filter *f, const struct keyer *k, struct acc *a, werr *e)
{
    /* notices belong to departments, not to grids, categories or channels */
    if (f->grid || f->category || f->channel || f->group == IG_STREET || f->group == IG_COMMUNITY ||
        f->group == IG_CATEGORY || f->group == IG_CHANNEL)
        return WOK;
    struct notice_ctx c = {f, k, a};
    if (ind_notice_rows(d, f->from, f->to, notice_cb, &c) < 0)
        return werr_set(e, W_EINTERNAL, "db_error", "supervision query failed");
    return WOK;
}

int indicators_query(db *d, const ind_filter *f, ind_result *out, werr *e)
{
    memset(out, 0, sizeof *out);
    struct keyer k = {f->group, 0, 0};
    area_lengths(d, &k.len_street, &k.len_comm);
    struct acc a = {out, 0, json_object(), -1, 0, NULL, NULL, NULL};
    int rc = WOK;
    int64_t carried = 0;
    int timeg = is_time_group(f->group);
    /* every bucket of a time grouping exists, and the overall row */
    if (timeg) {
        char key[64];
        for (int day = f->from; day <= f->to; day = stats_day_add(day, 1)) {
            time_key(f->group, day, key, sizeof key);
            if (!row_for(&a, key)) {
                rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
                break;
            }
        }
    } else if (f->group == IG_NONE) {
        if (!row_for(&a, ""))
            rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    int tb = choose_table(f, k.len_street, k.len_comm);
    if (rc == WOK)
        rc = run_sums(d, tb, f, &k, 0, &a, &carried, e);
    if (rc == WOK && !f->counts_only)
        rc = run_sums(d, tb, f, &k, 1, &a, &carried, e);
    if (rc == WOK && (tb == TB_DAILY || tb == TB_CAT) && !f->counts_only)
        rc = add_open_now(d, f, &k, &a, &carried, e);
    if (rc == WOK && !f->counts_only)
        rc = add_facts(d, f, &k, &a, e);
    if (rc == WOK && !f->counts_only)
        rc = add_notices(d, f, &k, &a, e);
    if (rc == WOK) {
        for (int i = 0; i < out->n; i++) {
            if (a.nmins[i])
                out->rows[i].p90_minutes = pair_percentile(a.mins[i], a.nmins[i] / 2, 90);
        }
        if (a.p90_store)
            p90_cache_store(f, out);
        if (timeg) {
            /* carried_in of each bucket: the balance at `from`, plus the net
             * inflow of the buckets before it (rows are in time order). */
            if (out->n > 0)
                qsort(out->rows, (size_t)out->n, sizeof *out->rows, cmp_rows);
            for (int i = 0; i < out->n; i++) {
                out->rows[i].carried_in = carried;
                carried += out->rows[i].v[SC_inflow] - out->rows[i].v[SC_outflow];
            }
        }
    }
    for (int i = 0; i < a.r->n; i++)
        free(a.mins[i]);
    free(a.mins);
    free(a.nmins);
    free(a.capmins);
    json_decref(a.index);
    if (rc != WOK) {
        ind_result_free(out);
        return rc;
    }
    if (out->n > 0) /* an empty database has no rows (and rows is NULL) */
        qsort(out->rows, (size_t)out->n, sizeof *out->rows, cmp_rows);
    return WOK;
}

/* ---- rates and JSON ------------------------------------------------------ */

const char *const ind_rate_names[] = {
    "response_rate", "completion_rate",   "ontime_rate", "return_rate",
    "rework_rate",   "satisfaction_rate", "notice_rate", NULL};

double ind_rate(int64_t num, int64_t den)
{
    return den > 0 ? (double)num / (double)den : -1;
}

int ind_rate_parts(const ind_row *r, const char *name, int64_t *num, int64_t *den)
{
    const int64_t *v = r->v;
    if (strcmp(name, "response_rate") == 0) {
        *num = v[SC_signed_ontime];
        *den = v[SC_signed];
    } else if (strcmp(name, "completion_rate") == 0) {
        *num = v[SC_closed];
        *den = r->carried_in + v[SC_inflow];
    } else if (strcmp(name, "ontime_rate") == 0) {
        *num = v[SC_closed_ontime];
        *den = v[SC_closed];
    } else if (strcmp(name, "return_rate") == 0) {
        *num = v[SC_returned];
        *den = v[SC_dispatched];
    } else if (strcmp(name, "rework_rate") == 0) {
        *num = v[SC_reworks];
        *den = v[SC_closed] + v[SC_reworks];
    } else if (strcmp(name, "satisfaction_rate") == 0) {
        *num = v[SC_satisfied] + v[SC_basic];
        *den = v[SC_rated];
    } else if (strcmp(name, "notice_rate") == 0) {
        *num = r->notices_ontime;
        *den = r->notices;
    } else {
        return -1;
    }
    return 0;
}

static json_t *num_or_null(double x, int decimals)
{
    if (x < 0)
        return json_null();
    double m = decimals == 4 ? 10000.0 : 100.0;
    return json_real((double)(long long)(x * m + 0.5) / m);
}

json_t *ind_row_json(const ind_row *r)
{
    json_t *counts = json_object();
    for (int c = 0; c < SC__COUNT; c++)
        if (c != SC_overdue_done) /* a part of "overdue" below */
            json_object_set_new(counts, stats_col_names[c], json_integer(r->v[c]));
    json_object_set_new(counts, "overdue", json_integer(r->overdue + r->v[SC_overdue_done]));
    json_object_set_new(counts, "overdue_now", json_integer(r->overdue_now));
    json_object_set_new(counts, "unsigned_overdue_now", json_integer(r->unsigned_overdue_now));
    json_object_set_new(counts, "carried_in", json_integer(r->carried_in));
    json_object_set_new(counts, "in_progress_end",
                        json_integer(r->carried_in + r->v[SC_inflow] - r->v[SC_outflow]));
    json_object_set_new(counts, "notices", json_integer(r->notices));
    json_object_set_new(counts, "notices_ontime", json_integer(r->notices_ontime));
    json_t *rates = json_object();
    for (int i = 0; ind_rate_names[i]; i++) {
        int64_t num, den;
        ind_rate_parts(r, ind_rate_names[i], &num, &den);
        json_object_set_new(rates, ind_rate_names[i],
                            json_pack("{s:I, s:I, s:o}", "num", (json_int_t)num, "den",
                                      (json_int_t)den, "value",
                                      num_or_null(ind_rate(num, den), 4)));
    }
    int64_t n = r->v[SC_closed];
    json_t *handling = json_pack(
        "{s:I, s:I, s:o, s:o, s:o}", "closes", (json_int_t)n, "minutes_total",
        (json_int_t)r->v[SC_handled_minutes], "avg_hours",
        num_or_null(n ? (double)r->v[SC_handled_minutes] / (double)n / 60.0 : -1, 2), "p90_minutes",
        r->p90_minutes >= 0 ? json_integer(r->p90_minutes) : json_null(), "p90_hours",
        num_or_null(r->p90_minutes >= 0 ? (double)r->p90_minutes / 60.0 : -1, 2));
    return json_pack("{s:s, s:o, s:o, s:o}", "key", r->key, "counts", counts, "rates", rates,
                     "handling", handling);
}

int indicators_scope(const principal *who, ind_filter *f, char *gridbuf, size_t gridcap, werr *e)
{
    if (!who || who->scope_kind == SCOPE_ALL)
        return WOK;
    if (who->scope_kind == SCOPE_DEPT) {
        if (f->dept_id >= 0 && f->dept_id != who->scope_dept)
            return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                            "dept: you may only see your own department");
        f->dept_id = who->scope_dept;
        return WOK;
    }
    if (who->scope_kind == SCOPE_GRID) {
        size_t n = strlen(who->scope_grid);
        if (f->grid && strncmp(f->grid, who->scope_grid, n) != 0)
            return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                            "grid: outside the grids you are responsible for");
        if (!f->grid) {
            snprintf(gridbuf, gridcap, "%s", who->scope_grid);
            f->grid = gridbuf;
        }
        return WOK;
    }
    return werr_set(e, W_EFORBIDDEN, "out_of_scope", "statistics are for staff");
}

/* Labels: department names, grid names, category names. */
json_t *ind_label(db *d, int group, const char *key)
{
    db_stmt *s = NULL;
    if (group == IG_DEPT) {
        if (strcmp(key, "0") == 0)
            return json_string("治理服务中心 (未派遣)");
        s = db_query(d, "SELECT name FROM departments WHERE id = ?", "I", (int64_t)atoll(key));
    } else if (group == IG_STREET || group == IG_COMMUNITY) {
        s = db_query(d, "SELECT name FROM grids WHERE code = ?", "t", key);
    } else {
        return json_string(key);
    }
    json_t *out = NULL;
    if (s && db_step(s) == DB_ROW && db_col_text(s, 0))
        out = json_string(db_col_text(s, 0));
    db_done(s);
    return out ? out : json_string(key);
}

int indicators_json(db *d, const ind_filter *f, json_t **out, werr *e)
{
    ind_result res;
    int rc = indicators_query(d, f, &res, e);
    if (rc != WOK)
        return rc;
    json_t *items = json_array();
    for (int i = 0; i < res.n; i++) {
        json_t *row = ind_row_json(&res.rows[i]);
        json_object_set_new(row, "label", ind_label(d, f->group, res.rows[i].key));
        json_array_append_new(items, row);
    }
    ind_result_free(&res);
    char from[16], to[16];
    snprintf(from, sizeof from, "%04d-%02d-%02d", f->from / 10000, f->from / 100 % 100,
             f->from % 100);
    snprintf(to, sizeof to, "%04d-%02d-%02d", f->to / 10000, f->to / 100 % 100, f->to % 100);
    static const char *const gnames[] = {"",        "dept", "street", "community", "category",
                                         "channel", "day",  "week",   "month"};
    json_t *filter =
        json_pack("{s:s, s:s, s:s}", "from", from, "to", to, "group_by", gnames[f->group]);
    if (f->dept_id >= 0)
        json_object_set_new(filter, "dept", json_integer(f->dept_id));
    if (f->grid)
        json_object_set_new(filter, "grid", json_string(f->grid));
    if (f->category)
        json_object_set_new(filter, "category", json_string(f->category));
    if (f->channel)
        json_object_set_new(filter, "channel", json_string(f->channel));
    *out = json_pack("{s:o, s:o}", "filter", filter, "items", items);
    return WOK;
}
