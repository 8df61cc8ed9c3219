/*
 * assessment.c — scores, rankings and their breakdown (see assessment.h).
 */
#include "assessment.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "indicators.h"

/* The deduction kinds the supervision module records (006_supervision.sql). */
static const char *const deduction_kinds[] = {"improper_whistle", "late_signing",
                                              "repeated_returns", "overdue_completion", NULL};
static const char *const deduction_zh[] = {"乱吹哨", "迟签收", "推诿扯皮(多次退单)", "超期办结",
                                           NULL};

/* Built-in rules: Beijing 12345 接诉即办 "三率" practice (响应率 10 %,
 * 解决率/办结率 45 %, 满意率 45 %). */
static const char default_rules[] =
    "{\"weights\":{\"response_rate\":10,\"completion_rate\":45,\"satisfaction_rate\":45},"
    "\"deductions\":{\"improper_whistle\":0.5,\"late_signing\":0.5,\"repeated_returns\":1,"
    "\"overdue_completion\":1},\"deduction_cap\":20}";

static int known_rate(const char *name)
{
    for (int i = 0; ind_rate_names[i]; i++)
        if (strcmp(ind_rate_names[i], name) == 0)
            return 1;
    return 0;
}

static int known_deduction(const char *name)
{
    for (int i = 0; deduction_kinds[i]; i++)
        if (strcmp(deduction_kinds[i], name) == 0)
            return 1;
    return 0;
}

int assessment_rules_validate(json_t *rules, werr *e)
{
    if (!json_is_object(rules))
        return werr_set(e, W_EINVALID, "invalid_field", "rules: a JSON object");
    json_t *w = json_object_get(rules, "weights");
    if (!json_is_object(w) || json_object_size(w) == 0)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "weights: an object of rate name → weight");
    const char *k;
    json_t *v;
    double total = 0;
    json_object_foreach(w, k, v)
    {
        if (!known_rate(k))
            return werr_set(e, W_EINVALID, "invalid_field", "weights.%s: unknown rate", k);
        if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 100)
            return werr_set(e, W_EINVALID, "invalid_field", "weights.%s: a number 0–100", k);
        total += json_number_value(v);
    }
    if (total <= 0)
        return werr_set(e, W_EINVALID, "invalid_field", "weights: at least one above 0");
    json_t *dd = json_object_get(rules, "deductions");
    if (dd && !json_is_object(dd))
        return werr_set(e, W_EINVALID, "invalid_field", "deductions: an object");
    json_object_foreach(dd, k, v)
    {
        if (!known_deduction(k))
            return werr_set(e, W_EINVALID, "invalid_field",
                            "deductions.%s: unknown kind (improper_whistle, late_signing, "
                            "repeated_returns, overdue_completion)",
                            k);
        if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 100)
            return werr_set(e, W_EINVALID, "invalid_field", "deductions.%s: a number 0–100",
                            k);
    }
    json_t *cap = json_object_get(rules, "deduction_cap");
    if (cap && (!json_is_number(cap) || json_number_value(cap) < 0 ||
                json_number_value(cap) > 100))
        return werr_set(e, W_EINVALID, "invalid_field", "deduction_cap: a number 0–100");
    json_object_foreach(rules, k, v)
    {
        if (strcmp(k, "weights") && strcmp(k, "deductions") && strcmp(k, "deduction_cap") &&
            strcmp(k, "note"))
            return werr_set(e, W_EINVALID, "invalid_field", "%s: unknown field", k);
    }
    return WOK;
}

/* The first instant of month yyyymm (CST) as RFC 3339 UTC. */
static void month_start_text(int month, char out[32])
{
    int from, to;
    month_range(month, &from, &to);
    clock_format(stats_day_start(from), out);
}

int assessment_rules_for_month(db *d, int month, json_t **out, werr *e)
{
    char end[32];
    month_start_text(month_add(month, 1), end);
    db_stmt *s = db_query(d,
                          "SELECT valid_from, value FROM settings WHERE key = ? AND "
                          "valid_from < ? ORDER BY valid_from DESC LIMIT 1",
                          "tt", ASSESS_RULES_KEY, end);
    json_t *rules = NULL, *from = json_null();
    if (s && db_step(s) == DB_ROW && db_col_text(s, 1)) {
        rules = json_loads(db_col_text(s, 1), 0, NULL);
        if (rules) {
            json_decref(from);
            from = json_string(db_col_text(s, 0));
        }
    }
    db_done(s);
    if (!rules)
        rules = json_loads(default_rules, 0, NULL);
    if (!rules) {
        json_decref(from);
        return werr_set(e, W_EINTERNAL, "internal", "cannot read assessment rules");
    }
    *out = json_pack("{s:o, s:o}", "valid_from", from, "rules", rules);
    return WOK;
}

