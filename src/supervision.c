/*
 * supervision.c — see supervision.h. The scanner runs in short write
 * transactions of at most SCAN_BATCH orders each, so that it never holds
 * the writer for long even when catching up after a long downtime.
 */
#include "supervision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "ops_settings.h"
#include "order.h"
#include "outbox.h"

#define SCAN_BATCH 200
#define EVENT_BATCH 1000
#define CURSOR_EVENTS "supervision.events"

/* ---- small helpers --------------------------------------------------------- */

static json_t *time_or_null(int64_t t)
{
    char buf[32];
    if (t <= 0)
        return json_null();
    clock_format(t, buf);
    return json_string(buf);
}

static const char *kind_zh(const char *kind)
{
    if (!kind)
        return "";
    if (strcmp(kind, "overdue_completion") == 0)
        return "超期未办结";
    if (strcmp(kind, "late_signing") == 0)
        return "超时未签收";
    if (strcmp(kind, "repeated_returns") == 0)
        return "多次退单（推诿扯皮）";
    if (strcmp(kind, "improper_whistle") == 0)
        return "乱吹哨";
    if (strcmp(kind, "manual") == 0)
        return "人工督办";
    return kind;
}

static const char *state_zh(const char *state)
{
    if (!state)
        return "";
    if (strcmp(state, "issued") == 0)
        return "已下发";
    if (strcmp(state, "answered") == 0)
        return "已回复";
    if (strcmp(state, "closed") == 0)
        return "已办结";
    return state;
}

static int64_t cursor_get(db *d, const char *name)
{
    int64_t v = 0;
    db_stmt *s = db_query(d, "SELECT value FROM job_cursors WHERE name = ?", "t", name);
    if (s && db_step(s) == DB_ROW)
        v = db_col_int64(s, 0);
    db_done(s);
    return v;
}

static int cursor_set(db *d, const char *name, int64_t v)
{
    return db_exec(d,
                   "INSERT INTO job_cursors (name, value) VALUES (?, ?) "
                   "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                   "tI", name, v);
}

/* ---- recording effects (inside the writer) --------------------------------- */

int deduction_record(db *d, int64_t dept_id, const char *grid_code, const char *level,
                     const char *kind, double points, int64_t order_id, int64_t notice_id,
                     int64_t at, const char *note, int *created)
{
    *created = 0;
    int rc = db_exec(d,
                     "INSERT INTO deductions (dept_id, grid_code, level, kind, points, order_id, "
                     "notice_id, at, note) VALUES (NULLIF(?, 0), ?, ?, ?, ?, ?, NULLIF(?, 0), ?, "
                     "?) ON CONFLICT (order_id, kind) DO NOTHING",
                     "Itttd" "IIIt", dept_id, grid_code, level, kind, points, order_id, notice_id,
                     at, note);
    if (rc != WOK)
        return rc;
    *created = db_changes(d) > 0;
    return WOK;
}

int supervision_issue_tx(db *d, int64_t order_id, const char *order_code, int64_t dept_id,
                         const char *grid_code, const char *kind, const char *reason,
                         int64_t issued_at, int64_t due_at, int64_t issued_by, int emit,
                         int64_t *id)
{
    *id = 0;
    int64_t next = 1;
    db_stmt *s = db_query(d, "SELECT coalesce(max(id), 0) + 1 FROM supervision_notices", "");
    if (s && db_step(s) == DB_ROW)
        next = db_col_int64(s, 0);
    db_done(s);
    if (!s)
        return W_EINTERNAL;
    /* 督办单号: DB + the local date + a sequence number */
    char local[32], code[40];
    clock_format_local(issued_at, local);
    snprintf(code, sizeof code, "DB%.4s%.2s%.2s-%06lld", local, local + 5, local + 8,
             (long long)next);
    int rc = db_exec(d,
                     "INSERT INTO supervision_notices (id, code, order_id, order_code, dept_id, "
                     "grid_code, kind, state, reason, issued_at, issued_by, due_at) VALUES "
                     "(?, ?, ?, ?, NULLIF(?, 0), ?, ?, 'issued', ?, ?, NULLIF(?, 0), ?) "
                     "ON CONFLICT DO NOTHING",
                     "ItItItttIII", next, code, order_id, order_code, dept_id, grid_code, kind,
                     reason, issued_at, issued_by, due_at);
    if (rc != WOK)
        return rc;
    if (db_changes(d) == 0)
        return WOK; /* one per order and kind already exists */
    *id = next;
    if (!emit)
        return WOK;
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)next);
    char due[32];
    clock_format(due_at, due);
    json_t *p = json_pack("{s:I, s:s, s:I, s:s?, s:I, s:s?, s:s, s:s, s:s, s:s, s:[s]}", "id",
                          (json_int_t)next, "code", code, "order_id", (json_int_t)order_id,
                          "order_code", order_code, "dept_id", (json_int_t)dept_id, "grid_code",
                          grid_code, "kind", kind, "kind_zh", kind_zh(kind), "reason", reason,
                          "due_at", due, "copied_to", "inspector");
    rc = outbox_emit(d, "supervision.issued", "supervision", idtxt, p);
    json_decref(p);
    return rc;
}

/* The automatic notice of this kind for the order (0: none). */
static int64_t notice_id_of(db *d, int64_t order_id, const char *kind)
{
    int64_t id = 0;
    db_stmt *s = db_query(d, SUPERVISION_NOTICE_ID_SQL, "It", order_id, kind);
    if (s && db_step(s) == DB_ROW)
        id = db_col_int64(s, 0);
    db_done(s);
    return id;
}

