/*
 * stats.c — incremental aggregates of the work-order timeline (考核评价).
 *
 * order.c calls stats_on_event() inside the write transaction of every
 * order event. The hook keeps it cheap: one read and one upsert of the
 * order's facts row (stats_orders), then one upsert per aggregate table and
 * per "group" of counter deltas (usually one group: the event's day and
 * dimensions). Definitions: docs/indicators.md. The independent check is
 * indicators_ref.c.
 */
#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "calendar.h"
#include "clock.h"
#include "order.h"

const char *const stats_col_names[SC__COUNT] = {
#define STATS_NAME_(n) #n,
    STATS_COLUMNS(STATS_NAME_)
#undef STATS_NAME_
};

/* ---- dates (China Standard Time) ---------------------------------------- */

#define CST_OFFSET (8 * 3600)

/* Days since 1970-01-01 → civil date (Howard Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int64_t floordiv64(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

int stats_day(int64_t t)
{
    int y, m, d;
    civil_from_days(floordiv64(t + CST_OFFSET, 86400), &y, &m, &d);
    return y * 10000 + m * 100 + d;
}

static int64_t day_number(int day)
{
    return days_from_civil(day / 10000, day / 100 % 100, day % 100);
}

int64_t stats_day_start(int day)
{
    return day_number(day) * 86400 - CST_OFFSET;
}

int stats_day_add(int day, int n)
{
    int y, m, d;
    civil_from_days(day_number(day) + n, &y, &m, &d);
    return y * 10000 + m * 100 + d;
}

int stats_day_wday(int day)
{
    int64_t z = day_number(day); /* 1970-01-01 was a Thursday (4) */
    int64_t w = (z % 7 + 7 + 3) % 7; /* 0 = Monday */
    return (int)w + 1;
}

/* ---- grid areas -------------------------------------------------------- */

/* The code widths of depths 0–2, re-read at most every few seconds: the
 * levels are configured once per deployment, and this runs in the ingest
 * path. */
static pthread_mutex_t width_mu = PTHREAD_MUTEX_INITIALIZER;
static int cached_width[3];
static int64_t width_read_ns;

int stats_area_prefixes(db *d, const char *grid_code, char out[2][64])
{
    int width[3] = {6, 3, 3};
    int64_t now = clock_mono_ns();
    pthread_mutex_lock(&width_mu);
    int fresh = width_read_ns && now - width_read_ns < 5000000000LL;
    if (fresh)
        memcpy(width, cached_width, sizeof width);
    pthread_mutex_unlock(&width_mu);
    if (!fresh) {
        db_stmt *s =
            db_query(d, "SELECT depth, code_width FROM grid_levels WHERE depth <= 2", "");
        while (s && db_step(s) == DB_ROW) {
            int dep = db_col_int(s, 0), w = db_col_int(s, 1);
            if (dep >= 0 && dep <= 2 && w > 0 && w < 32)
                width[dep] = w;
        }
        db_done(s);
        pthread_mutex_lock(&width_mu);
        memcpy(cached_width, width, sizeof width);
        width_read_ns = now;
        pthread_mutex_unlock(&width_mu);
    }
    size_t len = grid_code ? strlen(grid_code) : 0;
    int n = 0;
    size_t want = (size_t)width[0];
    for (int dep = 1; dep <= 2; dep++) {
        want += (size_t)width[dep];
        if (want > len || want > 63)
            break;
        memcpy(out[n], grid_code, want);
        out[n][want] = '\0';
        n++;
    }
    return n;
}

/* ---- actions and states ------------------------------------------------- */

static const char *action_names[OA__COUNT];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void load_names(void)
{
    for (int a = 0; a < OA__COUNT; a++) {
        const struct order_transition *t = order_transition_for(a);
        action_names[a] = t ? t->name : NULL;
    }
}

static int action_id(const char *name)
{
    pthread_once(&names_once, load_names);
    for (int a = 0; name && a < OA__COUNT; a++)
        if (action_names[a] && strcmp(action_names[a], name) == 0)
            return a;
    return -1;
}

/* 在办: accepted until closed, resolved on site, rejected or merged. */
static int state_in_progress(int st)
{
    return st == OS_ACCEPTED || st == OS_DISPATCHED || st == OS_SIGNED || st == OS_FEEDBACK ||
           st == OS_REWORK;
}