int assessment_rules_history(db *d, json_t **out, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT valid_from, value, updated_by FROM settings WHERE key = ? "
                          "ORDER BY valid_from DESC",
                          "t", ASSESS_RULES_KEY);
    if (!s)
        return werr_set(e, W_EINTERNAL, "db_error", "cannot read settings");
    json_t *items = json_array();
    while (db_step(s) == DB_ROW) {
        json_t *v = json_loads(db_col_text(s, 1) ? db_col_text(s, 1) : "null",
                               JSON_DECODE_ANY, NULL);
        json_array_append_new(items, json_pack("{s:s, s:o, s:o}", "valid_from",
                                               db_col_text(s, 0), "rules",
                                               v ? v : json_null(), "updated_by",
                                               db_col_is_null(s, 2)
                                                   ? json_null()
                                                   : json_integer(db_col_int64(s, 2))));
    }
    db_done(s);
    *out = json_pack("{s:o, s:o}", "items", items, "default",
                     json_loads(default_rules, 0, NULL));
    return WOK;
}

struct save_ctx {
    const audit_actor *a;
    const char *valid_from;
    char *value;
    werr *e;
};

static int save_tx(db *d, void *arg)
{
    struct save_ctx *c = arg;
    int rc = db_exec(d,
                     "INSERT INTO settings (key, valid_from, value, updated_by) VALUES (?, ?, ?, "
                     "?) ON CONFLICT (key, valid_from) DO UPDATE SET value = excluded.value, "
                     "updated_by = excluded.updated_by",
                     "tttI", ASSESS_RULES_KEY, c->valid_from, c->value, c->a->user_id);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "db_error", "cannot store the rules");
    json_t *detail = json_pack("{s:s, s:s}", "valid_from", c->valid_from, "value", c->value);
    rc = audit_record(d, c->a, "assessment.rules", "settings", ASSESS_RULES_KEY, detail);
    json_decref(detail);
    return rc;
}

int assessment_rules_save(store *st, const audit_actor *a, json_t *rules,
                          const char *valid_from, json_t **out, werr *e)
{
    int rc = assessment_rules_validate(rules, e);
    if (rc != WOK)
        return rc;
    int64_t now = clock_now();
    int64_t t = now;
    if (valid_from && clock_parse(valid_from, &t) != 0)
        return werr_set(e, W_EINVALID, "invalid_field", "valid_from: an RFC 3339 time");
    int cur = stats_day(now) / 100;
    int from, to;
    month_range(cur, &from, &to);
    if (t < stats_day_start(from))
        return werr_set(e, W_EINVALID, "invalid_field",
                        "valid_from: may not lie before the current month (closed months keep "
                        "their rules)");
    char when[32];
    clock_format(t, when);
    char *value = json_dumps(rules, JSON_COMPACT | JSON_SORT_KEYS);
    if (!value)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    struct save_ctx c = {a, when, value, e};
    rc = store_write(st, save_tx, &c);
    if (rc == WOK && out)
        *out = json_pack("{s:s, s:O}", "valid_from", when, "rules", rules);
    free(value);
    return rc;
}

int assessment_kind_parse(const char *s)
{
    if (!s || strcmp(s, "dept") == 0)
        return ASSESS_DEPT;
    if (strcmp(s, "street") == 0)
        return ASSESS_STREET;
    if (strcmp(s, "community") == 0)
        return ASSESS_COMMUNITY;
    return -1;
}

/* ---- scoring ------------------------------------------------------------ */

struct subject {
    char key[64];
    json_t *label;
    const ind_row *row;
    int64_t ded[4];
    double score; /* NAN: nothing to score */
    json_t *item;
};

static double round2(double x)
{
    return floor(x * 100.0 + 0.5) / 100.0;
}