struct scan_ctx {
    int64_t now;
    int64_t warn_s, answer_s;
    int return_limit;
    int points[4]; /* improper, late signing, repeated returns, overdue */
    int effects;
    int more;      /* a batch was full: run again */
};

static int alert_once(db *d, int64_t order_id, const char *kind, int64_t deadline, int64_t now,
                      int *created)
{
    int rc = db_exec(d,
                     "INSERT INTO order_alerts (order_id, kind, deadline, at) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (order_id, kind) DO NOTHING",
                     "ItII", order_id, kind, deadline, now);
    *created = rc == WOK && db_changes(d) > 0;
    return rc;
}

static int emit_deduction(db *d, int64_t order_id, const char *order_code, int64_t dept,
                          const char *grid, const char *kind, int points, int64_t at)
{
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)order_id);
    char when[32];
    clock_format(at, when);
    json_t *p = json_pack("{s:I, s:s?, s:I, s:s?, s:s, s:s, s:i, s:s}", "order_id",
                          (json_int_t)order_id, "order_code", order_code, "dept_id",
                          (json_int_t)dept, "grid_code", grid, "kind", kind, "kind_zh",
                          kind_zh(kind), "points", points, "at", when);
    int rc = outbox_emit(d, "deduction.recorded", "order", idtxt, p);
    json_decref(p);
    return rc;
}

/* A deadline was missed: response (not signed in time) or completion. */
static int effect_overdue(db *d, struct scan_ctx *c, int64_t order_id, const char *code,
                          int64_t dept, const char *grid, int64_t deadline, int response,
                          int still_open)
{
    const char *alert = response ? "response_overdue" : "completion_overdue";
    const char *kind = response ? "late_signing" : "overdue_completion";
    int created = 0, rc = alert_once(d, order_id, alert, deadline, c->now, &created);
    if (rc != WOK)
        return rc;
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)order_id);
    if (created && still_open) {
        json_t *p = json_pack("{s:I, s:s?, s:s, s:I, s:I, s:s?}", "id", (json_int_t)order_id,
                              "code", code, "kind", response ? "response" : "completion",
                              "deadline", (json_int_t)deadline, "dept_id", (json_int_t)dept,
                              "grid_code", grid);
        rc = outbox_emit(d, "order.overdue", "order", idtxt, p);
        json_decref(p);
        if (rc != WOK)
            return rc;
    }
    char local[32], reason[200];
    clock_format_local(deadline, local);
    snprintf(reason, sizeof reason,
             response ? "超过签收时限未签收（时限 %.16s）— not signed for by the response "
                        "deadline"
                      : "超过办结时限未办结（时限 %.16s）— not completed by the deadline",
             local);
    int64_t nid = 0;
    rc = supervision_issue_tx(d, order_id, code, dept, grid, kind, reason, c->now,
                              c->now + c->answer_s, 0, 1, &nid);
    if (rc != WOK)
        return rc;
    if (!nid)
        nid = notice_id_of(d, order_id, kind);
    int points = c->points[response ? 1 : 3], dc = 0;
    rc = deduction_record(d, dept, grid, NULL, kind, points, order_id, nid, deadline, reason, &dc);
    if (rc == WOK && dc)
        rc = emit_deduction(d, order_id, code, dept, grid, kind, points, deadline);
    if (rc == WOK && (dc || created))
        c->effects++;
    return rc;
}

static int effect_returns(db *d, struct scan_ctx *c, int64_t order_id, const char *code,
                          int64_t dept, const char *grid, int returns, int64_t at)
{
    char reason[200];
    snprintf(reason, sizeof reason, "退单 %d 次，超过 %d 次 — returned %d times (推诿扯皮)",
             returns, c->return_limit, returns);
    int64_t nid = 0;
    int rc = supervision_issue_tx(d, order_id, code, dept, grid, "repeated_returns", reason,
                                  c->now, c->now + c->answer_s, 0, 1, &nid);
    if (rc != WOK)
        return rc;
    if (!nid)
        nid = notice_id_of(d, order_id, "repeated_returns");
    int dc = 0;
    rc = deduction_record(d, dept, grid, NULL, "repeated_returns", c->points[2], order_id, nid,
                          at, reason, &dc);
    if (rc == WOK && dc) {
        rc = emit_deduction(d, order_id, code, dept, grid, "repeated_returns", c->points[2], at);
        c->effects++;
    }
    return rc;
}

/* 乱吹哨: the reporting level is charged, not a department. */
static const char *reporting_level(const char *role)
{
    if (!role)
        return NULL;
    if (strcmp(role, "grid_worker") == 0 || strcmp(role, "community_staff") == 0)
        return "community";
    if (strcmp(role, "street_staff") == 0)
        return "street";
    return NULL;
}

static int effect_improper(db *d, struct scan_ctx *c, int64_t order_id, const char *code,
                           const char *grid, const char *level, int64_t at, const char *why)
{
    char note[300];
    snprintf(note, sizeof note, "上报被中心驳回（乱吹哨）: %s", why ? why : "");
    int dc = 0;
    int rc = deduction_record(d, 0, grid, level, "improper_whistle", c->points[0], order_id, 0,
                              at, note, &dc);
    if (rc == WOK && dc) {
        rc = emit_deduction(d, order_id, code, 0, grid, "improper_whistle", c->points[0], at);
        c->effects++;
    }
    return rc;
}

/* ---- the scanner: deadlines stored in the orders ------------------------------ */

struct cand {
    int64_t id, dept, deadline;
    char code[24], grid[64];
};

