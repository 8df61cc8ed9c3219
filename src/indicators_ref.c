/*
 * indicators_ref.c — the independent recomputation. It reads nothing but
 * the raw timeline (order_events, in order) and replays each order with
 * the rules of docs/indicators.md written out once more, plainly: no
 * aggregate tables, no per-order facts table. indicators_check() compares
 * the result with indicators_query() (the aggregates), so a bug in either
 * shows up as a difference. Used by `whistle check` and the tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calendar.h"
#include "indicators.h"
#include "order.h"

/* ---- the rows being built ------------------------------------------------ */

struct refrow {
    ind_row r;
    int month; /* yyyymm, 0: "now" */
    int64_t overdue_done, overdue_open;
    int64_t *mins;
    int64_t nmins, capmins;
};

struct ref {
    json_t *index;    /* "group|key|month" → position */
    json_t *bysubject; /* "group|key" → [positions] (built after the replay) */
    struct refrow *rows;
    int n, cap;
    int from_month, to_month; /* minutes are kept only for these months */
    int len_street, len_comm;
    calendar cal;
    int oom;
};

static struct refrow *ref_row(struct ref *R, int group, const char *key, int month)
{
    char k[128];
    snprintf(k, sizeof k, "%d|%s|%d", group, key, month);
    json_t *pos = json_object_get(R->index, k);
    if (pos)
        return &R->rows[json_integer_value(pos)];
    if (R->n == R->cap) {
        int cap = R->cap ? R->cap * 2 : 256;
        struct refrow *p = realloc(R->rows, (size_t)cap * sizeof *p);
        if (!p) {
            R->oom = 1;
            return NULL;
        }
        R->rows = p;
        R->cap = cap;
    }
    struct refrow *row = &R->rows[R->n];
    memset(row, 0, sizeof *row);
    snprintf(row->r.key, sizeof row->r.key, "%s", key);
    row->r.p90_minutes = -1;
    row->month = month;
    json_object_set_new(R->index, k, json_integer(R->n));
    R->n++;
    return row;
}

/* The groups one contribution counts in: all, its department, its street
 * and its community (when the grid code is long enough). */
static int targets(struct ref *R, int64_t dept, const char *grid, int month,
                   struct refrow *out[4])
{
    char keys[4][64];
    int groups[4];
    int n = 0;
    groups[n] = IG_NONE;
    keys[n++][0] = '\0';
    groups[n] = IG_DEPT;
    snprintf(keys[n++], 64, "%lld", (long long)dept);
    size_t gl = strlen(grid);
    if ((int)gl >= R->len_street) {
        groups[n] = IG_STREET;
        snprintf(keys[n++], 64, "%.*s", R->len_street, grid);
    }
    if ((int)gl >= R->len_comm) {
        groups[n] = IG_COMMUNITY;
        snprintf(keys[n++], 64, "%.*s", R->len_comm, grid);
    }
    /* create every row first: creating one may move the others (realloc) */
    for (int i = 0; i < n; i++)
        if (!ref_row(R, groups[i], keys[i], month))
            return 0;
    for (int i = 0; i < n; i++)
        out[i] = ref_row(R, groups[i], keys[i], month);
    return n;
}

/* Adds n to counter col of every group of (dept, grid) in the month of day. */
static void count(struct ref *R, int day, int64_t dept, const char *grid, int col, int64_t n)
{
    struct refrow *t[4];
    int k = targets(R, dept, grid, day / 100, t);
    for (int i = 0; i < k; i++)
        t[i]->r.v[col] += n;
}

static void minutes(struct ref *R, int day, int64_t dept, const char *grid, int64_t m)
{
    int month = day / 100;
    if (month < R->from_month || month > R->to_month)
        return;
    struct refrow *t[4];
    int k = targets(R, dept, grid, month, t);
    for (int i = 0; i < k; i++) {
        struct refrow *row = t[i];
        if (row->nmins == row->capmins) {
            int64_t cap = row->capmins ? row->capmins * 2 : 8;
            int64_t *p = realloc(row->mins, (size_t)cap * sizeof *p);
            if (!p) {
                R->oom = 1;
                return;
            }
            row->mins = p;
            row->capmins = cap;
        }
        row->mins[row->nmins++] = m;
    }
}