/* ---- the hook ---------------------------------------------------------- */

struct facts {
    int found;
    char grid[64], cat[40], chan[32];
    char state[24];
    int in_prog, holding, feedback_late, returns, reworks, overdue_marked;
    int64_t dept, hold_start, deadline, response_deadline, cycle_start, dispatched_at,
        signed_at, closed_at, created_at;
};

#define MAX_GROUPS 6

struct group {
    int day;
    int64_t dept;
    const char *grid, *cat, *chan;
    int64_t v[SC__COUNT];
    int only_balance; /* day 0 rows: inflow/outflow only */
};

struct delta {
    int n;
    struct group g[MAX_GROUPS];
};

static struct group *group_for(struct delta *dl, int day, int64_t dept, const char *grid,
                               const char *cat, const char *chan)
{
    for (int i = 0; i < dl->n; i++) {
        struct group *g = &dl->g[i];
        if (g->day == day && g->dept == dept && strcmp(g->grid, grid) == 0 &&
            strcmp(g->cat, cat) == 0 && strcmp(g->chan, chan) == 0)
            return g;
    }
    if (dl->n == MAX_GROUPS)
        return NULL;
    struct group *g = &dl->g[dl->n++];
    memset(g, 0, sizeof *g);
    g->day = day;
    g->dept = dept;
    g->grid = grid;
    g->cat = cat;
    g->chan = chan;
    return g;
}

static int add(struct delta *dl, int day, int64_t dept, const char *grid, const char *cat,
               const char *chan, int col, int64_t n)
{
    struct group *g = group_for(dl, day, dept, grid, cat, chan);
    if (!g)
        return W_EINTERNAL;
    g->v[col] += n;
    return WOK;
}

/* The upsert statements, built once from the column list (positional
 * VALUES: the key columns, then the counters in STATS_COLUMNS order). */
enum { T_DAILY, T_DEPT, T_AREA, T_CAT, T__COUNT };
static char *upsert_sql[T__COUNT];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

static void build_sql(void)
{
    static const char *const tables[T__COUNT] = {"stats_daily", "stats_dept_daily",
                                                 "stats_area_monthly", "stats_cat_monthly"};
    static const char *const keys[T__COUNT] = {
        "day,dept_id,grid_code,category_code,channel", "day,dept_id", "day,area_code",
        "day,category_code"};
    static const int nkeys[T__COUNT] = {5, 2, 2, 2};
    for (int t = 0; t < T__COUNT; t++) {
        size_t cap = 4096;
        char *s = malloc(cap);
        if (!s)
            continue;
        size_t n = (size_t)snprintf(s, cap, "INSERT INTO %s VALUES(", tables[t]);
        for (int k = 0; k < nkeys[t] + SC__COUNT; k++)
            n += (size_t)snprintf(s + n, cap - n, k ? ",?" : "?");
        n += (size_t)snprintf(s + n, cap - n, ")");
        n += (size_t)snprintf(s + n, cap - n, "ON CONFLICT(%s)DO UPDATE SET ", keys[t]);
        for (int c = 0; c < SC__COUNT; c++)
            n += (size_t)snprintf(s + n, cap - n, "%s%s=%s+excluded.%s", c ? "," : "",
                                  stats_col_names[c], stats_col_names[c], stats_col_names[c]);
        upsert_sql[t] = s;
    }
}

/* db_query binds from a type string; the 27 counters are passed as int64. */
#define V27(v)                                                                                \
    v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],   \
        v[14], v[15], v[16], v[17], v[18], v[19], v[20], v[21], v[22], v[23], v[24], v[25],   \
        v[26]
#define T27 "IIIIIIIIIIIIIIIIIIIIIIIIIII"

_Static_assert(SC__COUNT == 27, "update V27/T27 with the column list");

static int exec_ok(db_stmt *s)
{
    if (!s)
        return W_EINTERNAL;
    int rc = db_step(s);
    db_done(s);
    return rc == DB_DONE ? WOK : W_EINTERNAL;
}

/* The ingest path (a report, its automatic dispatch) touches the same few
 * counters every time: for those, short statements that name only their
 * counters (cheaper to find in the statement cache, to bind and to run).
 * Any other combination uses the full-width statement. Few on purpose:
 * every statement text takes a slot of the connection's statement cache. */