static int read_cands(db_stmt *s, struct cand *out, int max)
{
    int n = 0;
    while (s && db_step(s) == DB_ROW && n < max) {
        out[n].id = db_col_int64(s, 0);
        snprintf(out[n].code, sizeof out[n].code, "%s", db_col_text(s, 1) ? db_col_text(s, 1) : "");
        out[n].dept = db_col_is_null(s, 2) ? 0 : db_col_int64(s, 2);
        snprintf(out[n].grid, sizeof out[n].grid, "%s", db_col_text(s, 3) ? db_col_text(s, 3) : "");
        out[n].deadline = db_col_int64(s, 4);
        n++;
    }
    db_done(s);
    return n;
}

static int deadlines_tx(db *d, void *arg)
{
    struct scan_ctx *c = arg;
    /* a write fn may run twice (store.h): start from a clean slate */
    c->effects = 0;
    struct cand *v = calloc(SCAN_BATCH, sizeof *v);
    if (!v)
        return W_EINTERNAL;
    int rc = WOK, n;
    /* 1. dispatched and not signed for by the response deadline */
    n = read_cands(db_query(d,
                            "SELECT o.id, o.code, o.lead_dept_id, o.grid_code, "
                            "o.response_deadline FROM orders o WHERE o.state = 'dispatched' "
                            "AND o.response_deadline < ? AND NOT EXISTS (SELECT 1 FROM "
                            "order_alerts a WHERE a.order_id = o.id AND a.kind = "
                            "'response_overdue') ORDER BY o.response_deadline LIMIT ?",
                            "Ii", c->now, SCAN_BATCH),
                   v, SCAN_BATCH);
    c->more |= n == SCAN_BATCH;
    for (int i = 0; i < n && rc == WOK; i++)
        rc = effect_overdue(d, c, v[i].id, v[i].code, v[i].dept, v[i].grid[0] ? v[i].grid : NULL,
                            v[i].deadline, 1, 1);
    /* 2. with the department past the completion deadline */
    if (rc == WOK) {
        n = read_cands(db_query(d,
                                "SELECT o.id, o.code, o.lead_dept_id, o.grid_code, o.deadline "
                                "FROM orders o WHERE o.state IN ('dispatched', 'signed', "
                                "'rework') AND o.deadline < ? AND NOT EXISTS (SELECT 1 FROM "
                                "order_alerts a WHERE a.order_id = o.id AND a.kind = "
                                "'completion_overdue') ORDER BY o.deadline LIMIT ?",
                                "Ii", c->now, SCAN_BATCH),
                       v, SCAN_BATCH);
        c->more |= n == SCAN_BATCH;
        for (int i = 0; i < n && rc == WOK; i++)
            rc = effect_overdue(d, c, v[i].id, v[i].code, v[i].dept,
                                v[i].grid[0] ? v[i].grid : NULL, v[i].deadline, 0, 1);
    }
    /* 3. warnings: the deadline comes within the warning window */
    for (int k = 0; k < 2 && rc == WOK && c->warn_s > 0; k++) {
        const char *sql =
            k == 0 ? "SELECT o.id, o.code, o.lead_dept_id, o.grid_code, o.response_deadline "
                     "FROM orders o WHERE o.state = 'dispatched' AND o.response_deadline >= ? "
                     "AND o.response_deadline < ? AND NOT EXISTS (SELECT 1 FROM order_alerts a "
                     "WHERE a.order_id = o.id AND a.kind = 'response_warning') "
                     "ORDER BY o.response_deadline LIMIT ?"
                   : "SELECT o.id, o.code, o.lead_dept_id, o.grid_code, o.deadline FROM orders o "
                     "WHERE o.state IN ('dispatched', 'signed', 'rework') AND o.deadline >= ? "
                     "AND o.deadline < ? AND NOT EXISTS (SELECT 1 FROM order_alerts a WHERE "
                     "a.order_id = o.id AND a.kind = 'completion_warning') "
                     "ORDER BY o.deadline LIMIT ?";
        n = read_cands(db_query(d, sql, "IIi", c->now, c->now + c->warn_s, SCAN_BATCH), v,
                       SCAN_BATCH);
        c->more |= n == SCAN_BATCH;
        for (int i = 0; i < n && rc == WOK; i++) {
            int created = 0;
            rc = alert_once(d, v[i].id, k == 0 ? "response_warning" : "completion_warning",
                            v[i].deadline, c->now, &created);
            if (rc != WOK || !created)
                continue;
            char idtxt[24];
            snprintf(idtxt, sizeof idtxt, "%lld", (long long)v[i].id);
            json_t *p = json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:s?}", "id",
                                  (json_int_t)v[i].id, "code", v[i].code, "kind",
                                  k == 0 ? "response" : "completion", "deadline",
                                  (json_int_t)v[i].deadline, "minutes_left",
                                  (json_int_t)((v[i].deadline - c->now) / 60), "dept_id",
                                  (json_int_t)v[i].dept, "grid_code",
                                  v[i].grid[0] ? v[i].grid : NULL);
            rc = outbox_emit(d, "order.deadline_warning", "order", idtxt, p);
            json_decref(p);
            c->effects++;
        }
    }
    free(v);
    return rc;
}

/* ---- the scanner: what the timeline says happened ------------------------------ */