/* ---- one order's replay ------------------------------------------------------ */

struct order_replay {
    int64_t id;
    char grid[64], cat[40], chan[32];
    int state;
    int64_t dept;
    int64_t hold_start, deadline, rdl, cycle_start;
    int fb_late;
};

static int in_progress(int st)
{
    return st == OS_ACCEPTED || st == OS_DISPATCHED || st == OS_SIGNED || st == OS_FEEDBACK ||
           st == OS_REWORK;
}

static int with_department(int st)
{
    return st == OS_DISPATCHED || st == OS_SIGNED || st == OS_REWORK;
}

static int64_t jint(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : 0;
}

static void replay_event(struct ref *R, struct order_replay *o, int64_t at, const char *action,
                         const char *to_state, int64_t ev_dept, const char *data)
{
    json_t *dj = data ? json_loads(data, 0, NULL) : NULL;
    int day = stats_day(at);
    int to = order_state_parse(to_state);
    int was = o->state;
    const char *catv = json_string_value(json_object_get(dj, "category"));

    if (strcmp(action, "report") == 0) {
        snprintf(o->grid, sizeof o->grid, "%s",
                 json_string_value(json_object_get(dj, "grid"))
                     ? json_string_value(json_object_get(dj, "grid"))
                     : "");
        snprintf(o->cat, sizeof o->cat, "%s", catv ? catv : "");
        snprintf(o->chan, sizeof o->chan, "%s",
                 json_string_value(json_object_get(dj, "channel"))
                     ? json_string_value(json_object_get(dj, "channel"))
                     : "");
        o->cycle_start = at;
    }
    /* the department that holds the order after this event */
    int64_t dept = o->dept;
    if (strcmp(action, "dispatch") == 0)
        dept = ev_dept;
    else if (strcmp(action, "return_approve") == 0 || strcmp(action, "reopen") == 0)
        dept = 0;

    /* 1. a holding ends: overdue if past the deadline in force */
    int holding_before = with_department(was);
    int holding_after = with_department(to);
    int restarts = strcmp(action, "dispatch") == 0;
    if (holding_before && (!holding_after || restarts) && o->deadline > 0 && at > o->deadline) {
        int64_t became = o->hold_start > o->deadline ? o->hold_start : o->deadline;
        struct refrow *t[4];
        int k = targets(R, o->dept, o->grid, stats_day(became) / 100, t);
        for (int i = 0; i < k; i++)
            t[i]->overdue_done++;
        count(R, stats_day(became), o->dept, o->grid, SC_overdue_done, 1);
    }
    /* 2. the workload: leaving the old (in progress, department, grid,
     * category) and entering the new one */
    char oldgrid[64], oldcat[40];
    snprintf(oldgrid, sizeof oldgrid, "%s", o->grid);
    snprintf(oldcat, sizeof oldcat, "%s", o->cat);
    if ((strcmp(action, "accept") == 0 || strcmp(action, "dispatch") == 0) && catv)
        snprintf(o->cat, sizeof o->cat, "%s", catv);
    int moved = in_progress(was) != in_progress(to) ||
                (in_progress(to) && (dept != o->dept || strcmp(oldcat, o->cat) != 0 ||
                                     strcmp(oldgrid, o->grid) != 0));
    if (moved && in_progress(was))
        count(R, day, o->dept, oldgrid, SC_outflow, 1);
    if (moved && in_progress(to))
        count(R, day, dept, o->grid, SC_inflow, 1);

    /* 3. the event itself, for its department */
    int64_t who = ev_dept;
    const char *g = o->grid;
    if (strcmp(action, "report") == 0)
        count(R, day, who, g, SC_received, 1);
    else if (strcmp(action, "accept") == 0)
        count(R, day, who, g, SC_accepted, 1);
    else if (strcmp(action, "reject") == 0)
        count(R, day, who, g, SC_rejected, 1);
    else if (strcmp(action, "merge") == 0)
        count(R, day, who, g, SC_merged, 1);
    else if (strcmp(action, "onsite") == 0)
        count(R, day, who, g, SC_onsite, 1);
    else if (strcmp(action, "dispatch") == 0) {
        count(R, day, who, g, SC_dispatched, 1);
        o->deadline = jint(dj, "deadline");
        o->rdl = jint(dj, "response_deadline");
    } else if (strcmp(action, "sign") == 0) {
        count(R, day, who, g, SC_signed, 1);
        if (o->rdl == 0 || at <= o->rdl)
            count(R, day, who, g, SC_signed_ontime, 1);
    } else if (strcmp(action, "return") == 0)
        count(R, day, who, g, SC_return_requests, 1);
    else if (strcmp(action, "return_approve") == 0) {
        count(R, day, who, g, SC_returned, 1);
        o->deadline = 0;
    } else if (strcmp(action, "extend") == 0)
        count(R, day, who, g, SC_extension_requests, 1);
    else if (strcmp(action, "extend_approve") == 0) {
        count(R, day, who, g, SC_extensions, 1);
        o->deadline = jint(dj, "deadline");
    } else if (strcmp(action, "extend_refuse") == 0) {
        o->deadline = jint(dj, "deadline");
    } else if (strcmp(action, "feedback") == 0) {
        count(R, day, who, g, SC_feedbacks, 1);
        o->fb_late = o->deadline > 0 && at > o->deadline;
    } else if (strcmp(action, "verify_pass") == 0) {
        count(R, day, who, g, SC_closed, 1);
        if (!o->fb_late)
            count(R, day, who, g, SC_closed_ontime, 1);
        int64_t m = calendar_minutes_between(&R->cal, o->cycle_start, at, 1);
        count(R, day, who, g, SC_handled_minutes, m);
        minutes(R, day, who, g, m);
    } else if (strcmp(action, "verify_fail") == 0)
        count(R, day, who, g, SC_reworks, 1);
    else if (strcmp(action, "rate") == 0) {
        const char *rating = json_string_value(json_object_get(dj, "rating"));
        count(R, day, who, g, SC_rated, 1);
        if (rating && strcmp(rating, "satisfied") == 0)
            count(R, day, who, g, SC_satisfied, 1);
        if (rating && strcmp(rating, "basic") == 0)
            count(R, day, who, g, SC_basic, 1);
        if (rating && strcmp(rating, "unsatisfied") == 0)
            count(R, day, who, g, SC_unsatisfied, 1);
        if (json_is_true(json_object_get(dj, "default")))
            count(R, day, who, g, SC_rated_default, 1);
    } else if (strcmp(action, "escalate") == 0)
        count(R, day, who, g, SC_escalated, 1);
    else if (strcmp(action, "reopen") == 0) {
        count(R, day, who, g, SC_reopened, 1);
        o->cycle_start = at;
        o->fb_late = 0;
        o->deadline = 0;
    }
    if (holding_after && (!holding_before || restarts))
        o->hold_start = at;
    o->dept = dept;
    o->state = to;
    json_decref(dj);
}