static const int fast_cols[][2] = {
    {SC_received, -1},
    {SC_dispatched, SC_inflow},
    {SC_inflow, -1},
};
#define N_FAST ((int)(sizeof fast_cols / sizeof fast_cols[0]))
static char *fast_sql[N_FAST][T__COUNT];

static void build_fast_sql(void)
{
    static const char *const heads[T__COUNT] = {
        "stats_daily(day,dept_id,grid_code,category_code,channel", "stats_dept_daily(day,dept_id",
        "stats_area_monthly(day,area_code", "stats_cat_monthly(day,category_code"};
    static const char *const keys[T__COUNT] = {
        "day,dept_id,grid_code,category_code,channel", "day,dept_id", "day,area_code",
        "day,category_code"};
    static const int nkeys[T__COUNT] = {5, 2, 2, 2};
    for (int f = 0; f < N_FAST; f++) {
        int nc = fast_cols[f][1] < 0 ? 1 : 2;
        for (int t = 0; t < T__COUNT; t++) {
            char buf[1024];
            size_t n = (size_t)snprintf(buf, sizeof buf, "INSERT INTO %s", heads[t]);
            for (int c = 0; c < nc; c++)
                n += (size_t)snprintf(buf + n, sizeof buf - n, ",%s",
                                      stats_col_names[fast_cols[f][c]]);
            n += (size_t)snprintf(buf + n, sizeof buf - n, ")VALUES(");
            for (int k = 0; k < nkeys[t] + nc; k++)
                n += (size_t)snprintf(buf + n, sizeof buf - n, k ? ",?" : "?");
            n += (size_t)snprintf(buf + n, sizeof buf - n, ")");
            n += (size_t)snprintf(buf + n, sizeof buf - n, "ON CONFLICT(%s)DO UPDATE SET ",
                                  keys[t]);
            for (int c = 0; c < nc; c++) {
                const char *col = stats_col_names[fast_cols[f][c]];
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s=%s+excluded.%s",
                                      c ? "," : "", col, col, col);
            }
            fast_sql[f][t] = strdup(buf);
        }
    }
}

static pthread_once_t fast_once = PTHREAD_ONCE_INIT;

/* The fast statement set for a group's counters, or -1. */
static int fast_kind(const struct group *g)
{
    for (int f = 0; f < N_FAST; f++) {
        int ok = 1;
        for (int c = 0; c < SC__COUNT && ok; c++) {
            int in = c == fast_cols[f][0] || c == fast_cols[f][1];
            ok = in ? g->v[c] != 0 : g->v[c] == 0;
        }
        if (ok)
            return f;
    }
    return -1;
}

/* One upsert of table t with the group's counters (k1: the area or
 * category key). */
static int upsert(db *d, int t, int fk, const struct group *g, const char *k1)
{
    const int64_t *v = g->v;
    const int64_t day = g->day;
    if (fk >= 0) {
        int64_t a = v[fast_cols[fk][0]], b = fast_cols[fk][1] >= 0 ? v[fast_cols[fk][1]] : 0;
        const char *sql = fast_sql[fk][t];
        int two = fast_cols[fk][1] >= 0;
        switch (t) {
        case T_DAILY:
            return exec_ok(db_query(d, sql, two ? "IItttII" : "IItttI", day, g->dept, g->grid,
                                    g->cat, g->chan, a, b));
        case T_DEPT: return exec_ok(db_query(d, sql, two ? "IIII" : "III", day, g->dept, a, b));
        default: /* T_AREA, T_CAT */
            return exec_ok(db_query(d, sql, two ? "ItII" : "ItI", day, k1, a, b));
        }
    }
    const char *sql = upsert_sql[t];
    switch (t) {
    case T_DAILY:
        return exec_ok(
            db_query(d, sql, "IIttt" T27, day, g->dept, g->grid, g->cat, g->chan, V27(v)));
    case T_DEPT: return exec_ok(db_query(d, sql, "II" T27, day, g->dept, V27(v)));
    default: return exec_ok(db_query(d, sql, "It" T27, day, k1, V27(v)));
    }
}