static int events_tx(db *d, void *arg)
{
    struct scan_ctx *c = arg;
    /* a write fn may run twice (store.h): start from a clean slate */
    c->effects = 0;
    int64_t cursor = cursor_get(d, CURSOR_EVENTS);
    int64_t last = cursor;
    db_stmt *s = db_query(
        d,
        "SELECT e.id, e.order_id, e.action, e.at, e.dept_id, e.data, o.code, o.grid_code, "
        "o.reporter_role FROM order_events e JOIN orders o ON o.id = e.order_id "
        "WHERE e.id > ? AND e.action IN ('sign', 'feedback', 'return_approve', 'reject') "
        "ORDER BY e.id LIMIT ?",
        "Ii", cursor, EVENT_BATCH);
    if (!s)
        return W_EINTERNAL;
    struct ev {
        int64_t id, order_id, at, dept;
        char action[20], code[24], grid[64], role[24];
        json_t *data;
    } *v = calloc(EVENT_BATCH, sizeof *v);
    if (!v) {
        db_done(s);
        return W_EINTERNAL;
    }
    int n = 0;
    while (n < EVENT_BATCH && db_step(s) == DB_ROW) {
        struct ev *x = &v[n++];
        x->id = db_col_int64(s, 0);
        x->order_id = db_col_int64(s, 1);
        snprintf(x->action, sizeof x->action, "%s", db_col_text(s, 2));
        x->at = db_col_int64(s, 3);
        x->dept = db_col_is_null(s, 4) ? 0 : db_col_int64(s, 4);
        x->data = db_col_text(s, 5) ? json_loads(db_col_text(s, 5), 0, NULL) : NULL;
        snprintf(x->code, sizeof x->code, "%s", db_col_text(s, 6) ? db_col_text(s, 6) : "");
        snprintf(x->grid, sizeof x->grid, "%s", db_col_text(s, 7) ? db_col_text(s, 7) : "");
        snprintf(x->role, sizeof x->role, "%s", db_col_text(s, 8) ? db_col_text(s, 8) : "");
    }
    db_done(s);
    int rc = WOK;
    for (int i = 0; i < n && rc == WOK; i++) {
        struct ev *x = &v[i];
        const char *grid = x->grid[0] ? x->grid : NULL;
        json_t *ontime = json_object_get(x->data, "ontime");
        if (strcmp(x->action, "sign") == 0 && json_is_false(ontime)) {
            int64_t dl = json_integer_value(json_object_get(x->data, "response_deadline"));
            rc = effect_overdue(d, c, x->order_id, x->code, x->dept, grid, dl ? dl : x->at, 1, 0);
        } else if (strcmp(x->action, "feedback") == 0 && json_is_false(ontime)) {
            int64_t dl = json_integer_value(json_object_get(x->data, "deadline"));
            rc = effect_overdue(d, c, x->order_id, x->code, x->dept, grid, dl ? dl : x->at, 0, 0);
        } else if (strcmp(x->action, "return_approve") == 0) {
            /* how many returns the order had up to this one */
            int count = 0;
            db_stmt *q = db_query(d,
                                  "SELECT count(*) FROM order_events WHERE order_id = ? AND "
                                  "action = 'return_approve' AND id <= ?",
                                  "II", x->order_id, x->id);
            if (q && db_step(q) == DB_ROW)
                count = db_col_int(q, 0);
            db_done(q);
            json_t *by = json_object_get(x->data, "returned_by");
            int64_t dept = json_is_integer(by) ? json_integer_value(by) : x->dept;
            if (count > c->return_limit)
                rc = effect_returns(d, c, x->order_id, x->code, dept, grid, count, x->at);
        } else if (strcmp(x->action, "reject") == 0) {
            const char *level = reporting_level(x->role);
            if (level)
                rc = effect_improper(d, c, x->order_id, x->code, grid, level, x->at,
                                     json_string_value(json_object_get(x->data, "reason")));
        }
        if (rc == WOK)
            last = x->id;
    }
    for (int i = 0; i < n; i++)
        json_decref(v[i].data);
    free(v);
    if (rc != WOK)
        return rc;
    if (n < EVENT_BATCH) {
        /* nothing more of interest: jump to the newest event */
        s = db_query(d, "SELECT coalesce(max(id), 0) FROM order_events", "");
        if (s && db_step(s) == DB_ROW && db_col_int64(s, 0) > last)
            last = db_col_int64(s, 0);
        db_done(s);
    } else {
        c->more = 1;
    }
    return last != cursor ? cursor_set(d, CURSOR_EVENTS, last) : WOK;
}

static void scan_settings(store *st, struct scan_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->now = clock_now();
    db *d = store_reader(st);
    int64_t warn = SUPERVISION_DEFAULT_WARNING_HOURS, answer = SUPERVISION_DEFAULT_ANSWER_HOURS;
    c->return_limit = SUPERVISION_DEFAULT_RETURN_LIMIT;
    c->points[0] = POINTS_IMPROPER_WHISTLE;
    c->points[1] = POINTS_LATE_SIGNING;
    c->points[2] = POINTS_REPEATED_RETURNS;
    c->points[3] = POINTS_OVERDUE_COMPLETION;
    if (d) {
        warn = ops_setting_int(d, "supervision.warning_hours", warn);
        answer = ops_setting_int(d, "supervision.answer_hours", answer);
        c->return_limit =
            (int)ops_setting_int(d, "supervision.return_limit", SUPERVISION_DEFAULT_RETURN_LIMIT);
        c->points[0] = (int)ops_setting_int(d, "supervision.points.improper_whistle", c->points[0]);
        c->points[1] = (int)ops_setting_int(d, "supervision.points.late_signing", c->points[1]);
        c->points[2] = (int)ops_setting_int(d, "supervision.points.repeated_returns", c->points[2]);
        c->points[3] =
            (int)ops_setting_int(d, "supervision.points.overdue_completion", c->points[3]);
        store_release(st, d);
    }
    c->warn_s = warn > 0 ? warn * 3600 : 0;
    c->answer_s = (answer > 0 ? answer : SUPERVISION_DEFAULT_ANSWER_HOURS) * 3600;
}