/* The end of an order's timeline: what is true of it now. */
static void replay_now(struct ref *R, struct order_replay *o, int64_t now)
{
    if (with_department(o->state) && o->deadline > 0 && o->deadline < now) {
        int64_t became = o->hold_start > o->deadline ? o->hold_start : o->deadline;
        struct refrow *t[4];
        int k = targets(R, o->dept, o->grid, stats_day(became) / 100, t);
        for (int i = 0; i < k; i++)
            t[i]->overdue_open++;
        k = targets(R, o->dept, o->grid, 0, t); /* month 0: "now" */
        for (int i = 0; i < k; i++)
            t[i]->r.overdue_now++;
    }
    if (o->state == OS_DISPATCHED && o->rdl > 0 && o->rdl < now) {
        struct refrow *t[4];
        int k = targets(R, o->dept, o->grid, 0, t);
        for (int i = 0; i < k; i++)
            t[i]->r.unsigned_overdue_now++;
    }
}

static int replay_all(db *d, struct ref *R, int64_t now, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT order_id, at, action, to_state, dept_id, data FROM order_events "
                          "ORDER BY order_id, seq",
                          "");
    if (!s)
        return werr_set(e, W_EINTERNAL, "db_error", "cannot read the timeline");
    struct order_replay o = {0};
    o.id = -1;
    int rc;
    while ((rc = db_step(s)) == DB_ROW && !R->oom) {
        int64_t id = db_col_int64(s, 0);
        if (id != o.id) {
            if (o.id >= 0)
                replay_now(R, &o, now);
            memset(&o, 0, sizeof o);
            o.id = id;
        }
        replay_event(R, &o, db_col_int64(s, 1), db_col_text(s, 2) ? db_col_text(s, 2) : "",
                     db_col_text(s, 3) ? db_col_text(s, 3) : "", db_col_int64(s, 4),
                     db_col_text(s, 5));
    }
    db_done(s);
    if (o.id >= 0)
        replay_now(R, &o, now);
    if (R->oom)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    if (rc != DB_DONE)
        return werr_set(e, W_EINTERNAL, "db_error", "cannot read the timeline");
    return WOK;
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static void ref_init(db *d, struct ref *R, int from_month, int to_month)
{
    memset(R, 0, sizeof *R);
    R->index = json_object();
    R->from_month = from_month;
    R->to_month = to_month;
    char out[2][64];
    int n = stats_area_prefixes(d, "0000000000000000000000000000000000000000", out);
    R->len_street = n > 0 ? (int)strlen(out[0]) : 9;
    R->len_comm = n > 1 ? (int)strlen(out[1]) : 12;
    calendar_current(&R->cal);
}

