/*
 * indicators — every indicator of docs/indicators.md, per department, grid
 * (any level, subtree by code prefix), category, channel and period, read
 * from the aggregates that stats.c keeps (never from the orders or their
 * timeline). indicators_ref.c recomputes the same figures from the raw
 * timeline; indicators_check() compares the two.
 */
#ifndef WHISTLE_INDICATORS_H
#define WHISTLE_INDICATORS_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "perm.h"
#include "stats.h"
#include "store.h"

/* ---- periods ------------------------------------------------------------ */

/* Parses a period into an inclusive range of days (yyyymmdd, CST):
 *   "2026-10-05"              a day
 *   "2026-W41"                an ISO week (Monday–Sunday)
 *   "2026-10"                 a month
 *   "2026-Q4"                 a quarter
 *   "2026"                    a year
 *   "2026-10-01..2026-10-15"  any range (at most 3660 days)
 * Returns 0, or -1 for anything else (years 2000–2100 only). */
int period_parse(const char *s, int *from, int *to);
/* A month "2026-10" → yyyymm (202610), -1 when malformed. */
int month_parse(const char *s);
/* First and last day of a month yyyymm. */
void month_range(int month, int *from, int *to);
/* yyyymm ± n months. */
int month_add(int month, int n);

/* ---- queries ------------------------------------------------------------ */

enum ind_group {
    IG_NONE = 0,
    IG_DEPT,      /* per department (0 = the centre, before dispatch) */
    IG_STREET,    /* per street (depth-1 grid prefix) */
    IG_COMMUNITY, /* per community (depth-2 grid prefix) */
    IG_CATEGORY,
    IG_CHANNEL,
    IG_DAY,
    IG_WEEK,
    IG_MONTH,
};
/* "dept" | "street" | "community" | "category" | "channel" | "day" | "week"
 * | "month" | "" → IG_*, -1 when unknown. */
int ind_group_parse(const char *s);

typedef struct ind_filter {
    int from, to;          /* yyyymmdd, inclusive */
    int64_t dept_id;       /* -1: any; 0: the centre (no department) */
    const char *grid;      /* grid code prefix (a grid and everything below), NULL: any */
    const char *category;  /* category code, NULL: any */
    const char *channel;   /* NULL: any */
    int group;             /* IG_* */
    int64_t now;           /* "overdue now" is judged at this time (clock_now()) */
    int no_p90;            /* skip the handling-time percentiles (p90_minutes = -1) */
    int counts_only;       /* only the counters (no workload, overdue, percentiles, notices) */
    int no_facts;          /* skip overdue (ongoing), overdue now and unsigned now */
    int no_now;            /* skip the balances of now (overdue_now, unsigned_overdue_now
                            * are then 0 or partial); the period's overdue stays exact */
} ind_filter;

/* The figures of one group. */
typedef struct ind_row {
    char key[64];
    int64_t v[SC__COUNT];     /* sums over the period */
    int64_t carried_in;       /* in progress at the period's start (上期结转) */
    int64_t overdue;          /* holdings that became overdue in the period */
    int64_t overdue_now;      /* held now and past the deadline (not period-bound) */
    int64_t unsigned_overdue_now;
    int64_t closes;           /* closes with a handling time (= v[SC_closed]) */
    int64_t p90_minutes;      /* -1 when no close */
    int64_t notices, notices_ontime; /* supervision notices (督办单) */
} ind_row;

typedef struct ind_result {
    int n;
    ind_row *rows; /* sorted by key */
} ind_result;

/* Computes the figures for f; *out is filled (free with ind_result_free).
 * Scope: a principal with a department scope only sees its department, a
 * grid scope only its subtree (the filter is narrowed, never widened). */
int indicators_query(db *d, const ind_filter *f, ind_result *out, werr *e);
void ind_result_free(ind_result *r);
/* The row with this key (binary search: rows are sorted), or NULL. */
const ind_row *ind_result_find(const ind_result *r, const char *key);
/* Narrows f to what who may see; W_EFORBIDDEN when f asks for more. */
int indicators_scope(const principal *who, ind_filter *f, char *gridbuf, size_t gridcap,
                     werr *e);

/* One row as JSON: counts, workload, overdue, handling time and rates,
 * each rate as {num, den, value} (value null when den is 0). */
json_t *ind_row_json(const ind_row *r);
/* Rate helper: num/den or -1 when den is 0. */
double ind_rate(int64_t num, int64_t den);
/* The rates by name (response_rate, completion_rate, ontime_rate,
 * return_rate, rework_rate, satisfaction_rate, notice_rate). */
int ind_rate_parts(const ind_row *r, const char *name, int64_t *num, int64_t *den);
extern const char *const ind_rate_names[];

/* A readable label for a group key (department name, grid name, …). */
json_t *ind_label(db *d, int group, const char *key);

/* The full query for the API: {filter, items:[row…]} with labels. */
int indicators_json(db *d, const ind_filter *f, json_t **out, werr *e);

/* Percentile (nearest rank) of sorted ascending values; -1 when n is 0. */
int64_t ind_percentile(const int64_t *sorted, int64_t n, int p);

/* ---- the independent recomputation (indicators_ref.c) ------------------- */

/* Recomputes, from order_events alone, the same ind_row figures for
 * every (month, department) and (month, area) in [from_month, to_month],
 * and compares them with indicators_query(). Writes each difference to
 * *report (a JSON array) and returns the number of differences, or -1 on
 * error. */
int indicators_check(db *d, int from_month, int to_month, int64_t now, json_t **report,
                     werr *e);

/* Reference figures for one month and grouping (IG_DEPT, IG_STREET,
 * IG_COMMUNITY or IG_NONE), from the raw timeline. */
int indicators_ref_month(db *d, int month, int group, int64_t now, ind_result *out, werr *e);

#endif