/* A cheap look with a reader first, so that an idle scanner never takes
 * the writer (and costs no fsync): 1 when a write pass has work to do. */
static int scan_needed(store *st, const struct scan_ctx *c)
{
    db *d = store_reader(st);
    if (!d)
        return 1;
    int64_t cursor = cursor_get(d, CURSOR_EVENTS);
    static const char *const probes[] = {
        "SELECT 1 FROM order_events WHERE id > ? AND action IN ('sign', 'feedback', "
        "'return_approve', 'reject') LIMIT 1",
        "SELECT 1 FROM order_events WHERE id > ? + 10000 LIMIT 1",
        "SELECT 1 FROM orders o WHERE o.state = 'dispatched' AND o.response_deadline < ? + ? "
        "AND NOT EXISTS (SELECT 1 FROM order_alerts a WHERE a.order_id = o.id AND a.kind = "
        "CASE WHEN o.response_deadline < ? THEN 'response_overdue' ELSE 'response_warning' END) "
        "LIMIT 1",
        "SELECT 1 FROM orders o WHERE o.state IN ('dispatched', 'signed', 'rework') AND "
        "o.deadline < ? + ? AND NOT EXISTS (SELECT 1 FROM order_alerts a WHERE a.order_id = o.id "
        "AND a.kind = CASE WHEN o.deadline < ? THEN 'completion_overdue' ELSE "
        "'completion_warning' END) LIMIT 1",
    };
    int need = 0;
    for (int i = 0; i < 4 && !need; i++) {
        db_stmt *s = i < 2 ? db_query(d, probes[i], "I", cursor)
                           : db_query(d, probes[i], "III", c->now, c->warn_s, c->now);
        need = !s || db_step(s) == DB_ROW;
        db_done(s);
    }
    store_release(st, d);
    return need;
}

int supervision_scan(store *st)
{
    struct scan_ctx c;
    scan_settings(st, &c);
    int total = 0;
    if (!scan_needed(st, &c))
        return 0;
    for (int round = 0; round < 50; round++) {
        c.more = 0;
        c.effects = 0;
        if (store_write(st, events_tx, &c) != WOK) {
            log_error(NULL, "supervision: timeline scan failed");
            break;
        }
        total += c.effects; /* each scan counts its own (it may run twice) */
        c.effects = 0;
        if (store_write(st, deadlines_tx, &c) != WOK) {
            log_error(NULL, "supervision: deadline scan failed");
            break;
        }
        total += c.effects;
        if (!c.more)
            break;
    }
    if (total)
        log_info(NULL, "supervision: %d warnings, notices or deductions recorded", total);
    return total;
}

void supervision_job(store *st)
{
    supervision_scan(st);
}

/* ---- default rating ------------------------------------------------------------ */

static int mark_rating_failed(db *d, void *arg)
{
    int64_t id = *(int64_t *)arg;
    return db_exec(d,
                   "INSERT INTO order_alerts (order_id, kind, deadline, at) VALUES (?, "
                   "'default_rating_failed', NULL, ?) ON CONFLICT (order_id, kind) DO NOTHING",
                   "II", id, clock_now());
}

int rating_default_scan(store *st)
{
    db *d = store_reader(st);
    if (!d)
        return 0;
    int64_t days = ops_setting_int(d, "rating.default_days", RATING_DEFAULT_DAYS);
    if (days < 1) {
        store_release(st, d);
        return 0; /* switched off */
    }
    int64_t ids[100];
    int n = 0;
    db_stmt *s = db_query(d,
                          "SELECT o.id FROM orders o WHERE o.state IN ('closed', 'onsite') "
                          "AND o.closed_at <= ? AND NOT EXISTS (SELECT 1 FROM order_alerts a "
                          "WHERE a.order_id = o.id AND a.kind = 'default_rating_failed') "
                          "ORDER BY o.closed_at LIMIT 100",
                          "I", clock_now() - days * 86400);
    while (s && db_step(s) == DB_ROW && n < 100)
        ids[n++] = db_col_int64(s, 0);
    db_done(s);
    store_release(st, d);
    audit_actor a;
    audit_actor_system(&a, "default-rating");
    int done = 0;
    for (int i = 0; i < n; i++) {
        order_action_input in;
        memset(&in, 0, sizeof in);
        in.action = OA_RATE;
        in.rating = "satisfied";
        in.rating_default = 1;
        in.note = "逾期未评价，系统默认满意 (no rating given in time: default rating)";
        werr e = {0};
        int rc = order_act(st, NULL, &a, ids[i], &in, NULL, &e);
        if (rc == WOK) {
            done++;
        } else if (rc != W_ECONFLICT) {
            /* never retry an order that cannot be rated, every round */
            log_warn(NULL, "default rating of order %lld failed: %s", (long long)ids[i],
                     e.message);
            store_write(st, mark_rating_failed, &ids[i]);
        }
    }
    if (done)
        log_info(NULL, "default rating given to %d orders", done);
    return n;
}

void rating_default_job(store *st)
{
    /* catch up in batches of 100 (after downtime there may be many) */
    for (int i = 0; i < 100 && rating_default_scan(st) == 100; i++) {
    }
}

/* ---- notices: reads -------------------------------------------------------------- */

#define NOTICE_COLS                                                                              \
    "n.id, n.code, n.order_id, n.order_code, n.dept_id, dp.name, n.grid_code, n.kind, n.state, " \
    "n.reason, n.issued_at, n.issued_by, n.due_at, n.answer, n.answered_at, n.answered_by, "     \
    "n.close_note, n.closed_at, n.closed_by"