static void ref_free(struct ref *R)
{
    for (int i = 0; i < R->n; i++)
        free(R->rows[i].mins);
    free(R->rows);
    json_decref(R->index);
    json_decref(R->bysubject);
}

/* The finished row for (group, key, month): carried_in is the net inflow
 * of every earlier month; percentiles from the kept minutes. */
static void finish_row(struct ref *R, int group, const char *key, int month, ind_row *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->key, sizeof out->key, "%s", key);
    out->p90_minutes = -1;
    if (!R->bysubject) {
        R->bysubject = json_object();
        const char *k;
        json_t *pos;
        json_object_foreach(R->index, k, pos)
        {
            char subj[128];
            const char *bar = strrchr(k, '|');
            snprintf(subj, sizeof subj, "%.*s", (int)(bar - k), k);
            json_t *list = json_object_get(R->bysubject, subj);
            if (!list) {
                list = json_array();
                json_object_set_new(R->bysubject, subj, list);
            }
            json_array_append(list, pos);
        }
    }
    char subj[128];
    snprintf(subj, sizeof subj, "%d|%s", group, key);
    size_t i;
    json_t *pos;
    json_array_foreach(json_object_get(R->bysubject, subj), i, pos)
    {
        struct refrow *row = &R->rows[json_integer_value(pos)];
        int m = row->month;
        if (m == 0) {
            out->overdue_now = row->r.overdue_now;
            out->unsigned_overdue_now = row->r.unsigned_overdue_now;
        } else if (m < month) {
            out->carried_in += row->r.v[SC_inflow] - row->r.v[SC_outflow];
        } else if (m == month) {
            memcpy(out->v, row->r.v, sizeof out->v);
            out->overdue = row->overdue_open;
            out->closes = row->nmins;
            if (row->nmins) {
                qsort(row->mins, (size_t)row->nmins, sizeof(int64_t), cmp_i64);
                out->p90_minutes = ind_percentile(row->mins, row->nmins, 90);
            }
        }
    }
}