static int write_group(db *d, const struct group *g)
{
    int any = 0;
    for (int c = 0; c < SC__COUNT; c++)
        any |= g->v[c] != 0;
    if (!any)
        return WOK;
    pthread_once(&sql_once, build_sql);
    pthread_once(&fast_once, build_fast_sql);
    int fk = fast_kind(g);
    int rc;
    /* Day 0 (the running workload balance) lives in the department and
     * area tables only; the others take their balance from the per-order
     * facts (indicators.c). */
    if (g->day == 0) {
        if ((rc = upsert(d, T_DEPT, fk, g, NULL)) != WOK)
            return rc;
        char a0[2][64];
        int n0 = stats_area_prefixes(d, g->grid, a0);
        for (int i = 0; i < n0; i++)
            if ((rc = upsert(d, T_AREA, fk, g, a0[i])) != WOK)
                return rc;
        return WOK;
    }
    if ((rc = upsert(d, T_DAILY, fk, g, NULL)) != WOK ||
        (rc = upsert(d, T_DEPT, fk, g, NULL)) != WOK)
        return rc;
    /* one statement per row: a multi-row INSERT needs a statement journal,
     * whose cost grows with everything the transaction already changed */
    /* the monthly tables: the first day of the month */
    struct group m = *g;
    m.day = g->day / 100 * 100 + 1;
    char areas[2][64];
    int na = stats_area_prefixes(d, g->grid, areas);
    for (int i = 0; i < na; i++)
        if ((rc = upsert(d, T_AREA, fk, &m, areas[i])) != WOK)
            return rc;
    return upsert(d, T_CAT, fk, &m, g->cat);
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int load_facts(db *d, int64_t order_id, struct facts *f)
{
    memset(f, 0, sizeof *f);
    db_stmt *s = db_query(d,
                          "SELECT grid_code, category_code, channel, state, in_prog, holding, "
                          "feedback_late, returns, reworks, dept_id, hold_start, deadline, "
                          "response_deadline, cycle_start, dispatched_at, signed_at, closed_at, "
                          "created_at, overdue_marked FROM stats_orders WHERE order_id = ?",
                          "I", order_id);
    if (!s)
        return W_EINTERNAL;
    if (db_step(s) == DB_ROW) {
        f->found = 1;
        copy_text(f->grid, sizeof f->grid, db_col_text(s, 0));
        copy_text(f->cat, sizeof f->cat, db_col_text(s, 1));
        copy_text(f->chan, sizeof f->chan, db_col_text(s, 2));
        copy_text(f->state, sizeof f->state, db_col_text(s, 3));
        f->in_prog = db_col_int(s, 4);
        f->holding = db_col_int(s, 5);
        f->feedback_late = db_col_int(s, 6);
        f->returns = db_col_int(s, 7);
        f->reworks = db_col_int(s, 8);
        f->dept = db_col_int64(s, 9);
        f->hold_start = db_col_int64(s, 10);
        f->deadline = db_col_int64(s, 11);
        f->response_deadline = db_col_int64(s, 12);
        f->cycle_start = db_col_int64(s, 13);
        f->dispatched_at = db_col_int64(s, 14);
        f->signed_at = db_col_int64(s, 15);
        f->closed_at = db_col_int64(s, 16);
        f->created_at = db_col_int64(s, 17);
        f->overdue_marked = db_col_int(s, 18);
    }
    db_done(s);
    return WOK;
}

/* The rating of a rate event, from its data JSON {"rating", "default"}. */
static void event_rating(const struct order_event *ev, char out[16], int *is_default)
{
    out[0] = '\0';
    *is_default = 0;
    if (!ev->data)
        return;
    json_t *j = json_loads(ev->data, 0, NULL);
    const char *r = json_string_value(json_object_get(j, "rating"));
    if (r)
        snprintf(out, 16, "%s", r);
    *is_default = json_is_true(json_object_get(j, "default"));
    json_decref(j);
}

int stats_on_event(db *d, const struct order_event *ev)
{
    int a = action_id(ev->action);
    int to = order_state_parse(ev->to_state);
    struct facts f;
    int rc = WOK;
    /* the report is an order's first event: nothing to read yet */
    if (a == OA_REPORT)
        memset(&f, 0, sizeof f);
    else if ((rc = load_facts(d, ev->order_id, &f)) != WOK)
        return rc;
    if (!f.found) {
        /* The report (or an order older than the aggregates). */
        copy_text(f.grid, sizeof f.grid, ev->grid_code);
        copy_text(f.cat, sizeof f.cat, ev->category_code);
        copy_text(f.chan, sizeof f.chan, ev->channel);
        f.created_at = ev->created_at ? ev->created_at : ev->at;
        f.cycle_start = f.created_at;
    }
    const int64_t at = ev->at;
    const int day = stats_day(at);
    /* the dimensions after the event */
    char grid[64], cat[40], chan[32];
    copy_text(grid, sizeof grid, ev->grid_code);
    copy_text(cat, sizeof cat, ev->category_code);
    copy_text(chan, sizeof chan, ev->channel);

    /* The lead department after the event: the new one for a dispatch,
     * none once a return is approved or the order is reopened (it goes
     * back to the centre), else unchanged. */
    int64_t dept_after = a == OA_DISPATCH ? ev->dept_id
                         : (a == OA_RETURN_APPROVE || a == OA_REOPEN) ? 0
                         : f.found ? f.dept : ev->dept_id;
    /* Who the event counts for: its department (order_events.dept_id: the
     * department dispatched to, or the one that held the order). */
    int64_t attr = ev->dept_id;
    int in_prog = state_in_progress(to);
    int holding = order_state_with_department(to);
    struct delta dl = {0};
#define ADD(col, n)                                                                           \
    do {                                                                                      \
        if ((rc = add(&dl, day, attr, grid, cat, chan, (col), (n))) != WOK)                   \
            return rc;                                                                        \
    } while (0)

    int64_t deadline = ev->deadline;
    int64_t rdl = ev->response_deadline ? ev->response_deadline : f.response_deadline;
    int feedback_late = f.feedback_late;
    int64_t cycle_start = f.cycle_start;

    /* A holding ends (feedback, approved return, re-dispatch, …): overdue
     * when it ends after the deadline in force. The overdue job counts a
     * holding as soon as its deadline passes (overdue_marked); then the end
     * only leaves the "overdue now" balance. A deadline that moves under a
     * counted holding (extension decided) un-counts it: the job or the end
     * counts it again if the new deadline is passed too. */
    int new_holding = holding && (!f.holding || a == OA_DISPATCH || dept_after != f.dept);
    int ends = f.holding && (!holding || new_holding);
    int moves = f.holding && holding && !new_holding && deadline != f.deadline;
    int marked = f.overdue_marked && f.holding && !ends && !moves;
    int64_t became = f.hold_start > f.deadline ? f.hold_start : f.deadline;
    if (f.overdue_marked && f.holding && (ends || moves)) {
        if ((rc = stats_overdue_open_add(d, f.dept, -1)) != WOK)
            return rc;
        if (moves && (rc = add(&dl, stats_day(became), f.dept, f.grid, f.cat, f.chan,
                               SC_overdue_done, -1)) != WOK)
            return rc;
    } else if (ends && f.deadline > 0 && at > f.deadline) {
        if ((rc = add(&dl, stats_day(became), f.dept, f.grid, f.cat, f.chan, SC_overdue_done,
                      1)) != WOK)
            return rc;
    }
    int64_t hold_start = new_holding ? at : (holding ? f.hold_start : 0);

    /* The workload balance: (in progress, department, dimensions) pair. */
    int pair_changed = f.in_prog != in_prog || (in_prog && (f.dept != dept_after ||
                                                            strcmp(f.grid, grid) ||
                                                            strcmp(f.cat, cat) ||
                                                            strcmp(f.chan, chan)));
    if (pair_changed && f.in_prog) {
        if ((rc = add(&dl, day, f.dept, f.grid, f.cat, f.chan, SC_outflow, 1)) != WOK ||
            (rc = add(&dl, 0, f.dept, f.grid, f.cat, f.chan, SC_outflow, 1)) != WOK)
            return rc;
    }
    if (pair_changed && in_prog) {
        if ((rc = add(&dl, day, dept_after, grid, cat, chan, SC_inflow, 1)) != WOK ||
            (rc = add(&dl, 0, dept_after, grid, cat, chan, SC_inflow, 1)) != WOK)
            return rc;
    }

    char rating[16] = "";
    int is_default = 0;
    int64_t minutes = -1;
    switch (a) {
    case OA_REPORT:
        ADD(SC_received, 1);
        cycle_start = at;
        break;
    case OA_ACCEPT: ADD(SC_accepted, 1); break;
    case OA_REJECT: ADD(SC_rejected, 1); break;
    case OA_MERGE: ADD(SC_merged, 1); break;
    case OA_ONSITE: ADD(SC_onsite, 1); break;
    case OA_DISPATCH: ADD(SC_dispatched, 1); break;
    case OA_SIGN:
        ADD(SC_signed, 1);
        if (rdl == 0 || at <= rdl)
            ADD(SC_signed_ontime, 1);
        break;
    case OA_RETURN: ADD(SC_return_requests, 1); break;
    case OA_RETURN_APPROVE:
        ADD(SC_returned, 1);
        f.returns++;
        break;
    case OA_EXTEND: ADD(SC_extension_requests, 1); break;
    case OA_EXTEND_APPROVE: ADD(SC_extensions, 1); break;
    case OA_FEEDBACK:
        ADD(SC_feedbacks, 1);
        feedback_late = f.deadline > 0 && at > f.deadline;
        break;
    case OA_VERIFY_PASS: {
        ADD(SC_closed, 1);
        if (!feedback_late)
            ADD(SC_closed_ontime, 1);
        calendar cal;
        calendar_current(&cal);
        minutes = calendar_minutes_between(&cal, cycle_start, at, 1);
        ADD(SC_handled_minutes, minutes);
        break;
    }
    case OA_VERIFY_FAIL:
        ADD(SC_reworks, 1);
        f.reworks++;
        break;
    case OA_RATE:
        ADD(SC_rated, 1);
        event_rating(ev, rating, &is_default);
        if (strcmp(rating, "satisfied") == 0)
            ADD(SC_satisfied, 1);
        else if (strcmp(rating, "basic") == 0)
            ADD(SC_basic, 1);
        else if (strcmp(rating, "unsatisfied") == 0)
            ADD(SC_unsatisfied, 1);
        if (is_default)
            ADD(SC_rated_default, 1);
        break;
    case OA_ESCALATE: ADD(SC_escalated, 1); break;
    case OA_REOPEN:
        ADD(SC_reopened, 1);
        cycle_start = at;
        feedback_late = 0;
        break;
    default: break;
    }
#undef ADD

    for (int i = 0; i < dl.n; i++)
        if ((rc = write_group(d, &dl.g[i])) != WOK)
            return rc;
    if (a == OA_REPORT) {
        int month = day / 100;
        rc = db_exec(d,
                     "INSERT INTO stats_hot_monthly (month, grid_code, category_code, n) "
                     "VALUES (?, ?, ?, 1) ON CONFLICT (month, grid_code, category_code) "
                     "DO UPDATE SET n = n + 1",
                     "itt", month, grid, cat);
        if (rc != WOK)
            return rc;
    }
    if (minutes >= 0) {
        rc = db_exec(d,
                     "INSERT INTO stats_closes (order_id, seq, day, dept_id, grid_code, "
                     "category_code, channel, minutes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     "IiiItttI", ev->order_id, ev->seq, day, attr, grid, cat, chan, minutes);
        if (rc == WOK)
            rc = db_exec(d,
                         "INSERT INTO stats_close_hist (month, dept_id, minutes, n) VALUES (?, ?, "
                         "?, 1) ON CONFLICT (month, dept_id, minutes) DO UPDATE SET n = n + 1",
                         "iII", day / 100, attr, minutes);
        if (rc != WOK)
            return rc;
    }
    rc = db_exec(
        d,
        "INSERT INTO stats_orders (order_id, grid_code, category_code, channel, created_at, "
        "state, in_prog, dept_id, holding, hold_start, deadline, response_deadline, "
        "cycle_start, feedback_late, dispatched_at, signed_at, closed_at, returns, reworks, "
        "rating, updated_at, overdue_marked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET grid_code = "
        "excluded.grid_code, overdue_marked = excluded.overdue_marked, "
        "category_code = excluded.category_code, channel = excluded.channel, "
        "state = excluded.state, in_prog = excluded.in_prog, dept_id = excluded.dept_id, "
        "holding = excluded.holding, hold_start = excluded.hold_start, "
        "deadline = excluded.deadline, response_deadline = excluded.response_deadline, "
        "cycle_start = excluded.cycle_start, feedback_late = excluded.feedback_late, "
        "dispatched_at = excluded.dispatched_at, signed_at = excluded.signed_at, "
        "closed_at = excluded.closed_at, returns = excluded.returns, "
        "reworks = excluded.reworks, rating = coalesce(excluded.rating, stats_orders.rating), "
        "updated_at = excluded.updated_at",
        "ItttItiIiIIIIiIIIiitIi", ev->order_id, grid, cat, chan, f.created_at,
        ev->to_state ? ev->to_state : "", in_prog, dept_after, holding, hold_start,
        holding ? deadline : 0, rdl, cycle_start, feedback_late,
        a == OA_DISPATCH ? at : f.dispatched_at, a == OA_SIGN ? at : f.signed_at,
        a == OA_VERIFY_PASS ? at : f.closed_at, f.returns, f.reworks,
        rating[0] ? rating : NULL, at, marked);
    return rc;
}

/* ---- the overdue job ---------------------------------------------------- */

int stats_overdue_open_add(db *d, int64_t dept, int n)
{
    return db_exec(d,
                   "INSERT INTO stats_overdue_open (dept_id, n) VALUES (?, ?) ON CONFLICT "
                   "(dept_id) DO UPDATE SET n = n + excluded.n",
                   "Ii", dept, n);
}

#define OVERDUE_BATCH 300

struct overdue_ctx {
    int64_t now;
    int done;
};

static int overdue_tx(db *d, void *arg)
{
    struct overdue_ctx *c = arg;
    db_stmt *s = db_query(d,
                          "SELECT order_id, dept_id, grid_code, category_code, channel, "
                          "hold_start, deadline FROM stats_orders WHERE holding = 1 AND "
                          "overdue_marked = 0 AND deadline > 0 AND deadline < ? "
                          "ORDER BY deadline LIMIT ?",
                          "Ii", c->now, OVERDUE_BATCH);
    if (!s)
        return W_EINTERNAL;
    struct {
        int64_t id, dept;
        char grid[64], cat[40], chan[32];
        int day;
    } *rows = calloc(OVERDUE_BATCH, sizeof *rows);
    int n = 0;
    while (rows && n < OVERDUE_BATCH && db_step(s) == DB_ROW) {
        rows[n].id = db_col_int64(s, 0);
        rows[n].dept = db_col_int64(s, 1);
        copy_text(rows[n].grid, sizeof rows[n].grid, db_col_text(s, 2));
        copy_text(rows[n].cat, sizeof rows[n].cat, db_col_text(s, 3));
        copy_text(rows[n].chan, sizeof rows[n].chan, db_col_text(s, 4));
        int64_t hs = db_col_int64(s, 5), dl = db_col_int64(s, 6);
        rows[n].day = stats_day(hs > dl ? hs : dl);
        n++;
    }
    db_done(s);
    if (!rows)
        return W_EINTERNAL;
    int rc = WOK;
    for (int i = 0; i < n && rc == WOK; i++) {
        struct delta dl = {0};
        rc = add(&dl, rows[i].day, rows[i].dept, rows[i].grid, rows[i].cat, rows[i].chan,
                 SC_overdue_done, 1);
        for (int g = 0; rc == WOK && g < dl.n; g++)
            rc = write_group(d, &dl.g[g]);
        if (rc == WOK)
            rc = stats_overdue_open_add(d, rows[i].dept, 1);
        if (rc == WOK)
            rc = db_exec(d, "UPDATE stats_orders SET overdue_marked = 1 WHERE order_id = ?", "I",
                         rows[i].id);
    }
    free(rows);
    c->done = n;
    return rc;
}

int stats_mark_overdue(store *st, int64_t now)
{
    int total = 0;
    for (;;) {
        struct overdue_ctx c = {now, 0};
        if (store_write(st, overdue_tx, &c) != WOK)
            return -1;
        total += c.done;
        if (c.done < OVERDUE_BATCH)
            return total;
    }
}

void stats_overdue_job(store *st)
{
    stats_mark_overdue(st, clock_now());
}