static json_t *notice_json(db_stmt *s, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(db_col_int64(s, 0)));
    json_object_set_new(o, "code", json_string(db_col_text(s, 1)));
    json_object_set_new(o, "order_id", json_integer(db_col_int64(s, 2)));
    json_object_set_new(o, "order_code",
                        db_col_text(s, 3) ? json_string(db_col_text(s, 3)) : json_null());
    json_object_set_new(o, "dept_id",
                        db_col_is_null(s, 4) ? json_null() : json_integer(db_col_int64(s, 4)));
    json_object_set_new(o, "dept_name",
                        db_col_text(s, 5) ? json_string(db_col_text(s, 5)) : json_null());
    json_object_set_new(o, "grid_code",
                        db_col_text(s, 6) ? json_string(db_col_text(s, 6)) : json_null());
    const char *kind = db_col_text(s, 7), *state = db_col_text(s, 8);
    json_object_set_new(o, "kind", json_string(kind));
    json_object_set_new(o, "kind_zh", json_string(kind_zh(kind)));
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "state_zh", json_string(state_zh(state)));
    json_object_set_new(o, "reason", json_string(db_col_text(s, 9)));
    json_object_set_new(o, "issued_at", time_or_null(db_col_int64(s, 10)));
    json_object_set_new(o, "issued_by",
                        db_col_is_null(s, 11) ? json_null() : json_integer(db_col_int64(s, 11)));
    int64_t due = db_col_int64(s, 12);
    json_object_set_new(o, "due_at", time_or_null(due));
    /* the answer itself is late while it is still awaited past due_at */
    json_object_set_new(o, "answer_overdue", json_boolean(strcmp(state, "issued") == 0 && now > due));
    json_object_set_new(o, "answer",
                        db_col_text(s, 13) ? json_string(db_col_text(s, 13)) : json_null());
    json_object_set_new(o, "answered_at",
                        db_col_is_null(s, 14) ? json_null() : time_or_null(db_col_int64(s, 14)));
    json_object_set_new(o, "answered_by",
                        db_col_is_null(s, 15) ? json_null() : json_integer(db_col_int64(s, 15)));
    json_object_set_new(o, "close_note",
                        db_col_text(s, 16) ? json_string(db_col_text(s, 16)) : json_null());
    json_object_set_new(o, "closed_at",
                        db_col_is_null(s, 17) ? json_null() : time_or_null(db_col_int64(s, 17)));
    json_object_set_new(o, "closed_by",
                        db_col_is_null(s, 18) ? json_null() : json_integer(db_col_int64(s, 18)));
    json_object_set_new(o, "copied_to", json_pack("[s]", "inspector"));
    return o;
}

/* The principal's scope as query parameters: dept (0: any, -1: none) and
 * a grid code prefix ("" : any). */
static void scope_of(const principal *who, int64_t *dept, const char **grid)
{
    *dept = 0;
    *grid = "";
    switch (who->scope_kind) {
    case SCOPE_ALL: break;
    case SCOPE_DEPT: *dept = who->scope_dept > 0 ? who->scope_dept : -1; break;
    case SCOPE_GRID:
        *grid = who->scope_grid;
        if (!**grid)
            *dept = -1;
        break;
    default: *dept = -1;
    }
}

static int notice_visible(const principal *who, int64_t dept_id, const char *grid)
{
    switch (who->scope_kind) {
    case SCOPE_ALL: return 1;
    case SCOPE_DEPT: return who->scope_dept > 0 && dept_id == who->scope_dept;
    case SCOPE_GRID: return grid && scope_covers_grid(who, grid);
    default: return 0;
    }
}

int supervision_list(db *d, const principal *who, const supervision_query *q, json_t **out,
                     werr *e)
{
    int64_t sdept;
    const char *sgrid;
    scope_of(who, &sdept, &sgrid);
    int limit = q->limit > 0 && q->limit <= 500 ? q->limit : 50;
    db_stmt *s = db_query(
        d,
        "SELECT " NOTICE_COLS " FROM supervision_notices n "
        "LEFT JOIN departments dp ON dp.id = n.dept_id "
        "WHERE (? = 0 OR n.dept_id = ?) AND (? = '' OR substr(coalesce(n.grid_code, ''), 1, ?) "
        "= ?) AND (? IS NULL OR n.state = ?) AND (? IS NULL OR n.kind = ?) "
        "AND (? = 0 OR n.dept_id = ?) AND (? = 0 OR n.order_id = ?) AND (? = 0 OR n.id < ?) "
        "ORDER BY n.id DESC LIMIT ?",
        "IItitttttIIIIIIi", sdept, sdept, sgrid, (int)strlen(sgrid), sgrid, q->state, q->state,
        q->kind, q->kind, q->dept_id, q->dept_id, q->order_id, q->order_id, q->before_id,
        q->before_id, limit + 1);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read supervision notices");
    json_t *items = json_array();
    int n = 0;
    int64_t lastid = 0, next = 0, now = clock_now();
    while (db_step(s) == DB_ROW) {
        if (n == limit) {
            next = lastid;
            break;
        }
        lastid = db_col_int64(s, 0);
        json_array_append_new(items, notice_json(s, now));
        n++;
    }
    db_done(s);
    *out = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                     next ? json_integer(next) : json_null());
    return WOK;
}