int indicators_ref_month(db *d, int month, int group, int64_t now, ind_result *out, werr *e)
{
    memset(out, 0, sizeof *out);
    struct ref R;
    ref_init(d, &R, month, month);
    int rc = replay_all(d, &R, now, e);
    if (rc == WOK) {
        /* the keys of this group */
        json_t *keys = json_object();
        char prefix[16];
        int plen = snprintf(prefix, sizeof prefix, "%d|", group);
        const char *k;
        json_t *pos;
        json_object_foreach(R.index, k, pos)
        {
            if (strncmp(k, prefix, (size_t)plen) == 0) {
                char key[64];
                const char *bar = strchr(k + plen, '|');
                snprintf(key, sizeof key, "%.*s", (int)(bar - (k + plen)), k + plen);
                json_object_set_new(keys, key, json_true());
            }
        }
        out->rows = calloc(json_object_size(keys) + 1, sizeof *out->rows);
        json_object_foreach(keys, k, pos)
        {
            if (out->rows)
                finish_row(&R, group, k, month, &out->rows[out->n++]);
        }
        json_decref(keys);
    }
    ref_free(&R);
    return rc;
}

/* ---- the comparison ----------------------------------------------------------- */

static void diff(json_t *report, int month, int group, const char *key, const char *what,
                 int64_t agg, int64_t ref)
{
    static const char *const gnames[] = {"all", "dept", "street", "community"};
    char m[16];
    snprintf(m, sizeof m, "%04d-%02d", month / 100, month % 100);
    json_array_append_new(report, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "month", m,
                                            "group", gnames[group], "key", key, "indicator",
                                            what, "aggregates", (json_int_t)agg, "recomputed",
                                            (json_int_t)ref));
}

static void compare_rows(json_t *report, int month, int group, const char *key,
                         const ind_row *a, const ind_row *b, int with_now)
{
    static const ind_row zero = {.p90_minutes = -1};
    if (!a)
        a = &zero;
    if (!b)
        b = &zero;
    for (int c = 0; c < SC__COUNT; c++)
        if (c != SC_overdue_done && a->v[c] != b->v[c])
            diff(report, month, group, key, stats_col_names[c], a->v[c], b->v[c]);
    /* overdue: the aggregates count a held order when the overdue job sees
     * it, the replay when it ends; compare the totals */
    if (a->carried_in != b->carried_in)
        diff(report, month, group, key, "carried_in", a->carried_in, b->carried_in);
    if (a->overdue + a->v[SC_overdue_done] != b->overdue + b->v[SC_overdue_done])
        diff(report, month, group, key, "overdue", a->overdue + a->v[SC_overdue_done],
             b->overdue + b->v[SC_overdue_done]);
    if (a->p90_minutes != b->p90_minutes)
        diff(report, month, group, key, "p90_minutes", a->p90_minutes, b->p90_minutes);
    if (with_now && a->overdue_now != b->overdue_now)
        diff(report, month, group, key, "overdue_now", a->overdue_now, b->overdue_now);
    if (with_now && a->unsigned_overdue_now != b->unsigned_overdue_now)
        diff(report, month, group, key, "unsigned_overdue_now", a->unsigned_overdue_now,
             b->unsigned_overdue_now);
}

/* ---- supervision counts --------------------------------------------------------- */

/* The daily supervision counts (stats_notices, stats_deductions, kept by
 * triggers) against a recount of the raw rows: every notice and deduction
 * of [from, to], its day computed here by stats_day(), not by the
 * triggers' SQL. A difference is reported per day, subject and count. */

/* counts[key] = [aggregate, recount] */
static json_t *pair_of(json_t *counts, const char *key)
{
    json_t *p = json_object_get(counts, key);
    if (!p) {
        p = json_pack("[I, I]", (json_int_t)0, (json_int_t)0);
        json_object_set_new(counts, key, p);
    }
    return p;
}

static void pair_add(json_t *counts, const char *key, int side, int64_t n)
{
    json_t *v = json_array_get(pair_of(counts, key), (size_t)side);
    json_integer_set(v, json_integer_value(v) + n);
}