static int cmp_subjects(const void *x, const void *y)
{
    const struct subject *a = x, *b = y;
    int an = isnan(a->score), bn = isnan(b->score);
    if (an != bn)
        return an - bn;
    if (!an && a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return strcmp(a->key, b->key);
}

static json_t *score_subject(struct subject *sub, json_t *rules)
{
    json_t *weights = json_object_get(rules, "weights");
    json_t *dedpts = json_object_get(rules, "deductions");
    double cap = json_is_number(json_object_get(rules, "deduction_cap"))
                     ? json_number_value(json_object_get(rules, "deduction_cap"))
                     : 100;
    static const ind_row empty = {.p90_minutes = -1};
    const ind_row *r = sub->row ? sub->row : &empty;
    double wsum = 0;
    const char *k;
    json_t *v;
    json_object_foreach(weights, k, v)
    {
        int64_t num, den;
        if (json_number_value(v) > 0 && ind_rate_parts(r, k, &num, &den) == 0 && den > 0)
            wsum += json_number_value(v);
    }
    json_t *components = json_array();
    double points = 0;
    json_object_foreach(weights, k, v)
    {
        int64_t num = 0, den = 0;
        ind_rate_parts(r, k, &num, &den);
        double w = json_number_value(v);
        double max = (wsum > 0 && den > 0) ? 100.0 * w / wsum : 0;
        double rate = den > 0 ? (double)num / (double)den : -1;
        double p = den > 0 ? max * rate : 0;
        points += p;
        json_array_append_new(
            components,
            json_pack("{s:s, s:f, s:I, s:I, s:o, s:f, s:f}", "indicator", k, "weight", w, "num",
                      (json_int_t)num, "den", (json_int_t)den, "rate",
                      rate < 0 ? json_null() : json_real(round(rate * 10000) / 10000),
                      "max_points", round2(max), "points", round2(p)));
    }
    json_t *ditems = json_array();
    double ded = 0;
    for (int i = 0; deduction_kinds[i]; i++) {
        json_t *pv = json_object_get(dedpts, deduction_kinds[i]);
        double each = json_is_number(pv) ? json_number_value(pv) : 0;
        double p = each * (double)sub->ded[i];
        ded += p;
        if (sub->ded[i])
            json_array_append_new(ditems,
                                  json_pack("{s:s, s:s, s:I, s:f, s:f}", "kind",
                                            deduction_kinds[i], "label", deduction_zh[i],
                                            "count", (json_int_t)sub->ded[i], "points_each",
                                            each, "points", round2(p)));
    }
    double applied = ded > cap ? cap : ded;
    if (wsum > 0)
        sub->score = round2(points - applied < 0 ? 0 : points - applied);
    else
        sub->score = NAN;
    return json_pack("{s:s, s:O, s:o, s:f, s:f, s:f, s:o, s:o}", "subject", sub->key, "label",
                     sub->label, "score", wsum > 0 ? json_real(sub->score) : json_null(),
                     "points", round2(points), "deductions", round2(applied),
                     "deductions_uncapped", round2(ded), "components", components,
                     "deduction_items", ditems);
}

static int ded_index(const char *kind)
{
    for (int i = 0; deduction_kinds[i]; i++)
        if (strcmp(deduction_kinds[i], kind) == 0)
            return i;
    return -1;
}

/* The subjects' order: departments by id, grids by code. */
static int subject_cmp(int kind, const char *a, const char *b)
{
    if (kind != ASSESS_DEPT)
        return strcmp(a, b);
    long long x = atoll(a), y = atoll(b);
    return (x > y) - (x < y);
}

/* The subject a deduction is charged to: a department by its id, or the
 * street/community whose code begins the grid's code. subs are sorted by
 * key (departments by id, grids by code), so this is a binary search: for
 * grids, the last key not above the grid's code, if it is a prefix. */
static struct subject *charged_subject(struct subject *subs, int n, int kind, const char *key)
{
    int lo = 0, hi = n; /* the first subject whose key is above key */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (subject_cmp(kind, subs[mid].key, key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    struct subject *sub = &subs[lo - 1];
    if (kind == ASSESS_DEPT)
        return subject_cmp(kind, sub->key, key) == 0 ? sub : NULL;
    return strncmp(key, sub->key, strlen(sub->key)) == 0 ? sub : NULL;
}

/* The deductions of [from, to] per subject and kind, from their daily
 * counts (stats_deductions, 009_stats_supervision.sql): departments' own,
 * or those charged to grids (乱吹哨) for streets and communities. */
static int count_deductions(db *d, int kind, int from, int to, struct subject *subs, int n, werr *e)
{
    db_stmt *s =
        kind == ASSESS_DEPT
            ? db_query(d,
                       "SELECT CAST(dept_id AS TEXT), kind, SUM(n) FROM stats_deductions WHERE "
                       "day >= ? AND day <= ? AND dept_id >= 0 GROUP BY dept_id, kind",
                       "ii", from, to)
            : db_query(d,
                       "SELECT grid_code, kind, SUM(n) FROM stats_deductions WHERE day >= ? "
                       "AND day <= ? AND dept_id = -1 GROUP BY grid_code, kind",
                       "ii", from, to);
    if (!s)
        return werr_set(e, W_EINTERNAL, "db_error", "deductions query failed");
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        int k = ded_index(db_col_text(s, 1) ? db_col_text(s, 1) : "");
        struct subject *sub =
            k < 0 ? NULL
                  : charged_subject(subs, n, kind, db_col_text(s, 0) ? db_col_text(s, 0) : "");
        if (sub)
            sub->ded[k] += db_col_int64(s, 2);
    }
    db_done(s);
    return rc == DB_DONE ? WOK : werr_set(e, W_EINTERNAL, "db_error", "deductions query failed");
}

int assessment_month(db *d, int month, int kind, int64_t now, int with_now, json_t **out,
                     werr *e)
{
    json_t *rv = NULL;
    int rc = assessment_rules_for_month(d, month, &rv, e);
    if (rc != WOK)
        return rc;
    json_t *rules = json_object_get(rv, "rules");
    ind_filter f = {0};
    month_range(month, &f.from, &f.to);
    f.dept_id = -1;
    f.group = kind == ASSESS_DEPT ? IG_DEPT : kind == ASSESS_STREET ? IG_STREET : IG_COMMUNITY;
    f.now = now;
    f.no_p90 = 1; /* the score does not use handling-time percentiles */
    /* nor what is overdue now; for the many streets and communities that
     * would mean reading the held orders */
    f.no_facts = kind != ASSESS_DEPT;
    f.no_now = !with_now;
    ind_result res;
    rc = indicators_query(d, &f, &res, e);
    if (rc != WOK) {
        json_decref(rv);
        return rc;
    }
    /* the subjects: every department, or every street/community grid */
    int cap = 64, n = 0;
    struct subject *subs = calloc((size_t)cap, sizeof *subs);
    db_stmt *s;
    if (kind == ASSESS_DEPT)
        s = db_query(d, "SELECT CAST(id AS TEXT), name FROM departments ORDER BY id", "");
    else
        s = db_query(d, "SELECT code, name FROM grids WHERE depth = ? ORDER BY code", "i",
                     kind == ASSESS_STREET ? 1 : 2);
    while (subs && s && db_step(s) == DB_ROW) {
        if (n == cap) {
            struct subject *p = realloc(subs, (size_t)cap * 2 * sizeof *subs);
            if (!p)
                break;
            subs = p;
            cap *= 2;
        }
        struct subject *sub = &subs[n++];
        memset(sub, 0, sizeof *sub);
        snprintf(sub->key, sizeof sub->key, "%s", db_col_text(s, 0));
        sub->label = json_string(db_col_text(s, 1) ? db_col_text(s, 1) : sub->key);
        sub->row = ind_result_find(&res, sub->key);
    }
    db_done(s);
    if (!subs) {
        ind_result_free(&res);
        json_decref(rv);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    rc = count_deductions(d, kind, f.from, f.to, subs, n, e);
    if (rc != WOK) {
        for (int i = 0; i < n; i++)
            json_decref(subs[i].label);
        free(subs);
        ind_result_free(&res);
        json_decref(rv);
        return rc;
    }
    for (int i = 0; i < n; i++)
        subs[i].item = score_subject(&subs[i], rules);
    if (n > 0)
        qsort(subs, (size_t)n, sizeof *subs, cmp_subjects);
    json_t *items = json_array();
    int rank = 0;
    for (int i = 0; i < n; i++) {
        if (!isnan(subs[i].score) && (i == 0 || subs[i].score != subs[i - 1].score))
            rank = i + 1;
        json_object_set_new(subs[i].item, "rank",
                            isnan(subs[i].score) ? json_null() : json_integer(rank));
        if (subs[i].row) {
            json_t *ind = ind_row_json(subs[i].row);
            json_t *c = json_object_get(ind, "counts");
            if (kind != ASSESS_DEPT) {
                /* not computed for areas here: see /stats/indicators */
                json_object_del(c, "overdue");
                json_object_del(c, "overdue_now");
                json_object_del(c, "unsigned_overdue_now");
            } else if (!with_now) {
                json_object_del(c, "overdue_now");
                json_object_del(c, "unsigned_overdue_now");
            }
            json_object_set_new(subs[i].item, "indicators", ind);
        }
        json_array_append_new(items, subs[i].item);
        json_decref(subs[i].label);
    }
    free(subs);
    ind_result_free(&res);
    char mtxt[16];
    snprintf(mtxt, sizeof mtxt, "%04d-%02d", month / 100, month % 100);
    static const char *const kinds[] = {"dept", "street", "community"};
    int cur = stats_day(now) / 100;
    *out = json_pack("{s:s, s:s, s:b, s:o, s:o}", "month", mtxt, "kind", kinds[kind], "closed",
                     month < cur, "rules", rv, "items", items);
    return WOK;
}