int supervision_get(db *d, const principal *who, int64_t id, json_t **out, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT " NOTICE_COLS " FROM supervision_notices n "
                          "LEFT JOIN departments dp ON dp.id = n.dept_id WHERE n.id = ?",
                          "I", id);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read the notice");
    if (db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(e, W_ENOTFOUND, "not_found", "no supervision notice %lld",
                        (long long)id);
    }
    int64_t dept = db_col_is_null(s, 4) ? 0 : db_col_int64(s, 4);
    if (!notice_visible(who, dept, db_col_text(s, 6))) {
        db_done(s);
        return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                        "不在您的管辖范围 (supervision notice %lld is outside your scope)",
                        (long long)id);
    }
    json_t *o = notice_json(s, clock_now());
    db_done(s);
    /* the order it is about, briefly */
    s = db_query(d,
                 "SELECT state, category_code, description, response_deadline, deadline, "
                 "returns FROM orders WHERE id = ?",
                 "I", json_integer_value(json_object_get(o, "order_id")));
    if (s && db_step(s) == DB_ROW) {
        json_object_set_new(
            o, "order",
            json_pack("{s:s, s:s?, s:s, s:o, s:o, s:i}", "state", db_col_text(s, 0), "category",
                      db_col_text(s, 1), "description", db_col_text(s, 2) ? db_col_text(s, 2) : "",
                      "response_deadline", time_or_null(db_col_int64(s, 3)), "deadline",
                      time_or_null(db_col_int64(s, 4)), "returns", db_col_int(s, 5)));
    }
    db_done(s);
    *out = o;
    return WOK;
}

/* ---- notices: writes -------------------------------------------------------------- */

struct notice_ctx {
    const principal *who;
    const audit_actor *a;
    int64_t id;
    const char *text;
    int answer; /* 1: answer, 0: close */
    werr *e;
};

static int notice_act_tx(db *d, void *arg)
{
    struct notice_ctx *c = arg;
    db_stmt *s = db_query(d,
                          "SELECT state, dept_id, grid_code, order_id, code FROM "
                          "supervision_notices WHERE id = ?",
                          "I", c->id);
    if (!s)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot read the notice");
    if (db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no supervision notice %lld",
                        (long long)c->id);
    }
    char state[16], grid[64], code[40];
    snprintf(state, sizeof state, "%s", db_col_text(s, 0));
    int64_t dept = db_col_is_null(s, 1) ? 0 : db_col_int64(s, 1);
    snprintf(grid, sizeof grid, "%s", db_col_text(s, 2) ? db_col_text(s, 2) : "");
    int64_t order_id = db_col_int64(s, 3);
    snprintf(code, sizeof code, "%s", db_col_text(s, 4));
    db_done(s);
    if (!notice_visible(c->who, dept, grid[0] ? grid : NULL))
        return werr_set(c->e, W_EFORBIDDEN, "out_of_scope",
                        "不在您的管辖范围 (supervision notice %lld is not addressed to you)",
                        (long long)c->id);
    const char *need = c->answer ? "issued" : "answered";
    if (strcmp(state, need) != 0)
        return werr_set(c->e, W_ECONFLICT, "wrong_state",
                        "督办单当前状态为「%s」，不能%s (notice %lld is %s; only an %s notice can "
                        "be %s)",
                        state_zh(state), c->answer ? "回复" : "办结", (long long)c->id, state,
                        need, c->answer ? "answered" : "closed");
    int64_t now = clock_now();
    int rc = c->answer
                 ? db_exec(d,
                           "UPDATE supervision_notices SET state = 'answered', answer = ?, "
                           "answered_at = ?, answered_by = ? WHERE id = ? AND state = 'issued'",
                           "tIII", c->text, now, c->who->user_id, c->id)
                 : db_exec(d,
                           "UPDATE supervision_notices SET state = 'closed', close_note = ?, "
                           "closed_at = ?, closed_by = ? WHERE id = ? AND state = 'answered'",
                           "tIII", c->text, now, c->who->user_id, c->id);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot update the notice");
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)c->id);
    json_t *p = json_pack("{s:I, s:s, s:I, s:I, s:s, s:s?}", "id", (json_int_t)c->id, "code",
                          code, "order_id", (json_int_t)order_id, "dept_id", (json_int_t)dept,
                          "state", c->answer ? "answered" : "closed", "text", c->text);
    rc = outbox_emit(d, c->answer ? "supervision.answered" : "supervision.closed", "supervision",
                     idtxt, p);
    json_decref(p);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot record the event");
    json_t *detail = json_pack("{s:s, s:s}", "from", state, "to",
                               c->answer ? "answered" : "closed");
    rc = audit_record(d, c->a, c->answer ? "supervision.answer" : "supervision.close",
                      "supervision", idtxt, detail);
    json_decref(detail);
    return rc;
}

int supervision_answer(store *st, const principal *who, const audit_actor *a, int64_t id,
                       const char *answer, werr *e)
{
    struct notice_ctx c = {who, a, id, answer, 1, e};
    return store_write(st, notice_act_tx, &c);
}

int supervision_close(store *st, const principal *who, const audit_actor *a, int64_t id,
                      const char *note, werr *e)
{
    struct notice_ctx c = {who, a, id, note, 0, e};
    return store_write(st, notice_act_tx, &c);
}

struct issue_ctx {
    const principal *who;
    const audit_actor *a;
    int64_t order_id;
    const char *reason;
    int64_t answer_hours;
    int64_t id;
    werr *e;
};