/* key "yyyymmdd|subject|what": one report line per pair that differs */
static void report_pairs(json_t *counts, const char *group, json_t *report)
{
    const char *k;
    json_t *p;
    json_object_foreach(counts, k, p)
    {
        json_int_t agg = json_integer_value(json_array_get(p, 0));
        json_int_t ref = json_integer_value(json_array_get(p, 1));
        if (agg == ref)
            continue;
        int day = atoi(k);
        const char *subject = strchr(k, '|') + 1;
        const char *what = strchr(subject, '|') + 1;
        char m[16], key[80], ind[80];
        snprintf(m, sizeof m, "%04d-%02d", day / 10000, day / 100 % 100);
        snprintf(key, sizeof key, "%.*s", (int)(what - 1 - subject), subject);
        snprintf(ind, sizeof ind, "%s on %04d-%02d-%02d", what, day / 10000, day / 100 % 100,
                 day % 100);
        json_array_append_new(report, json_pack("{s:s, s:s, s:s, s:s, s:I, s:I}", "month", m,
                                                "group", group, "key", key, "indicator", ind,
                                                "aggregates", agg, "recomputed", ref));
    }
}

static int check_notices(db *d, int from, int to, json_t *report)
{
    json_t *counts = json_object();
    char key[96];
    db_stmt *s = db_query(d,
                          "SELECT day, dept_id, issued, ontime FROM stats_notices WHERE day >= ? "
                          "AND day <= ?",
                          "ii", from, to);
    int rc = s ? DB_ROW : DB_ERROR;
    while (s && (rc = db_step(s)) == DB_ROW) {
        snprintf(key, sizeof key, "%d|%lld|notices", db_col_int(s, 0),
                 (long long)db_col_int64(s, 1));
        pair_add(counts, key, 0, db_col_int64(s, 2));
        snprintf(key, sizeof key, "%d|%lld|notices_ontime", db_col_int(s, 0),
                 (long long)db_col_int64(s, 1));
        pair_add(counts, key, 0, db_col_int64(s, 3));
    }
    db_done(s);
    if (rc == DB_DONE) {
        s = db_query(d,
                     "SELECT issued_at, dept_id, answered_at, due_at FROM supervision_notices "
                     "WHERE issued_at >= ? AND issued_at < ?",
                     "II", stats_day_start(from), stats_day_start(stats_day_add(to, 1)));
        rc = s ? DB_ROW : DB_ERROR;
        while (s && (rc = db_step(s)) == DB_ROW) {
            int day = stats_day(db_col_int64(s, 0));
            long long dept = db_col_is_null(s, 1) ? 0 : (long long)db_col_int64(s, 1);
            int ontime = !db_col_is_null(s, 2) && db_col_int64(s, 2) <= db_col_int64(s, 3);
            snprintf(key, sizeof key, "%d|%lld|notices", day, dept);
            pair_add(counts, key, 1, 1);
            snprintf(key, sizeof key, "%d|%lld|notices_ontime", day, dept);
            pair_add(counts, key, 1, ontime);
        }
        db_done(s);
    }
    if (rc == DB_DONE)
        report_pairs(counts, "dept", report);
    json_decref(counts);
    return rc == DB_DONE ? WOK : W_EINTERNAL;
}