static int issue_tx(db *d, void *arg)
{
    struct issue_ctx *c = arg;
    db_stmt *s = db_query(d, "SELECT code, lead_dept_id, grid_code, state FROM orders WHERE id = ?",
                          "I", c->order_id);
    if (!s)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot read the order");
    if (db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no order %lld", (long long)c->order_id);
    }
    char code[24], grid[64], state[20];
    snprintf(code, sizeof code, "%s", db_col_text(s, 0));
    int64_t dept = db_col_is_null(s, 1) ? 0 : db_col_int64(s, 1);
    snprintf(grid, sizeof grid, "%s", db_col_text(s, 2) ? db_col_text(s, 2) : "");
    snprintf(state, sizeof state, "%s", db_col_text(s, 3));
    db_done(s);
    if (!scope_covers_grid(c->who, grid[0] ? grid : NULL) && c->who->scope_kind != SCOPE_ALL)
        return werr_set(c->e, W_EFORBIDDEN, "out_of_scope",
                        "不在您的管辖范围 (order %lld is outside your scope)",
                        (long long)c->order_id);
    if (!dept)
        return werr_set(c->e, W_ECONFLICT, "no_department",
                        "工单尚未派遣到部门，无法督办 (order %lld is not with a department)",
                        (long long)c->order_id);
    int64_t now = clock_now();
    int rc = supervision_issue_tx(d, c->order_id, code, dept, grid[0] ? grid : NULL, "manual",
                                  c->reason, now, now + c->answer_hours * 3600, c->who->user_id,
                                  1, &c->id);
    if (rc != WOK || !c->id)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot issue the notice");
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:I, s:s}", "order_id", (json_int_t)c->order_id, "reason",
                               c->reason);
    rc = audit_record(d, c->a, "supervision.issue", "supervision", idtxt, detail);
    json_decref(detail);
    return rc;
}

int supervision_issue(store *st, const principal *who, const audit_actor *a, int64_t order_id,
                      const char *reason, int64_t answer_hours, json_t **out, werr *e)
{
    struct issue_ctx c = {who, a, order_id, reason, answer_hours, 0, e};
    int rc = store_write(st, issue_tx, &c);
    if (rc != WOK)
        return rc;
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EBUSY, "database_unavailable", "database unavailable");
    rc = supervision_get(d, who, c.id, out, e);
    store_release(st, d);
    return rc;
}

/* ---- deductions ------------------------------------------------------------------- */

int deduction_list(db *d, const principal *who, const deduction_query *q, json_t **out, werr *e)
{
    int64_t sdept;
    const char *sgrid;
    scope_of(who, &sdept, &sgrid);
    int limit = q->limit > 0 && q->limit <= 500 ? q->limit : 50;
    /* filters shared by the page and the total */
#define DED_WHERE                                                                                \
    "WHERE (? = 0 OR x.dept_id = ?) AND (? = '' OR substr(coalesce(x.grid_code, ''), 1, ?) = ?) " \
    "AND (? = 0 OR x.dept_id = ?) AND (? IS NULL OR x.kind = ?) AND (? = 0 OR x.at >= ?) "       \
    "AND (? = 0 OR x.at < ?)"
    db_stmt *s = db_query(d,
                          "SELECT x.id, x.dept_id, dp.name, x.grid_code, x.level, x.kind, "
                          "x.points, x.order_id, x.notice_id, x.at, x.note FROM deductions x "
                          "LEFT JOIN departments dp ON dp.id = x.dept_id " DED_WHERE
                          " AND (? = 0 OR x.id < ?) ORDER BY x.id DESC LIMIT ?",
                          "IItit" "IIttIIII" "IIi", sdept, sdept, sgrid, (int)strlen(sgrid),
                          sgrid, q->dept_id, q->dept_id, q->kind, q->kind, q->from, q->from,
                          q->to, q->to, q->before_id, q->before_id, limit + 1);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read deductions");
    json_t *items = json_array();
    int n = 0;
    int64_t lastid = 0, next = 0;
    while (db_step(s) == DB_ROW) {
        if (n == limit) {
            next = lastid;
            break;
        }
        lastid = db_col_int64(s, 0);
        const char *kind = db_col_text(s, 5);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(lastid));
        json_object_set_new(o, "dept_id",
                            db_col_is_null(s, 1) ? json_null() : json_integer(db_col_int64(s, 1)));
        json_object_set_new(o, "dept_name",
                            db_col_text(s, 2) ? json_string(db_col_text(s, 2)) : json_null());
        json_object_set_new(o, "grid_code",
                            db_col_text(s, 3) ? json_string(db_col_text(s, 3)) : json_null());
        json_object_set_new(o, "level",
                            db_col_text(s, 4) ? json_string(db_col_text(s, 4)) : json_null());
        json_object_set_new(o, "kind", json_string(kind));
        json_object_set_new(o, "kind_zh", json_string(kind_zh(kind)));
        json_object_set_new(o, "points", json_real(db_col_double(s, 6)));
        json_object_set_new(o, "order_id", json_integer(db_col_int64(s, 7)));
        json_object_set_new(o, "notice_id",
                            db_col_is_null(s, 8) ? json_null() : json_integer(db_col_int64(s, 8)));
        json_object_set_new(o, "at", time_or_null(db_col_int64(s, 9)));
        json_object_set_new(o, "note",
                            db_col_text(s, 10) ? json_string(db_col_text(s, 10)) : json_null());
        json_array_append_new(items, o);
        n++;
    }
    db_done(s);
    double total = 0;
    int count = 0;
    s = db_query(d, "SELECT count(*), coalesce(sum(x.points), 0) FROM deductions x " DED_WHERE,
                 "IItit" "IIttIIII", sdept, sdept, sgrid, (int)strlen(sgrid), sgrid, q->dept_id,
                 q->dept_id, q->kind, q->kind, q->from, q->from, q->to, q->to);
#undef DED_WHERE
    if (s && db_step(s) == DB_ROW) {
        count = db_col_int(s, 0);
        total = db_col_double(s, 1);
    }
    db_done(s);
    *out = json_pack("{s:o, s:o, s:i, s:f}", "items", items, "next_cursor",
                     next ? json_integer(next) : json_null(), "count", count, "total_points",
                     total);
    return WOK;
}