static int check_deductions(db *d, int from, int to, json_t *report)
{
    json_t *by_dept = json_object(), *by_grid = json_object();
    char key[160];
    db_stmt *s = db_query(d,
                          "SELECT day, dept_id, grid_code, kind, n FROM stats_deductions WHERE "
                          "day >= ? AND day <= ?",
                          "ii", from, to);
    int rc = s ? DB_ROW : DB_ERROR;
    while (s && (rc = db_step(s)) == DB_ROW) {
        int64_t dept = db_col_int64(s, 1);
        if (dept < 0)
            snprintf(key, sizeof key, "%d|%s|%s", db_col_int(s, 0), db_col_text(s, 2),
                     db_col_text(s, 3));
        else
            snprintf(key, sizeof key, "%d|%lld|%s", db_col_int(s, 0), (long long)dept,
                     db_col_text(s, 3));
        pair_add(dept < 0 ? by_grid : by_dept, key, 0, db_col_int64(s, 4));
    }
    db_done(s);
    if (rc == DB_DONE) {
        s = db_query(d,
                     "SELECT at, dept_id, grid_code, kind FROM deductions WHERE at >= ? AND at < ?",
                     "II", stats_day_start(from), stats_day_start(stats_day_add(to, 1)));
        rc = s ? DB_ROW : DB_ERROR;
        while (s && (rc = db_step(s)) == DB_ROW) {
            int day = stats_day(db_col_int64(s, 0));
            const char *kind = db_col_text(s, 3) ? db_col_text(s, 3) : "";
            int to_grid = db_col_is_null(s, 1);
            if (to_grid)
                snprintf(key, sizeof key, "%d|%s|%s", day,
                         db_col_text(s, 2) ? db_col_text(s, 2) : "", kind);
            else
                snprintf(key, sizeof key, "%d|%lld|%s", day, (long long)db_col_int64(s, 1), kind);
            pair_add(to_grid ? by_grid : by_dept, key, 1, 1);
        }
        db_done(s);
    }
    if (rc == DB_DONE) {
        report_pairs(by_dept, "dept", report);
        report_pairs(by_grid, "grid", report);
    }
    json_decref(by_dept);
    json_decref(by_grid);
    return rc == DB_DONE ? WOK : W_EINTERNAL;
}

int indicators_check(db *d, int from_month, int to_month, int64_t now, json_t **report, werr *e)
{
    struct ref R;
    ref_init(d, &R, from_month, to_month);
    int rc = replay_all(d, &R, now, e);
    if (rc != WOK) {
        ref_free(&R);
        return -1;
    }
    json_t *out = json_array();
    static const int groups[] = {IG_NONE, IG_DEPT, IG_STREET, IG_COMMUNITY};
    for (int month = from_month; month <= to_month && rc == WOK; month = month_add(month, 1)) {
        for (int gi = 0; gi < 4 && rc == WOK; gi++) {
            int group = groups[gi];
            ind_filter f = {0};
            month_range(month, &f.from, &f.to);
            f.dept_id = -1;
            f.group = group;
            f.now = now;
            ind_result agg;
            rc = indicators_query(d, &f, &agg, e);
            if (rc != WOK)
                break;
            /* every key on either side */
            json_t *keys = json_object();
            for (int i = 0; i < agg.n; i++)
                json_object_set_new(keys, agg.rows[i].key, json_true());
            char prefix[16];
            int plen = snprintf(prefix, sizeof prefix, "%d|", group);
            const char *k;
            json_t *pos;
            json_object_foreach(R.index, k, pos)
            {
                if (strncmp(k, prefix, (size_t)plen) == 0) {
                    char key[64];
                    const char *bar = strchr(k + plen, '|');
                    snprintf(key, sizeof key, "%.*s", (int)(bar - (k + plen)), k + plen);
                    json_object_set_new(keys, key, json_true());
                }
            }
            json_object_foreach(keys, k, pos)
            {
                ind_row ref;
                finish_row(&R, group, k, month, &ref);
                compare_rows(out, month, group, k, ind_result_find(&agg, k), &ref, 1);
            }
            json_decref(keys);
            ind_result_free(&agg);
        }
    }
    ref_free(&R);
    int from, to, ignored;
    month_range(from_month, &from, &ignored);
    month_range(to_month, &ignored, &to);
    if (rc == WOK && (check_notices(d, from, to, out) != WOK ||
                      check_deductions(d, from, to, out) != WOK))
        rc = werr_set(e, W_EINTERNAL, "db_error", "supervision counts query failed");
    if (rc != WOK) {
        json_decref(out);
        return -1;
    }
    int n = (int)json_array_size(out);
    *report = out;
    return n;
}
