/*
 * order.c — the work-order state machine (see order.h): THE transition
 * table, the one function that applies a transition (checks, row update,
 * timeline event, stats, outbox, audit), the report path (kept lean for
 * ingest: everything expensive happens before store_write) and the reads.
 */
#include "order.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attachment.h"
#include "calendar.h"
#include "catalog.h"
#include "clock.h"
#include "crypto.h"
#include "json_out.h"
#include "locate.h"
#include "outbox.h"
#include "stats.h"
#include "validate.h"

#define S(x) (1u << (x))
#define DEPT_STATES (S(OS_DISPATCHED) | S(OS_SIGNED) | S(OS_REWORK))

/* ---- states ------------------------------------------------------------------ */

static const struct {
    const char *name, *zh, *public_zh;
} states[OS__COUNT] = {
    [OS_NONE] = {"none", "无", ""},
    [OS_SUBMITTED] = {"submitted", "已上报", "已收到您反映的问题"},
    [OS_ACCEPTED] = {"accepted", "已立案", "已受理，正在确定承办部门"},
    [OS_REJECTED] = {"rejected", "不予立案", "经核查不予立案"},
    [OS_MERGED] = {"merged", "已合并", "与已有问题合并办理"},
    [OS_ONSITE] = {"onsite_resolved", "即时办结", "网格员已现场解决"},
    [OS_DISPATCHED] = {"dispatched", "已派遣", "已派至承办部门"},
    [OS_SIGNED] = {"signed", "已签收", "承办部门正在处理"},
    [OS_FEEDBACK] = {"feedback", "已反馈", "部门已处理，等待核实"},
    [OS_REWORK] = {"rework", "返工", "核实未通过，部门重新处理"},
    [OS_CLOSED] = {"closed", "已结案", "已办结"},
    [OS_RATED] = {"rated", "已评价", "已办结并评价"},
};

const char *order_state_name(int st)
{
    return st > 0 && st < OS__COUNT ? states[st].name : "none";
}
const char *order_state_zh(int st)
{
    return st > 0 && st < OS__COUNT ? states[st].zh : "无";
}

int order_state_parse(const char *s)
{
    for (int i = 1; s && i < OS__COUNT; i++)
        if (strcmp(states[i].name, s) == 0)
            return i;
    return OS_NONE;
}

const char *order_pending_name(int p)
{
    return p == PEND_RETURN ? "return" : p == PEND_EXTENSION ? "extension" : NULL;
}

static int pending_parse(const char *s)
{
    if (!s)
        return PEND_NONE;
    return strcmp(s, "return") == 0      ? PEND_RETURN
           : strcmp(s, "extension") == 0 ? PEND_EXTENSION
                                         : PEND_NONE;
}

/* ---- THE transition table ----------------------------------------------------- */

/* The outbox event name per action ("order.signed"). */
static const char *const action_events[OA__COUNT] = {
    [OA_REPORT] = "order.reported",
    [OA_ACCEPT] = "order.accepted",
    [OA_REJECT] = "order.rejected",
    [OA_MERGE] = "order.merged",
    [OA_ONSITE] = "order.onsite_resolved",
    [OA_DISPATCH] = "order.dispatched",
    [OA_SIGN] = "order.signed",
    [OA_RETURN] = "order.return_requested",
    [OA_RETURN_APPROVE] = "order.returned",
    [OA_RETURN_REFUSE] = "order.return_refused",
    [OA_EXTEND] = "order.extension_requested",
    [OA_EXTEND_APPROVE] = "order.extended",
    [OA_EXTEND_REFUSE] = "order.extension_refused",
    [OA_FEEDBACK] = "order.feedback",
    [OA_VERIFY_PASS] = "order.closed",
    [OA_VERIFY_FAIL] = "order.rework",
    [OA_RATE] = "order.rated",
    [OA_ESCALATE] = "order.escalated",
    [OA_REOPEN] = "order.reopened",
};

const struct order_transition order_table[] = {
    /* action, event name, API name, from states, to state (NONE: unchanged),
     * pending request before, after, permission, actors */
    {OA_REPORT, "report", NULL, S(OS_NONE), OS_SUBMITTED, PEND_NONE, PEND_NONE, "order.report",
     ACT_STAFF | ACT_SYSTEM},
    {OA_ACCEPT, "accept", "accept", S(OS_SUBMITTED), OS_ACCEPTED, PEND_NONE, PEND_NONE,
     "order.accept", ACT_STAFF},
    {OA_REJECT, "reject", "reject", S(OS_SUBMITTED) | S(OS_ACCEPTED), OS_REJECTED, PEND_NONE,
     PEND_NONE, "order.accept", ACT_STAFF},
    {OA_MERGE, "merge", "merge", S(OS_SUBMITTED) | S(OS_ACCEPTED), OS_MERGED, PEND_NONE, PEND_NONE,
     "order.accept", ACT_STAFF},
    {OA_ONSITE, "onsite", "onsite", S(OS_SUBMITTED) | S(OS_ACCEPTED), OS_ONSITE, PEND_NONE,
     PEND_NONE, "order.onsite", ACT_STAFF},
    {OA_DISPATCH, "dispatch", "dispatch", S(OS_SUBMITTED) | S(OS_ACCEPTED), OS_DISPATCHED,
     PEND_NONE, PEND_NONE, "order.dispatch", ACT_STAFF | ACT_SYSTEM},
    {OA_SIGN, "sign", "sign", S(OS_DISPATCHED), OS_SIGNED, PEND_NONE, PEND_NONE, "order.handle",
     ACT_STAFF},
    {OA_RETURN, "return", "return", DEPT_STATES, OS_NONE, PEND_NONE, PEND_RETURN, "order.handle",
     ACT_STAFF},
    {OA_RETURN_APPROVE, "return_approve", "return-approve", DEPT_STATES, OS_ACCEPTED, PEND_RETURN,
     PEND_NONE, "order.approve", ACT_STAFF},
    {OA_RETURN_REFUSE, "return_refuse", "return-refuse", DEPT_STATES, OS_NONE, PEND_RETURN,
     PEND_NONE, "order.approve", ACT_STAFF},
    {OA_EXTEND, "extend", "extend", S(OS_SIGNED) | S(OS_REWORK), OS_NONE, PEND_NONE, PEND_EXTENSION,
     "order.handle", ACT_STAFF},
    {OA_EXTEND_APPROVE, "extend_approve", "extend-approve", S(OS_SIGNED) | S(OS_REWORK), OS_NONE,
     PEND_EXTENSION, PEND_NONE, "order.approve", ACT_STAFF},
    {OA_EXTEND_REFUSE, "extend_refuse", "extend-refuse", S(OS_SIGNED) | S(OS_REWORK), OS_NONE,
     PEND_EXTENSION, PEND_NONE, "order.approve", ACT_STAFF},
    {OA_FEEDBACK, "feedback", "feedback", S(OS_SIGNED) | S(OS_REWORK), OS_FEEDBACK, PEND_NONE,
     PEND_NONE, "order.handle", ACT_STAFF},
    {OA_VERIFY_PASS, "verify_pass", "verify", S(OS_FEEDBACK), OS_CLOSED, PEND_NONE, PEND_NONE,
     "order.verify", ACT_STAFF},
    {OA_VERIFY_FAIL, "verify_fail", "verify", S(OS_FEEDBACK), OS_REWORK, PEND_NONE, PEND_NONE,
     "order.verify", ACT_STAFF},
    {OA_RATE, "rate", "rate", S(OS_CLOSED) | S(OS_ONSITE), OS_RATED, PEND_NONE, PEND_NONE,
     "order.rate", ACT_REPORTER | ACT_SYSTEM},
    {OA_ESCALATE, "escalate", "escalate", S(OS_SUBMITTED) | S(OS_ACCEPTED), OS_NONE, PEND_NONE,
     PEND_NONE, "order.escalate", ACT_STAFF},
    {OA_REOPEN, "reopen", "reopen", S(OS_CLOSED) | S(OS_RATED) | S(OS_ONSITE), OS_ACCEPTED,
     PEND_NONE, PEND_NONE, "order.approve", ACT_STAFF},
};
const int order_table_len = (int)(sizeof order_table / sizeof order_table[0]);

const struct order_transition *order_transition_for(int action)
{
    for (int i = 0; i < order_table_len; i++)
        if (order_table[i].action == action)
            return &order_table[i];
    return NULL;
}

int order_action_parse_api(const char *api)
{
    for (int i = 0; api && i < order_table_len; i++)
        if (order_table[i].api && strcmp(order_table[i].api, api) == 0)
            return order_table[i].action; /* "verify" → OA_VERIFY_PASS (first row) */
    return -1;
}

int order_state_with_department(int state)
{
    return (DEPT_STATES & S(state)) != 0;
}

int order_is_overdue(int state, int64_t deadline, int64_t now)
{
    return order_state_with_department(state) && deadline > 0 && now > deadline;
}

/* Centre actions are judged by the handling level (分级办理): community
 * staff act on community-level orders, street staff up to street level. */
static int centre_action(int action)
{
    switch (action) {
    case OA_ACCEPT:
    case OA_REJECT:
    case OA_MERGE:
    case OA_DISPATCH:
    case OA_RETURN_APPROVE:
    case OA_RETURN_REFUSE:
    case OA_EXTEND_APPROVE:
    case OA_EXTEND_REFUSE:
    case OA_REOPEN:
    case OA_ESCALATE:
        return 1;
    default:
        return 0;
    }
}

/* ---- the order row ---------------------------------------------------------- */

struct orow {
    int64_t id;
    char code[16];
    int state, pending;
    char category[CAT_CODE_MAX];
    int catalog_version;
    char grid[64];
    char channel[24];
    char urgency[16];
    int level;
    int64_t reporter_id;
    char reporter_phone[24];
    int64_t lead_dept;
    char assist[160];
    int64_t merged_into;
    int working;
    int64_t response_minutes, complete_minutes;
    int pause, onsite_ok;
    int64_t created_at, updated_at, dispatched_at, signed_at, feedback_at, closed_at;
    int64_t response_deadline, deadline, pending_since, pending_until;
    int returns, reworks, extensions, escalations, reopens;
    char rating[16];
    char rating_comment[1024];
    int64_t rated_at;
    int rating_default;
    int seq;
};

#define ROW_COLS                                                                                   \
    "id, code, state, pending, category_code, catalog_version, grid_code, channel, urgency, "      \
    "level, reporter_id, reporter_phone, lead_dept_id, assist_depts, merged_into, time_mode, "     \
    "response_minutes, complete_minutes, pause_on_extension, onsite_allowed, created_at, "         \
    "updated_at, dispatched_at, signed_at, feedback_at, closed_at, response_deadline, "            \
    "deadline, pending_since, pending_until, returns, reworks, extensions, escalations, "          \
    "reopens, rating, rating_comment, rated_at, rating_default, seq"

static void cpy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void row_load(db_stmt *s, struct orow *o)
{
    memset(o, 0, sizeof *o);
    int c = 0;
    o->id = db_col_int64(s, c++);
    cpy(o->code, sizeof o->code, db_col_text(s, c++));
    o->state = order_state_parse(db_col_text(s, c++));
    o->pending = pending_parse(db_col_text(s, c++));
    cpy(o->category, sizeof o->category, db_col_text(s, c++));
    o->catalog_version = db_col_int(s, c++);
    cpy(o->grid, sizeof o->grid, db_col_text(s, c++));
    cpy(o->channel, sizeof o->channel, db_col_text(s, c++));
    cpy(o->urgency, sizeof o->urgency, db_col_text(s, c++));
    o->level = level_parse(db_col_text(s, c++));
    if (o->level < 0)
        o->level = LEVEL_COUNTY;
    o->reporter_id = db_col_int64(s, c++);
    cpy(o->reporter_phone, sizeof o->reporter_phone, db_col_text(s, c++));
    o->lead_dept = db_col_int64(s, c++);
    cpy(o->assist, sizeof o->assist, db_col_text(s, c++));
    o->merged_into = db_col_int64(s, c++);
    const char *tm = db_col_text(s, c++);
    o->working = !tm || strcmp(tm, "natural") != 0;
    o->response_minutes = db_col_int64(s, c++);
    o->complete_minutes = db_col_int64(s, c++);
    o->pause = db_col_int(s, c++);
    o->onsite_ok = db_col_int(s, c++);
    o->created_at = db_col_int64(s, c++);
    o->updated_at = db_col_int64(s, c++);
    o->dispatched_at = db_col_int64(s, c++);
    o->signed_at = db_col_int64(s, c++);
    o->feedback_at = db_col_int64(s, c++);
    o->closed_at = db_col_int64(s, c++);
    o->response_deadline = db_col_int64(s, c++);
    o->deadline = db_col_int64(s, c++);
    o->pending_since = db_col_int64(s, c++);
    o->pending_until = db_col_int64(s, c++);
    o->returns = db_col_int(s, c++);
    o->reworks = db_col_int(s, c++);
    o->extensions = db_col_int(s, c++);
    o->escalations = db_col_int(s, c++);
    o->reopens = db_col_int(s, c++);
    cpy(o->rating, sizeof o->rating, db_col_text(s, c++));
    cpy(o->rating_comment, sizeof o->rating_comment, db_col_text(s, c++));
    o->rated_at = db_col_int64(s, c++);
    o->rating_default = db_col_int(s, c++);
    o->seq = db_col_int(s, c++);
}

static int row_read(db *d, int64_t id, struct orow *o)
{
    db_stmt *s = db_query(d, "SELECT " ROW_COLS " FROM orders WHERE id = ?", "I", id);
    if (!s)
        return W_EINTERNAL;
    int rc = db_step(s);
    if (rc == DB_ROW)
        row_load(s, o);
    db_done(s);
    return rc == DB_ROW ? WOK : rc == DB_DONE ? W_ENOTFOUND : W_EINTERNAL;
}

static int assist_has(const char *assist_json, int64_t dept)
{
    if (!assist_json || !assist_json[0] || dept <= 0)
        return 0;
    char needle[32];
    /* the array is written by us as [1,2,3]: match a whole number */
    const char *p = assist_json;
    int n = snprintf(needle, sizeof needle, "%lld", (long long)dept);
    while ((p = strstr(p, needle))) {
        char before = p == assist_json ? '[' : p[-1], after = p[n];
        if ((before == '[' || before == ',') && (after == ']' || after == ','))
            return 1;
        p += n;
    }
    return 0;
}

int order_visible(const principal *who, const char *grid_code, int64_t lead_dept,
                  const char *assist_json, int64_t reporter_id)
{
    if (!who)
        return 0;
    if (reporter_id && reporter_id == who->user_id)
        return 1;
    switch (who->scope_kind) {
    case SCOPE_ALL:
        return who->role != ROLE_RESIDENT && who->role != ROLE_DEVICE;
    case SCOPE_GRID:
        return scope_covers_grid(who, grid_code);
    case SCOPE_DEPT:
        return lead_dept == who->scope_dept || assist_has(assist_json, who->scope_dept);
    default:
        return 0;
    }
}

/* The one check: role, scope, state. who NULL = the system; as_reporter:
 * the caller proved to be the reporter (tracking code + phone). */
static int check(const principal *who, int as_reporter, const struct orow *o,
                 const struct order_transition *t, werr *e)
{
    if (!who) {
        if (!(t->actors & ACT_SYSTEM) && !(as_reporter && (t->actors & ACT_REPORTER)))
            return werr_set(e, W_EFORBIDDEN, "forbidden", "无权限 (%s is not done by the system)",
                            t->name);
    } else {
        if (!perm_allows(who->role, t->perm))
            return werr_set(e, W_EFORBIDDEN, "forbidden", "无权限 (role %s may not %s)",
                            role_name(who->role), t->perm);
        if (t->actors & ACT_REPORTER) {
            if (!(o->reporter_id && o->reporter_id == who->user_id))
                return werr_set(e, W_EFORBIDDEN, "not_reporter",
                                "只有反映人可以评价 (only the reporter may %s this order)",
                                t->name);
        } else {
            int ok;
            switch (who->scope_kind) {
            case SCOPE_ALL:
                ok = 1;
                break;
            case SCOPE_GRID:
                ok = scope_covers_grid(who, o->grid);
                break;
            case SCOPE_DEPT:
                ok = o->lead_dept == who->scope_dept;
                break;
            default:
                ok = 0;
            }
            if (!ok)
                return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                                "不在您的管辖范围 (order %lld is outside your %s scope)",
                                (long long)o->id, scope_name(who->scope_kind));
            if (centre_action(t->action) &&
                ((who->role == ROLE_COMMUNITY && o->level != LEVEL_COMMUNITY) ||
                 (who->role == ROLE_STREET && o->level > LEVEL_STREET)))
                return werr_set(e, W_EFORBIDDEN, "wrong_level",
                                "该工单由%s级办理 (order %lld is handled at %s level)",
                                o->level == LEVEL_COUNTY ? "县" : "街道", (long long)o->id,
                                level_name(o->level));
        }
    }
    if (!(t->from & S(o->state)))
        return werr_set(e, W_ECONFLICT, "wrong_state",
                        "工单当前状态为「%s」，不能%s (order %lld is %s; %s is not possible now)",
                        order_state_zh(o->state), t->name, (long long)o->id,
                        order_state_name(o->state), t->name);
    if (t->pending_in == PEND_NONE && o->pending != PEND_NONE)
        return werr_set(e, W_ECONFLICT, "request_pending",
                        "%s申请正在等待审批 (a %s request waits for the centre; %s is not possible "
                        "until it is decided)",
                        o->pending == PEND_RETURN ? "退单" : "延期", order_pending_name(o->pending),
                        t->name);
    if (t->pending_in != PEND_NONE && o->pending != t->pending_in)
        return werr_set(
            e, W_ECONFLICT, "no_request", "没有待审批的%s申请 (no %s request is waiting)",
            t->pending_in == PEND_RETURN ? "退单" : "延期", order_pending_name(t->pending_in));
    return WOK;
}

/* ---- helpers for the write path ---------------------------------------------- */

static void id_text(int64_t id, char out[24])
{
    snprintf(out, 24, "%lld", (long long)id);
}

static int append_event(db *d, struct order_event *ev)
{
    int rc = db_exec(d,
                     "INSERT INTO order_events (order_id, seq, at, actor_id, actor_role, action, "
                     "from_state, to_state, dept_id, note, data, attachments) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "IiIItttt"
                     "Ittt",
                     ev->order_id, ev->seq, ev->at, ev->actor_id ? ev->actor_id : (int64_t)0,
                     ev->actor_role, ev->action, ev->from_state, ev->to_state, ev->dept_id,
                     ev->note, ev->data, ev->attachments);
    if (rc != WOK)
        return rc;
    /* dept 0 and actor 0 mean "none": store NULL for clarity */
    return stats_on_event(d, ev);
}

static int emit(db *d, int action, const struct orow *o, const char *from, int64_t at)
{
    char idbuf[24];
    id_text(o->id, idbuf);
    const struct order_transition *t = order_transition_for(action);
    json_t *p = json_pack(
        "{s:I, s:s, s:s, s:s, s:s?, s:s?, s:I, s:s?, s:s?, s:s, s:I, s:i}", "id", (json_int_t)o->id,
        "code", o->code, "action", t ? t->name : "", "state", order_state_name(o->state), "from",
        from, "pending", order_pending_name(o->pending), "dept_id", (json_int_t)o->lead_dept,
        "grid_code", o->grid[0] ? o->grid : NULL, "category", o->category[0] ? o->category : NULL,
        "level", level_name(o->level), "at", (json_int_t)at, "seq", o->seq);
    int rc = outbox_emit(d, action_events[action], "order", idbuf, p);
    json_decref(p);
    return rc;
}

static void fill_event(struct order_event *ev, const struct orow *o, const principal *who,
                       const char *action, const char *from, int64_t at)
{
    memset(ev, 0, sizeof *ev);
    ev->order_id = o->id;
    ev->seq = o->seq;
    ev->at = at;
    ev->actor_id = who ? who->user_id : 0;
    ev->actor_role = who ? role_name(who->role) : "system";
    ev->action = action;
    ev->from_state = from;
    ev->to_state = order_state_name(o->state);
    ev->dept_id = o->lead_dept;
    ev->grid_code = o->grid[0] ? o->grid : NULL;
    ev->category_code = o->category[0] ? o->category : NULL;
    ev->channel = o->channel;
    ev->level = level_name(o->level);
    ev->urgency = o->urgency;
    ev->created_at = o->created_at;
    ev->response_deadline = o->response_deadline;
    ev->deadline = o->deadline;
}

static char *ids_json(const int64_t *ids, int n)
{
    if (n <= 0)
        return NULL;
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(ids[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static int link_photos(db *d, int64_t order_id, int seq, const int64_t *ids, int n,
                       const char *kind)
{
    for (int i = 0; i < n; i++) {
        int rc = db_exec(d,
                         "INSERT INTO order_attachments (attachment_id, order_id, seq, kind, "
                         "public) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                         "IIiti", ids[i], order_id, seq, kind, strcmp(kind, "other") != 0);
        if (rc != WOK)
            return rc;
    }
    return WOK;
}

static int write_assists(db *d, int64_t order_id, const int64_t *assist, int n)
{
    int rc = db_exec(d, "DELETE FROM order_assists WHERE order_id = ?", "I", order_id);
    for (int i = 0; rc == WOK && i < n; i++)
        rc = db_exec(d,
                     "INSERT INTO order_assists (dept_id, order_id) VALUES (?, ?) "
                     "ON CONFLICT DO NOTHING",
                     "II", assist[i], order_id);
    return rc;
}

static int centre_wait_of(const struct orow *o)
{
    return o->state == OS_SUBMITTED || o->state == OS_ACCEPTED || o->pending != PEND_NONE;
}

/* One UPDATE writes every mutable column; 0 means "none" and is stored as
 * NULL (nullif) so that SQL sees no deadline, no department, … */
static int row_write(db *d, const struct orow *o)
{
    return db_exec(
        d,
        "UPDATE orders SET state = ?, pending = ?, centre_wait = ?, category_code = ?, "
        "catalog_version = ?, level = ?, lead_dept_id = nullif(?, 0), assist_depts = ?, "
        "merged_into = nullif(?, 0), time_mode = ?, response_minutes = nullif(?, 0), "
        "complete_minutes = nullif(?, 0), pause_on_extension = ?, onsite_allowed = ?, "
        "updated_at = ?, dispatched_at = nullif(?, 0), signed_at = nullif(?, 0), "
        "feedback_at = nullif(?, 0), closed_at = nullif(?, 0), response_deadline = nullif(?, 0), "
        "deadline = nullif(?, 0), pending_since = nullif(?, 0), pending_until = nullif(?, 0), "
        "returns = ?, reworks = ?, extensions = ?, escalations = ?, reopens = ?, rating = ?, "
        "rating_comment = ?, rated_at = nullif(?, 0), rating_default = ?, seq = ? WHERE id = ?",
        "ttitititIt"
        "IIiiIIIIII"
        "IIIiiiiitt"
        "IiiI",
        order_state_name(o->state), order_pending_name(o->pending), centre_wait_of(o),
        o->category[0] ? o->category : NULL, o->catalog_version, level_name(o->level), o->lead_dept,
        o->assist[0] ? o->assist : NULL, o->merged_into, o->working ? "working" : "natural",
        o->response_minutes, o->complete_minutes, o->pause, o->onsite_ok, o->updated_at,
        o->dispatched_at, o->signed_at, o->feedback_at, o->closed_at, o->response_deadline,
        o->deadline, o->pending_since, o->pending_until, o->returns, o->reworks, o->extensions,
        o->escalations, o->reopens, o->rating[0] ? o->rating : NULL,
        o->rating_comment[0] ? o->rating_comment : NULL, o->rated_at, o->rating_default, o->seq,
        o->id);
}

/* ---- report (问题采集) ---------------------------------------------------------- */

static const char *const channels[] = {"resident_web",   "wechat",        "grid_app",
                                       "representative", "hotline_12345", "device",
                                       "staff",          "open311",       NULL};
static const char *const urgency_names[] = {"normal", "urgent", "emergency", NULL};

static int photos_field(json_t *body, const char *key, int64_t *ids, int *n, werr *e)
{
    json_t *a = json_object_get(body, key);
    *n = 0;
    if (!a || json_is_null(a))
        return WOK;
    if (!json_is_array(a) || json_array_size(a) > ORDER_MAX_PHOTOS)
        return werr_set(e, W_EINVALID, "invalid_field", "%s: an array of up to %d attachment ids",
                        key, ORDER_MAX_PHOTOS);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 1)
            return werr_set(e, W_EINVALID, "invalid_field", "%s[%zu]: an attachment id", key, i);
        int64_t id = json_integer_value(v);
        int dup = 0;
        for (int j = 0; j < *n; j++)
            dup |= ids[j] == id;
        if (!dup)
            ids[(*n)++] = id;
    }
    return WOK;
}

int order_report_parse(json_t *body, order_report_input *in, werr *e)
{
    memset(in, 0, sizeof *in);
    int anon = 0;
    double lat = NAN, lng = NAN;
    if (!json_is_object(body))
        return werr_set(e, W_EBADREQ, "bad_json", "the report must be a JSON object");
    if (jfield_text(body, "category_code", FIELD_OPTIONAL, 1, CAT_CODE_MAX - 1, &in->category_code,
                    e) != WOK ||
        jfield_multiline(body, "description", FIELD_REQUIRED, 2, 2000, &in->description, e) !=
            WOK ||
        jfield_double(body, "lat", FIELD_OPTIONAL, -90, 90, &lat, e) != WOK ||
        jfield_double(body, "lng", FIELD_OPTIONAL, -180, 180, &lng, e) != WOK ||
        jfield_text(body, "grid_code", FIELD_OPTIONAL, 1, 63, &in->grid_code, e) != WOK ||
        jfield_text(body, "address", FIELD_OPTIONAL, 1, 200, &in->address, e) != WOK ||
        jfield_enum(body, "channel", FIELD_OPTIONAL, channels, &in->channel, e) != WOK ||
        jfield_enum(body, "urgency", FIELD_OPTIONAL, urgency_names, &in->urgency, e) != WOK ||
        jfield_text(body, "phone", FIELD_OPTIONAL, 6, 20, &in->phone, e) != WOK ||
        jfield_text(body, "name", FIELD_OPTIONAL, 1, 32, &in->name, e) != WOK ||
        jfield_bool(body, "anonymous", FIELD_OPTIONAL, &anon, e) != WOK ||
        jfield_text(body, "idempotency_key", FIELD_OPTIONAL, 1, 64, &in->idempotency_key, e) != WOK)
        return e->rc;
    if (in->category_code && !valid_code(in->category_code))
        return werr_set(e, W_EINVALID, "invalid_field", "category_code: not a category code");
    if (in->grid_code && !valid_code(in->grid_code))
        return werr_set(e, W_EINVALID, "invalid_field", "grid_code: not a grid code");
    if (in->phone && !valid_phone(in->phone))
        return werr_set(e, W_EINVALID, "invalid_field", "phone: not a phone number");
    if (isnan(lat) != isnan(lng))
        return werr_set(e, W_EINVALID, "invalid_field", "lat, lng: give both or neither");
    if (!isnan(lat)) {
        in->has_location = 1;
        in->lat = lat;
        in->lng = lng;
    }
    if (photos_field(body, "photos", in->photos, &in->nphotos, e) != WOK)
        return e->rc;
    in->anonymous = anon;
    return WOK;
}

/* 8 characters from an alphabet without 0/O, 1/I/L: easy to read aloud. */
static void tracking_code(char out[9])
{
    static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    for (int i = 0; i < 8; i++)
        out[i] = alphabet[crypto_random_below(sizeof alphabet - 1)];
    out[8] = '\0';
}

struct report_ctx {
    const principal *who;
    const audit_actor *a;
    const order_report_input *in;
    struct orow o; /* the new order, filled before the write */
    const char *reporter_role;
    char idem[160];
    int auto_dispatch;
    int64_t assist[CAT_MAX_ASSIST];
    int nassist;
    char *report_data, *dispatch_data, *photos_json;
    /* out */
    int existed;
    werr *e;
    /* report_tx may run twice (store.h): o as prepared, restored on a re-run */
    struct orow o_in;
    int ran;
};

static int existing_by_idem(db *d, const char *key, struct orow *o)
{
    db_stmt *s = db_query(d, "SELECT " ROW_COLS " FROM orders WHERE idem_key = ?", "t", key);
    int found = s && db_step(s) == DB_ROW;
    if (found)
        row_load(s, o);
    db_done(s);
    return found;
}

static int report_tx(db *d, void *arg)
{
    struct report_ctx *c = arg;
    const order_report_input *in = c->in;
    /* Re-runnable (store.h): start again from the order as prepared. */
    if (c->ran)
        c->o = c->o_in;
    else
        c->o_in = c->o;
    c->ran = 1;
    c->existed = 0;
    if (c->idem[0] && existing_by_idem(d, c->idem, &c->o)) {
        c->existed = 1;
        return WOK;
    }
    struct orow *o = &c->o;
    int final_state = c->auto_dispatch ? OS_DISPATCHED : OS_SUBMITTED;
    int rc = W_ECONFLICT;
    /* One INSERT with the final row (auto-dispatch included); the events
     * below tell how it got there. */
    for (int attempt = 0; attempt < 4 && rc == W_ECONFLICT; attempt++) {
        if (attempt)
            tracking_code(o->code);
        rc = db_exec(
            d,
            "INSERT INTO orders (code, state, centre_wait, category_code, catalog_version, "
            "description, address, lat, lng, grid_code, channel, urgency, level, reporter_id, "
            "reporter_role, reporter_name, reporter_phone, anonymous, lead_dept_id, "
            "assist_depts, time_mode, response_minutes, complete_minutes, pause_on_extension, "
            "onsite_allowed, created_at, updated_at, dispatched_at, response_deadline, deadline, "
            "seq, idem_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, CASE WHEN ? = 1 THEN ? END, CASE WHEN ? = 1 THEN ? END, "
            "?, ?, ?, ?, nullif(?, 0), ?, ?, ?, ?, nullif(?, 0), ?, ?, nullif(?, 0), "
            "nullif(?, 0), ?, ?, ?, ?, nullif(?, 0), nullif(?, 0), nullif(?, 0), ?, ?)",
            "ttititt"
            "idid"
            "ttttI"
            "tttiI"
            "ttIIii"
            "IIIII"
            "it",
            o->code, order_state_name(final_state), !c->auto_dispatch,
            o->category[0] ? o->category : NULL, o->catalog_version, in->description, in->address,
            in->has_location, in->lat, in->has_location, in->lng, o->grid[0] ? o->grid : NULL,
            o->channel, o->urgency, level_name(o->level), o->reporter_id, c->reporter_role,
            in->name, in->phone, in->anonymous, o->lead_dept, o->assist[0] ? o->assist : NULL,
            o->working ? "working" : "natural", o->response_minutes, o->complete_minutes, o->pause,
            o->onsite_ok, o->created_at, o->created_at, o->dispatched_at, o->response_deadline,
            o->deadline, c->auto_dispatch ? 2 : 1, c->idem[0] ? c->idem : NULL);
        if (rc == W_ECONFLICT && c->idem[0] && existing_by_idem(d, c->idem, &c->o)) {
            c->existed = 1;
            return WOK;
        }
    }
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot store the report");
    o->id = db_last_id(d);
    rc = db_exec(d, "INSERT INTO orders_fts (rowid, description, address) VALUES (?, ?, ?)", "Itt",
                 o->id, in->description, in->address);
    o->state = OS_SUBMITTED;
    o->seq = 1;
    struct order_event ev;
    fill_event(&ev, o, c->who, "report", NULL, o->created_at);
    if (!c->who)
        ev.actor_role = "anonymous";
    ev.data = c->report_data;
    ev.attachments = c->photos_json;
    ev.dept_id = 0;
    if (rc == WOK)
        rc = append_event(d, &ev);
    if (rc == WOK)
        rc = link_photos(d, o->id, 1, in->photos, in->nphotos, "before");
    if (rc == WOK)
        rc = emit(d, OA_REPORT, o, NULL, o->created_at);
    if (rc == WOK && c->auto_dispatch) {
        /* 平台转: matched by the catalogue, dispatched in the same transaction */
        o->state = OS_DISPATCHED;
        o->seq = 2;
        for (int i = 0; rc == WOK && i < c->nassist; i++)
            rc = db_exec(d,
                         "INSERT INTO order_assists (dept_id, order_id) VALUES (?, ?) "
                         "ON CONFLICT DO NOTHING",
                         "II", c->assist[i], o->id);
        fill_event(&ev, o, NULL, "dispatch", "submitted", o->created_at);
        ev.data = c->dispatch_data;
        if (rc == WOK)
            rc = append_event(d, &ev);
        if (rc == WOK)
            rc = emit(d, OA_DISPATCH, o, "submitted", o->created_at);
    }
    char idbuf[24];
    id_text(o->id, idbuf);
    json_t *detail = json_pack("{s:s, s:s, s:s?, s:s?, s:b}", "code", o->code, "state",
                               order_state_name(o->state), "category", in->category_code, "grid",
                               o->grid[0] ? o->grid : NULL, "auto_dispatch", c->auto_dispatch);
    if (rc == WOK)
        rc = audit_record(d, c->a, "order.report", "order", idbuf, detail);
    json_decref(detail);
    return rc == WOK ? WOK
                     : werr_set(c->e, W_EINTERNAL, "database_error", "cannot store the report");
}

static int dept_lookup(store *st, const char *code, int64_t *id)
{
    db *d = store_reader(st);
    if (!d)
        return W_EINTERNAL;
    db_stmt *s = db_query(d, "SELECT id FROM departments WHERE code = ? AND active = 1", "t", code);
    int rc = (s && db_step(s) == DB_ROW) ? WOK : W_ENOTFOUND;
    if (rc == WOK)
        *id = db_col_int64(s, 0);
    db_done(s);
    store_release(st, d);
    return rc;
}

static int grid_exists(db *d, const char *code)
{
    db_stmt *s = db_query(d, "SELECT 1 FROM grids WHERE code = ? AND status = 'active'", "t", code);
    int found = s && db_step(s) == DB_ROW;
    db_done(s);
    return found;
}

static void snapshot_limits(struct orow *o, const struct cat_category *cat)
{
    const struct cat_limit *L = catalog_limit(cat, o->urgency);
    o->working = cat->working;
    o->response_minutes = L->response_minutes;
    o->complete_minutes = L->complete_minutes;
    o->pause = cat->pause_on_extension;
    o->onsite_ok = cat->onsite;
}

static char *dispatch_data(const struct orow *o, int automatic, const int64_t *assist, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_integer(assist[i]));
    json_t *j =
        json_pack("{s:b, s:I, s:o, s:I, s:I, s:I, s:I, s:s}", "auto", automatic, "dept",
                  (json_int_t)o->lead_dept, "assist", a, "response_deadline",
                  (json_int_t)o->response_deadline, "deadline", (json_int_t)o->deadline,
                  "response_minutes", (json_int_t)o->response_minutes, "complete_minutes",
                  (json_int_t)o->complete_minutes, "time", o->working ? "working" : "natural");
    char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

/* Sets deadlines from now with the order's snapshot limits. */
static void set_deadlines(struct orow *o, const calendar *cal, int64_t now)
{
    if (!o->response_minutes)
        o->response_minutes = 4 * 60;
    if (!o->complete_minutes)
        o->complete_minutes = 40 * 60;
    o->dispatched_at = now;
    o->response_deadline = calendar_add(cal, now, o->response_minutes, o->working);
    o->deadline = calendar_add(cal, now, o->complete_minutes, o->working);
}

static json_t *report_answer(const struct orow *o)
{
    char when[32];
    clock_format(o->created_at, when);
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s?}", "id", (json_int_t)o->id, "code", o->code,
                          "state", order_state_name(o->state), "created_at", when, "grid_code",
                          o->grid[0] ? o->grid : NULL);
    char path[40];
    snprintf(path, sizeof path, "/api/v1/track/%s", o->code);
    json_object_set_new(j, "track_url", json_string(path));
    if (o->deadline) {
        clock_format(o->deadline, when);
        json_object_set_new(j, "deadline", json_string(when));
        clock_format(o->response_deadline, when);
        json_object_set_new(j, "response_deadline", json_string(when));
    }
    return j;
}

int order_report(store *st, const principal *who, const audit_actor *a,
                 const order_report_input *in, json_t **out, int *created, werr *e)
{
    struct report_ctx c;
    memset(&c, 0, sizeof c);
    c.who = who;
    c.a = a;
    c.in = in;
    c.e = e;
    struct orow *o = &c.o;
    *out = NULL;
    if (created)
        *created = 0;

    /* who reports, through which channel */
    const char *channel = in->channel;
    int role = who ? who->role : ROLE_NONE;
    if (!who && !in->phone)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "phone: required for a report without login (the tracking code is "
                        "confirmed with it)");
    if (!channel)
        channel = role == ROLE_GRID_WORKER                       ? "grid_app"
                  : role == ROLE_REPRESENTATIVE                  ? "representative"
                  : role == ROLE_DEVICE                          ? "device"
                  : (role == ROLE_NONE || role == ROLE_RESIDENT) ? "resident_web"
                                                                 : "staff";
    if ((role == ROLE_NONE || role == ROLE_RESIDENT) && strcmp(channel, "resident_web") &&
        strcmp(channel, "wechat") && strcmp(channel, "open311"))
        return werr_set(e, W_EINVALID, "invalid_field",
                        "channel: a resident reports through resident_web, wechat or open311");
    if (role == ROLE_DEVICE && strcmp(channel, "device"))
        return werr_set(e, W_EINVALID, "invalid_field", "channel: a device reports as device");
    cpy(o->channel, sizeof o->channel, channel);
    cpy(o->urgency, sizeof o->urgency, in->urgency ? in->urgency : "normal");
    o->reporter_id = who ? who->user_id : 0;
    c.reporter_role = who ? role_name(who->role) : "anonymous";
    o->created_at = clock_now();
    o->level = LEVEL_COUNTY;
    o->working = 1;

    /* where: a grid given, or located from the coordinates */
    if (in->grid_code) {
        db *d = store_reader(st);
        int ok = d && grid_exists(d, in->grid_code);
        store_release(st, d);
        if (!ok)
            return werr_set(e, W_EINVALID, "unknown_grid", "grid_code: no active grid %s",
                            in->grid_code);
        cpy(o->grid, sizeof o->grid, in->grid_code);
    } else if (in->has_location) {
        locate_result g;
        werr le = {0};
        int rc = locate_point(st, in->lat, in->lng, &g, &le);
        if (rc == W_ENOTFOUND)
            return werr_set(e, W_EINVALID, "no_grid",
                            "lat, lng: the place lies in no grid of this deployment");
        if (rc != WOK) {
            *e = le;
            return rc;
        }
        cpy(o->grid, sizeof o->grid, g.code);
    } else {
        return werr_set(e, W_EINVALID, "invalid_field",
                        "grid_code or lat, lng: say where the problem is");
    }

    /* what: the catalogue (cached in memory) decides department and limits */
    catalog *cat_doc = catalog_current(st);
    const struct cat_category *cat = NULL;
    char dept_code[16] = "";
    if (in->category_code) {
        cat = catalog_find(cat_doc, in->category_code);
        if (!cat || !cat->leaf) {
            catalog_release(cat_doc);
            return werr_set(e, W_EINVALID, "unknown_category",
                            "category_code: %s is not a category (小类) of the catalogue",
                            in->category_code);
        }
        if (in->urgency) {
            int ok = 0;
            for (int i = 0; i < cat->nlimits; i++)
                ok |= strcmp(cat->limits[i].urgency, in->urgency) == 0;
            if (!ok) {
                catalog_release(cat_doc);
                return werr_set(e, W_EINVALID, "invalid_field",
                                "urgency: category %s has no %s level", cat->code, in->urgency);
            }
        }
        cpy(o->category, sizeof o->category, cat->code);
        o->catalog_version = cat_doc->version;
        o->level = cat->level;
        snapshot_limits(o, cat);
        cpy(dept_code, sizeof dept_code, catalog_dept_for(cat, o->grid));
        for (int i = 0; i < cat->nassist; i++) {
            int64_t id;
            if (dept_lookup(st, cat->assist[i], &id) == WOK)
                c.assist[c.nassist++] = id;
        }
    } else if (cat_doc) {
        o->catalog_version = cat_doc->version;
    }
    catalog_release(cat_doc);
    if (dept_code[0] && dept_lookup(st, dept_code, &o->lead_dept) == WOK)
        c.auto_dispatch = 1;
    if (c.auto_dispatch) {
        calendar cal;
        calendar_current(&cal);
        set_deadlines(o, &cal, o->created_at);
        snprintf(o->assist, sizeof o->assist, "%s", "");
        char *aj = ids_json(c.assist, c.nassist);
        if (aj)
            cpy(o->assist, sizeof o->assist, aj);
        free(aj);
    }

    /* photos must exist (they are immutable, so checking first is safe) */
    if (in->nphotos) {
        db *d = store_reader(st);
        int ok = d && attachment_all_exist(d, in->photos, in->nphotos);
        store_release(st, d);
        if (!ok)
            return werr_set(e, W_EINVALID, "invalid_field", "photos: unknown attachment id");
    }
    if (in->idempotency_key) {
        if (who)
            snprintf(c.idem, sizeof c.idem, "u%lld:%s", (long long)who->user_id,
                     in->idempotency_key);
        else
            snprintf(c.idem, sizeof c.idem, "p%s:%s", in->phone, in->idempotency_key);
    }
    tracking_code(o->code);
    json_t *rd = json_pack("{s:s, s:s?, s:s?, s:s, s:b}", "channel", o->channel, "category",
                           o->category[0] ? o->category : NULL, "grid", o->grid[0] ? o->grid : NULL,
                           "urgency", o->urgency, "anonymous", in->anonymous);
    c.report_data = rd ? json_dumps(rd, JSON_COMPACT) : NULL;
    json_decref(rd);
    c.photos_json = ids_json(in->photos, in->nphotos);
    if (c.auto_dispatch)
        c.dispatch_data = dispatch_data(o, 1, c.assist, c.nassist);

    int rc = store_write(st, report_tx, &c);
    free(c.report_data);
    free(c.dispatch_data);
    free(c.photos_json);
    if (rc != WOK) {
        if (e->rc != rc)
            werr_set(e, rc, "database_error", "cannot store the report");
        return rc;
    }
    *out = report_answer(o);
    if (created)
        *created = !c.existed;
    return WOK;
}

/* ---- actions ---------------------------------------------------------------- */

static const char *const ratings[] = {"satisfied", "basic", "unsatisfied", NULL};

int order_action_parse(int action, json_t *body, order_action_input *in, werr *e)
{
    memset(in, 0, sizeof *in);
    in->action = action;
    if (body && !json_is_object(body))
        return werr_set(e, W_EBADREQ, "bad_json", "the body must be a JSON object");
    json_t *b = body ? body : json_object();
    int rc = jfield_multiline(b, "note", FIELD_OPTIONAL, 1, 2000, &in->note, e);
    int need_reason =
        action == OA_REJECT || action == OA_RETURN || action == OA_EXTEND || action == OA_REOPEN;
    if (rc == WOK)
        rc = jfield_multiline(b, "reason", need_reason ? FIELD_REQUIRED : FIELD_OPTIONAL, 2, 1000,
                              &in->reason, e);
    if (rc == WOK && (action == OA_DISPATCH)) {
        rc = jfield_int(b, "dept_id", FIELD_OPTIONAL, 1, INT32_MAX, &in->dept_id, e);
        json_t *as = json_object_get(b, "assist");
        if (rc == WOK && as) {
            if (!json_is_array(as) || json_array_size(as) > 6)
                rc = werr_set(e, W_EINVALID, "invalid_field", "assist: up to 6 department ids");
            for (size_t i = 0; rc == WOK && i < json_array_size(as); i++) {
                json_t *v = json_array_get(as, i);
                if (!json_is_integer(v) || json_integer_value(v) < 1)
                    rc =
                        werr_set(e, W_EINVALID, "invalid_field", "assist[%zu]: a department id", i);
                else
                    in->assist[in->nassist++] = json_integer_value(v);
            }
        }
    }
    if (rc == WOK && (action == OA_DISPATCH || action == OA_ACCEPT)) {
        rc = jfield_text(b, "category_code", FIELD_OPTIONAL, 1, CAT_CODE_MAX - 1,
                         &in->category_code, e);
        if (rc == WOK && in->category_code && !valid_code(in->category_code))
            rc = werr_set(e, W_EINVALID, "invalid_field", "category_code: not a category code");
    }
    if (rc == WOK && action == OA_MERGE)
        rc = jfield_int(b, "into", FIELD_REQUIRED, 1, INT64_MAX, &in->merge_into, e);
    if (rc == WOK && action == OA_EXTEND) {
        const char *until = NULL;
        rc = jfield_text(b, "until", FIELD_OPTIONAL, 10, 32, &until, e);
        if (rc == WOK)
            rc = jfield_int(b, "hours", FIELD_OPTIONAL, 1, 24 * 365, &in->hours, e);
        if (rc == WOK && until && clock_parse(until, &in->until) != 0)
            rc = werr_set(e, W_EINVALID, "invalid_field", "until: a date or RFC 3339 time");
        if (rc == WOK && !until && !in->hours)
            rc = werr_set(e, W_EINVALID, "invalid_field", "until or hours: say how long");
    }
    if (rc == WOK && action == OA_FEEDBACK && !in->note)
        rc = werr_set(e, W_EINVALID, "invalid_field", "note: required (what was done)");
    if (rc == WOK && action == OA_VERIFY_PASS) {
        int passed = -1;
        rc = jfield_bool(b, "passed", FIELD_REQUIRED, &passed, e);
        if (rc == WOK && !passed)
            in->action = OA_VERIFY_FAIL;
    }
    if (rc == WOK && action == OA_RATE) {
        rc = jfield_enum(b, "rating", FIELD_REQUIRED, ratings, &in->rating, e);
        if (rc == WOK && !in->note)
            rc = jfield_multiline(b, "comment", FIELD_OPTIONAL, 1, 1000, &in->note, e);
    }
    if (rc == WOK)
        rc = photos_field(b, "photos", in->photos, &in->nphotos, e);
    if (b != body)
        json_decref(b);
    return rc;
}

struct act_ctx {
    const principal *who;
    int as_reporter;
    const audit_actor *a;
    int64_t id;
    const order_action_input *in;
    calendar cal;
    /* resolved before the write */
    int64_t lead; /* dispatch: the department */
    int64_t assist[6];
    int nassist;
    const struct cat_category *recat; /* dispatch/accept with a new category */
    int recat_version;
    char recat_dept_code[16];
    werr *e;
};

/* Reads order id into *o and checks that the action suits its state and
 * that the caller may take it: act_tx on the writer, and act on a reader
 * first, so that a refusal does not wait for the writer. */
static int read_checked(db *d, const principal *who, int as_reporter, int64_t id, int action,
                        struct orow *o, const struct order_transition **t, werr *e)
{
    int rc = row_read(d, id, o);
    if (rc == W_ENOTFOUND)
        return werr_set(e, W_ENOTFOUND, "not_found", "no order %lld", (long long)id);
    if (rc != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read order");
    *t = order_transition_for(action);
    if (!*t)
        return werr_set(e, W_EINVALID, "unknown_action", "unknown action");
    return check(who, as_reporter, o, *t, e);
}

static int act_tx(db *d, void *arg)
{
    struct act_ctx *c = arg;
    const order_action_input *in = c->in;
    struct orow o;
    const struct order_transition *t;
    int rc = read_checked(d, c->who, c->as_reporter, c->id, in->action, &o, &t, c->e);
    if (rc != WOK)
        return rc;
    int64_t now = clock_now();
    int from = o.state;
    int64_t event_dept = o.lead_dept;
    json_t *data = json_object();
    const char *photo_kind = "other";

    switch (in->action) {
    case OA_ACCEPT:
    case OA_DISPATCH:
        if (c->recat) {
            cpy(o.category, sizeof o.category, c->recat->code);
            o.catalog_version = c->recat_version;
            snapshot_limits(&o, c->recat);
            json_object_set_new(data, "category", json_string(o.category));
        }
        if (in->action == OA_ACCEPT)
            break;
        if (!c->lead) {
            json_decref(data);
            return werr_set(c->e, W_EINVALID, "no_department",
                            "dept_id: required — category %s has no responsible department "
                            "(确权后人工转派)",
                            o.category[0] ? o.category : "(none)");
        }
        o.lead_dept = event_dept = c->lead;
        {
            char *aj = ids_json(c->assist, c->nassist);
            cpy(o.assist, sizeof o.assist, aj);
            free(aj);
        }
        if ((rc = write_assists(d, o.id, c->assist, c->nassist)) != WOK)
            break;
        set_deadlines(&o, &c->cal, now);
        {
            char *dd = dispatch_data(&o, 0, c->assist, c->nassist);
            /* A category chosen at dispatch stays in the event: statistics
             * replay the timeline and must see the change. */
            json_t *recat = json_incref(json_object_get(data, "category"));
            json_decref(data);
            data = dd ? json_loads(dd, 0, NULL) : json_object();
            if (!data)
                data = json_object();
            if (recat)
                json_object_set_new(data, "category", recat);
            free(dd);
        }
        break;
    case OA_REJECT:
        json_object_set_new(data, "reason", json_string(in->reason));
        break;
    case OA_MERGE: {
        if (in->merge_into == o.id) {
            rc = werr_set(c->e, W_EINVALID, "invalid_field",
                          "into: an order cannot merge into itself");
            break;
        }
        struct orow target;
        int trc = row_read(d, in->merge_into, &target);
        if (trc != WOK || target.state == OS_MERGED || target.state == OS_REJECTED) {
            rc = werr_set(c->e, W_EINVALID, "invalid_field",
                          "into: order %lld does not exist or was itself merged or rejected",
                          (long long)in->merge_into);
            break;
        }
        o.merged_into = in->merge_into;
        json_object_set_new(data, "into", json_integer(in->merge_into));
        break;
    }
    case OA_ONSITE:
        if (!o.onsite_ok) {
            rc = werr_set(c->e, W_ECONFLICT, "onsite_not_allowed",
                          "该事项不允许即时办结 (category %s may not be resolved on the spot)",
                          o.category[0] ? o.category : "(none)");
            break;
        }
        o.closed_at = now;
        photo_kind = "after";
        break;
    case OA_SIGN:
        o.signed_at = now;
        json_object_set_new(data, "response_deadline", json_integer(o.response_deadline));
        json_object_set_new(data, "ontime", json_boolean(now <= o.response_deadline));
        break;
    case OA_RETURN:
        o.pending = PEND_RETURN;
        o.pending_since = now;
        json_object_set_new(data, "reason", json_string(in->reason));
        break;
    case OA_RETURN_APPROVE:
        o.state = OS_ACCEPTED;
        o.pending = PEND_NONE;
        o.returns++;
        json_object_set_new(data, "returned_by", json_integer(o.lead_dept));
        o.lead_dept = 0;
        o.assist[0] = '\0';
        o.response_deadline = o.deadline = o.dispatched_at = o.signed_at = 0;
        o.pending_since = 0;
        rc = write_assists(d, o.id, NULL, 0);
        break;
    case OA_RETURN_REFUSE:
        o.pending = PEND_NONE;
        o.pending_since = 0;
        break;
    case OA_EXTEND: {
        int64_t until =
            in->until ? in->until : calendar_add(&c->cal, o.deadline, in->hours * 60, o.working);
        if (until <= o.deadline) {
            rc = werr_set(c->e, W_EINVALID, "invalid_field",
                          "until: the new deadline must be after the current one");
            break;
        }
        o.pending = PEND_EXTENSION;
        o.pending_since = now;
        o.pending_until = until;
        json_object_set_new(data, "until", json_integer(until));
        json_object_set_new(data, "reason", json_string(in->reason));
        break;
    }
    case OA_EXTEND_APPROVE:
    case OA_EXTEND_REFUSE: {
        /* the clock stood still while the request waited, if the rules say so */
        int64_t paused =
            o.pause ? calendar_minutes_between(&c->cal, o.pending_since, now, o.working) : 0;
        json_object_set_new(data, "old_deadline", json_integer(o.deadline));
        if (in->action == OA_EXTEND_APPROVE) {
            o.deadline = calendar_add(&c->cal, o.pending_until, paused, o.working);
            o.extensions++;
        } else {
            o.deadline = calendar_add(&c->cal, o.deadline, paused, o.working);
        }
        json_object_set_new(data, "deadline", json_integer(o.deadline));
        json_object_set_new(data, "paused_minutes", json_integer(paused));
        o.pending = PEND_NONE;
        o.pending_since = o.pending_until = 0;
        break;
    }
    case OA_FEEDBACK:
        o.feedback_at = now;
        photo_kind = "after";
        json_object_set_new(data, "deadline", json_integer(o.deadline));
        json_object_set_new(data, "ontime", json_boolean(now <= o.deadline));
        break;
    case OA_VERIFY_PASS:
        o.closed_at = now;
        json_object_set_new(data, "passed", json_true());
        json_object_set_new(data, "deadline", json_integer(o.deadline));
        json_object_set_new(data, "ontime",
                            json_boolean(o.feedback_at && o.feedback_at <= o.deadline));
        break;
    case OA_VERIFY_FAIL:
        o.reworks++;
        json_object_set_new(data, "passed", json_false());
        break;
    case OA_RATE:
        cpy(o.rating, sizeof o.rating, in->rating);
        cpy(o.rating_comment, sizeof o.rating_comment, in->note);
        o.rated_at = now;
        o.rating_default = in->rating_default;
        json_object_set_new(data, "rating", json_string(in->rating));
        json_object_set_new(data, "default", json_boolean(in->rating_default));
        break;
    case OA_ESCALATE:
        if (o.level >= LEVEL_COUNTY) {
            rc = werr_set(c->e, W_ECONFLICT, "top_level",
                          "已在县级统筹 (order %lld is already handled at county level)",
                          (long long)o.id);
            break;
        }
        json_object_set_new(data, "from_level", json_string(level_name(o.level)));
        o.level++;
        o.escalations++;
        json_object_set_new(data, "to_level", json_string(level_name(o.level)));
        break;
    case OA_REOPEN:
        o.reopens++;
        o.lead_dept = 0;
        o.assist[0] = '\0';
        o.response_deadline = o.deadline = o.dispatched_at = o.signed_at = o.feedback_at = 0;
        o.closed_at = o.rated_at = 0;
        o.rating[0] = o.rating_comment[0] = '\0';
        o.rating_default = 0;
        json_object_set_new(data, "reason", json_string(in->reason));
        rc = write_assists(d, o.id, NULL, 0);
        break;
    default:
        break;
    }
    if (rc != WOK) {
        json_decref(data);
        return rc;
    }
    if (t->to != OS_NONE)
        o.state = t->to;
    if (t->pending_out != PEND_NONE)
        o.pending = t->pending_out;
    o.updated_at = now;
    o.seq++;
    if (in->reason && !json_object_get(data, "reason"))
        json_object_set_new(data, "reason", json_string(in->reason));
    char *data_s = json_object_size(data) ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    char *photos = ids_json(in->photos, in->nphotos);
    rc = row_write(d, &o);
    struct order_event ev;
    fill_event(&ev, &o, c->who, t->name, order_state_name(from), now);
    if (c->as_reporter && !c->who)
        ev.actor_role = "reporter";
    ev.dept_id = event_dept;
    ev.note = in->note;
    ev.data = data_s;
    ev.attachments = photos;
    if (rc == WOK)
        rc = append_event(d, &ev);
    if (rc == WOK)
        rc = link_photos(d, o.id, o.seq, in->photos, in->nphotos, photo_kind);
    if (rc == WOK)
        rc = emit(d, in->action, &o, order_state_name(from), now);
    char idbuf[24];
    id_text(o.id, idbuf);
    json_t *detail = json_pack("{s:s, s:s, s:i}", "from", order_state_name(from), "to",
                               order_state_name(o.state), "seq", o.seq);
    char action_name[48];
    snprintf(action_name, sizeof action_name, "order.%s", t->name);
    if (rc == WOK)
        rc = audit_record(d, c->a, action_name, "order", idbuf, detail);
    json_decref(detail);
    free(data_s);
    free(photos);
    return rc == WOK ? WOK
                     : werr_set(c->e, W_EINTERNAL, "database_error", "cannot record the action");
}

static int act(store *st, const principal *who, int as_reporter, const audit_actor *a, int64_t id,
               const order_action_input *in, wbuf *out, werr *e)
{
    struct act_ctx c;
    memset(&c, 0, sizeof c);
    c.who = who;
    c.as_reporter = as_reporter;
    c.a = a;
    c.id = id;
    c.in = in;
    c.e = e;
    calendar_current(&c.cal);
    /* An action the order's state or the caller's scope does not allow is
     * refused on a read, without waiting for the writer: a stale click
     * (签收 on an order already signed) is answered in microseconds instead
     * of behind a group commit. The refusal is exact: it holds for the
     * latest committed state when it was read, inside this request. The
     * write checks again, for what commits in between. */
    struct orow o;
    const struct order_transition *t;
    db *rd = store_reader(st);
    if (!rd)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    int rc = read_checked(rd, who, as_reporter, id, in->action, &o, &t, e);
    store_release(st, rd);
    if (rc != WOK)
        return rc;
    /* Everything that needs reading (departments, photos, the catalogue)
     * is resolved here, before the write; the write re-checks state. */
    if (in->nphotos) {
        db *d = store_reader(st);
        int ok = d && attachment_all_exist(d, in->photos, in->nphotos);
        store_release(st, d);
        if (!ok)
            return werr_set(e, W_EINVALID, "invalid_field", "photos: unknown attachment id");
    }
    catalog *cur = NULL, *old = NULL;
    if (in->category_code) {
        cur = catalog_current(st);
        const struct cat_category *k = catalog_find(cur, in->category_code);
        if (!k || !k->leaf) {
            catalog_release(cur);
            return werr_set(e, W_EINVALID, "unknown_category",
                            "category_code: %s is not a category (小类) of the catalogue",
                            in->category_code);
        }
        c.recat = k;
        c.recat_version = cur->version;
    }
    if (in->action == OA_DISPATCH) {
        db *d = store_reader(st); /* o: as read above */
        rc = d ? WOK : werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
        if (rc == WOK && in->dept_id) {
            db_stmt *s = db_query(d, "SELECT 1 FROM departments WHERE id = ? AND active = 1", "I",
                                  in->dept_id);
            if (!(s && db_step(s) == DB_ROW))
                rc = werr_set(e, W_EINVALID, "invalid_field", "dept_id: no department %lld",
                              (long long)in->dept_id);
            db_done(s);
            c.lead = in->dept_id;
        }
        for (int i = 0; rc == WOK && i < in->nassist; i++) {
            db_stmt *s = db_query(d, "SELECT 1 FROM departments WHERE id = ? AND active = 1", "I",
                                  in->assist[i]);
            if (!(s && db_step(s) == DB_ROW))
                rc = werr_set(e, W_EINVALID, "invalid_field", "assist: no department %lld",
                              (long long)in->assist[i]);
            db_done(s);
            if (in->assist[i] != in->dept_id)
                c.assist[c.nassist++] = in->assist[i];
        }
        /* No department given: the catalogue's, by the category's rules (the
         * new category, or the version the order was filed under). */
        const struct cat_category *k = c.recat;
        if (rc == WOK && !k && o.category[0]) {
            old = catalog_current(st);
            if (old && old->version != o.catalog_version) {
                catalog_release(old);
                old = catalog_version(st, o.catalog_version);
            }
            k = catalog_find(old, o.category);
        }
        if (rc == WOK && !in->dept_id && k) {
            const char *code = catalog_dept_for(k, o.grid);
            db_stmt *s = code[0] ? db_query(d,
                                            "SELECT id FROM departments WHERE code = ? AND "
                                            "active = 1",
                                            "t", code)
                                 : NULL;
            if (s && db_step(s) == DB_ROW)
                c.lead = db_col_int64(s, 0);
            db_done(s);
            for (int i = 0; i < k->nassist && !in->nassist; i++) {
                s = db_query(d, "SELECT id FROM departments WHERE code = ? AND active = 1", "t",
                             k->assist[i]);
                if (s && db_step(s) == DB_ROW && db_col_int64(s, 0) != c.lead)
                    c.assist[c.nassist++] = db_col_int64(s, 0);
                db_done(s);
            }
        }
        store_release(st, d);
        if (rc != WOK) {
            catalog_release(cur);
            catalog_release(old);
            return rc;
        }
    }
    rc = store_write(st, act_tx, &c);
    catalog_release(cur);
    catalog_release(old);
    if (rc != WOK) {
        if (e->rc != rc)
            werr_set(e, rc, "database_error", "cannot record the action");
        return rc;
    }
    if (out) {
        /* the order as it now is, for the answer; none if it cannot be read */
        db *d = store_reader(st);
        if (!d || order_get(d, who, id, out, e) != WOK)
            out->len = 0;
        store_release(st, d);
    }
    return WOK;
}

int order_act(store *st, const principal *who, const audit_actor *a, int64_t order_id,
              const order_action_input *in, wbuf *out, werr *e)
{
    return act(st, who, 0, a, order_id, in, out, e);
}

int order_track_rate(store *st, const principal *who, const audit_actor *a, const char *code,
                     const char *phone_last4, const char *rating, const char *comment, werr *e)
{
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    db_stmt *s =
        db_query(d, "SELECT id, reporter_id, reporter_phone FROM orders WHERE code = ?", "t", code);
    int64_t id = 0, reporter = 0;
    char phone[32] = "";
    if (s && db_step(s) == DB_ROW) {
        id = db_col_int64(s, 0);
        reporter = db_col_int64(s, 1);
        cpy(phone, sizeof phone, db_col_text(s, 2));
    }
    db_done(s);
    store_release(st, d);
    if (!id)
        return werr_set(e, W_ENOTFOUND, "not_found", "no order with tracking code %s", code);
    int is_reporter = who && reporter && who->user_id == reporter;
    if (!is_reporter) {
        /* digits of the reporter's phone, last four */
        char digits[32];
        size_t n = 0;
        for (const char *p = phone; *p && n < sizeof digits - 1; p++)
            if (*p >= '0' && *p <= '9')
                digits[n++] = *p;
        digits[n] = '\0';
        if (n < 4 || !phone_last4 || strlen(phone_last4) != 4 ||
            !crypto_equal(digits + n - 4, phone_last4))
            return werr_set(
                e, W_EFORBIDDEN, "not_reporter",
                "请输入反映人手机号后四位 (the last 4 digits of the reporter's phone do "
                "not match)");
    }
    order_action_input in;
    memset(&in, 0, sizeof in);
    in.action = OA_RATE;
    in.rating = rating;
    in.note = comment;
    return act(st, is_reporter ? who : NULL, 1, a, id, &in, NULL, e);
}

/* ---- reads ------------------------------------------------------------------ */

static int may_see_contact(const principal *who)
{
    return who && (perm_allows(who->role, "order.accept") || who->role == ROLE_GRID_WORKER);
}

static void mask_phone(const char *p, char out[32])
{
    size_t n = strlen(p);
    if (n < 7) {
        snprintf(out, 32, "****");
        return;
    }
    snprintf(out, 32, "%.3s****%s", p, p + n - 4);
}

#define LIST_COLS                                                                                  \
    "o.id, o.code, o.state, o.pending, o.category_code, o.description, o.address, o.lat, "         \
    "o.lng, o.grid_code, o.channel, o.urgency, o.level, o.lead_dept_id, o.created_at, "            \
    "o.response_deadline, o.deadline, o.assist_depts, o.reporter_id, o.reporter_name, "            \
    "o.reporter_phone, o.anonymous, d.name, o.signed_at, o.closed_at, o.pending_since, "           \
    "o.pause_on_extension, o.returns, o.reworks, o.rating"

/* The fields of an order in a list (and the first fields of its detail),
 * written into the open object from a row of LIST_COLS. */
static void list_fields(jw *j, db_stmt *s, const principal *who, int64_t now)
{
    int state = order_state_parse(db_col_text(s, 2));
    const char *pending = db_col_text(s, 3);
    int64_t deadline = db_col_int64(s, 16);
    int paused = pending && strcmp(pending, "extension") == 0 && db_col_int(s, 26);
    jw_int(j, "id", db_col_int64(s, 0));
    jw_string(j, "code", db_col_text(s, 1));
    jw_string(j, "state", order_state_name(state));
    jw_string(j, "state_zh", order_state_zh(state));
    jw_string(j, "pending", pending);
    jw_string(j, "category_code", db_col_text(s, 4));
    jw_string(j, "description", db_col_text(s, 5));
    jw_string(j, "address", db_col_text(s, 6));
    jw_string(j, "grid_code", db_col_text(s, 9));
    jw_string(j, "channel", db_col_text(s, 10));
    jw_string(j, "urgency", db_col_text(s, 11));
    jw_string(j, "level", db_col_text(s, 12));
    if (!db_col_is_null(s, 7)) {
        jw_real(j, "lat", db_col_double(s, 7));
        jw_real(j, "lng", db_col_double(s, 8));
    }
    if (db_col_is_null(s, 13))
        jw_null(j, "dept_id");
    else
        jw_int(j, "dept_id", db_col_int64(s, 13));
    jw_string(j, "dept_name", db_col_text(s, 22));
    jw_time(j, "created_at", db_col_int64(s, 14));
    jw_time(j, "response_deadline", db_col_int64(s, 15));
    jw_time(j, "deadline", deadline);
    jw_bool(j, "overdue", !paused && order_is_overdue(state, deadline, now));
    jw_bool(j, "response_overdue",
            state == OS_DISPATCHED && db_col_int64(s, 15) > 0 && now > db_col_int64(s, 15));
    jw_int(j, "returns", db_col_int(s, 27));
    jw_int(j, "reworks", db_col_int(s, 28));
    if (db_col_text(s, 29))
        jw_string(j, "rating", db_col_text(s, 29));
    /* the reporter: hidden when anonymous, phone masked outside the centre */
    int64_t reporter = db_col_int64(s, 18);
    int own = who && reporter && reporter == who->user_id;
    if (own || (!db_col_int(s, 21) && who && who->scope_kind != SCOPE_SELF)) {
        const char *phone = db_col_text(s, 20);
        jw_string(j, "reporter_name", db_col_text(s, 19));
        if (phone) {
            char masked[32];
            if (!own && !may_see_contact(who))
                mask_phone(phone, masked);
            jw_string(j, "reporter_phone", own || may_see_contact(who) ? phone : masked);
        }
    }
    jw_bool(j, "anonymous", db_col_int(s, 21));
}

/* One order of a list, as a JSON object. */
static void list_item(jw *j, db_stmt *s, const principal *who, int64_t now)
{
    jw_object(j, NULL);
    list_fields(j, s, who, now);
    jw_object_end(j);
}

/* A stored JSON text (an event's data or attachments) as a value; what
 * does not parse (never written so) becomes empty_object ? {} : []. */
static void stored_json(jw *j, const char *key, const char *text, int empty_object)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;
    if (v)
        jw_value(j, key, v);
    else if (empty_object) {
        jw_object(j, key);
        jw_object_end(j);
    } else {
        jw_array(j, key);
        jw_array_end(j);
    }
    json_decref(v);
}

/* The order's events as the array `key`, oldest first. */
static int timeline(jw *j, const char *key, db *d, int64_t id, int public_view)
{
    /* The same columns for both views; the public one does not read what it
     * never shows (actors, event data). */
    db_stmt *s =
        public_view
            ? db_query(d,
                       "SELECT e.seq, e.at, NULL, NULL, e.action, NULL, e.to_state, NULL, e.note, "
                       "NULL, NULL, NULL, dp.name FROM order_events e "
                       "LEFT JOIN departments dp ON dp.id = e.dept_id "
                       "WHERE e.order_id = ? ORDER BY e.seq",
                       "I", id)
            : db_query(d,
                       "SELECT e.seq, e.at, e.actor_id, e.actor_role, e.action, e.from_state, "
                       "e.to_state, e.dept_id, e.note, e.data, e.attachments, u.name, dp.name "
                       "FROM order_events e LEFT JOIN users u ON u.id = e.actor_id "
                       "LEFT JOIN departments dp ON dp.id = e.dept_id "
                       "WHERE e.order_id = ? ORDER BY e.seq",
                       "I", id);
    if (!s)
        return W_EINTERNAL;
    jw_array(j, key);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        const char *action = db_col_text(s, 4);
        int to = order_state_parse(db_col_text(s, 6));
        jw_object(j, NULL);
        jw_int(j, "seq", db_col_int(s, 0));
        jw_time(j, "at", db_col_int64(s, 1));
        jw_string(j, "action", action);
        jw_string(j, "to_state", db_col_text(s, 6));
        if (db_col_text(s, 12))
            jw_string(j, "dept_name", db_col_text(s, 12));
        if (public_view) {
            jw_string(j, "text", states[to].public_zh);
            if (action &&
                (strcmp(action, "feedback") == 0 || strcmp(action, "onsite") == 0 ||
                 strcmp(action, "reject") == 0) &&
                db_col_text(s, 8))
                jw_string(j, "note", db_col_text(s, 8));
        } else {
            jw_string(j, "from_state", db_col_text(s, 5));
            jw_int(j, "actor_id", db_col_int64(s, 2));
            jw_string(j, "actor_role", db_col_text(s, 3));
            jw_string(j, "actor_name", db_col_text(s, 11));
            jw_int(j, "dept_id", db_col_int64(s, 7));
            jw_string(j, "note", db_col_text(s, 8));
            /* An event with no details (accept, onsite, ...) stores NULL; the
             * API promises an object (docs/openapi.json), so it gets {}. */
            stored_json(j, "data", db_col_text(s, 9), 1);
            stored_json(j, "attachments", db_col_text(s, 10), 0);
        }
        jw_object_end(j);
    }
    db_done(s);
    jw_array_end(j);
    return rc == DB_DONE ? WOK : W_EINTERNAL;
}

/* The order's photos as the array `key` (public_only: not those of kind
 * "other", which only staff see). */
static int photos_of(jw *j, const char *key, db *d, int64_t id, int public_only)
{
    db_stmt *s = db_query(d,
                          "SELECT oa.attachment_id, oa.kind, oa.seq, a.mime, a.size, a.sha256 "
                          "FROM order_attachments oa JOIN attachments a ON a.id = "
                          "oa.attachment_id WHERE oa.order_id = ? ORDER BY oa.seq, "
                          "oa.attachment_id",
                          "I", id);
    if (!s)
        return W_EINTERNAL;
    jw_array(j, key);
    int rc;
    while ((rc = db_step(s)) == DB_ROW) {
        if (public_only && strcmp(db_col_text(s, 1), "other") == 0)
            continue;
        jw_object(j, NULL);
        jw_int(j, "id", db_col_int64(s, 0));
        jw_string(j, "kind", db_col_text(s, 1));
        jw_int(j, "seq", db_col_int(s, 2));
        jw_string(j, "mime", db_col_text(s, 3));
        jw_int(j, "size", db_col_int64(s, 4));
        jw_string(j, "sha256", db_col_text(s, 5));
        jw_object_end(j);
    }
    db_done(s);
    jw_array_end(j);
    return rc == DB_DONE ? WOK : W_EINTERNAL;
}

int order_get(db *d, const principal *who, int64_t id, wbuf *out, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT " LIST_COLS " FROM orders o LEFT JOIN departments d ON "
                          "d.id = o.lead_dept_id WHERE o.id = ?",
                          "I", id);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read order");
    if (db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(e, W_ENOTFOUND, "not_found", "no order %lld", (long long)id);
    }
    if (!order_visible(who, db_col_text(s, 9), db_col_int64(s, 13), db_col_text(s, 17),
                       db_col_int64(s, 18))) {
        db_done(s);
        return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                        "不在您的管辖范围 (order %lld is outside your scope)", (long long)id);
    }
    /* the list's fields, then the detail's own */
    jw j;
    jw_init(&j, out);
    jw_object(&j, NULL);
    list_fields(&j, s, who, clock_now());
    db_done(s);
    struct orow o;
    if (row_read(d, id, &o) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read order");
    jw_int(&j, "catalog_version", o.catalog_version);
    jw_string(&j, "time_mode", o.working ? "working" : "natural");
    jw_int(&j, "response_minutes", o.response_minutes);
    jw_int(&j, "complete_minutes", o.complete_minutes);
    jw_bool(&j, "pause_on_extension", o.pause);
    jw_bool(&j, "onsite_allowed", o.onsite_ok);
    stored_json(&j, "assist_dept_ids", o.assist[0] ? o.assist : NULL, 0);
    if (o.merged_into)
        jw_int(&j, "merged_into", o.merged_into);
    else
        jw_null(&j, "merged_into");
    jw_time(&j, "dispatched_at", o.dispatched_at);
    jw_time(&j, "signed_at", o.signed_at);
    jw_time(&j, "feedback_at", o.feedback_at);
    jw_time(&j, "closed_at", o.closed_at);
    jw_time(&j, "pending_since", o.pending_since);
    jw_time(&j, "pending_until", o.pending_until);
    jw_time(&j, "rated_at", o.rated_at);
    jw_time(&j, "updated_at", o.updated_at);
    jw_string(&j, "rating_comment", o.rating_comment[0] ? o.rating_comment : NULL);
    jw_bool(&j, "rating_default", o.rating_default);
    jw_int(&j, "extensions", o.extensions);
    jw_int(&j, "escalations", o.escalations);
    jw_int(&j, "reopens", o.reopens);
    jw_int(&j, "seq", o.seq);
    if (timeline(&j, "timeline", d, id, 0) != WOK || photos_of(&j, "attachments", d, id, 0) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read order %lld", (long long)id);
    jw_array(&j, "allowed_actions");
    for (int i = 0; i < order_table_len; i++) {
        const struct order_transition *t = &order_table[i];
        if (!t->api || t->action == OA_VERIFY_FAIL)
            continue;
        if (check(who, 0, &o, t, NULL) == WOK)
            jw_string(&j, NULL, t->api);
    }
    jw_array_end(&j);
    jw_object_end(&j);
    if (jw_finish(&j) != 0)
        return werr_set(e, W_EINTERNAL, "internal", "cannot encode order %lld", (long long)id);
    return WOK;
}

int order_track(db *d, const char *code, wbuf *out, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT o.id, o.state, o.category_code, o.description, o.address, "
                          "o.created_at, o.deadline, d.name, o.rating, o.closed_at, "
                          "o.grid_code, o.catalog_version FROM orders o LEFT JOIN departments "
                          "d ON d.id = o.lead_dept_id WHERE o.code = ?",
                          "t", code);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read order");
    if (db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(e, W_ENOTFOUND, "not_found", "没有这个查询码 (no order with code %s)",
                        code);
    }
    int64_t id = db_col_int64(s, 0);
    int state = order_state_parse(db_col_text(s, 1));
    jw j;
    jw_init(&j, out);
    jw_object(&j, NULL);
    jw_string(&j, "code", code);
    jw_string(&j, "state", order_state_name(state));
    jw_string(&j, "state_zh", order_state_zh(state));
    jw_string(&j, "status_text", states[state].public_zh);
    jw_string(&j, "category_code", db_col_text(s, 2));
    jw_string(&j, "description", db_col_text(s, 3));
    jw_string(&j, "address", db_col_text(s, 4));
    jw_string(&j, "department", db_col_text(s, 7));
    jw_string(&j, "rating", db_col_text(s, 8));
    jw_time(&j, "created_at", db_col_int64(s, 5));
    jw_time(&j, "deadline", db_col_int64(s, 6));
    jw_time(&j, "closed_at", db_col_int64(s, 9));
    jw_bool(&j, "can_rate", state == OS_CLOSED || state == OS_ONSITE);
    db_done(s);
    if (timeline(&j, "timeline", d, id, 1) != WOK || photos_of(&j, "photos", d, id, 1) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read order");
    jw_object_end(&j);
    if (jw_finish(&j) != 0)
        return werr_set(e, W_EINTERNAL, "internal", "cannot encode order");
    return WOK;
}

int order_attachment_visible(db *d, const principal *who, int64_t attachment_id,
                             const char *track_code)
{
    if (who) {
        db_stmt *s =
            db_query(d, "SELECT created_by FROM attachments WHERE id = ?", "I", attachment_id);
        int mine = s && db_step(s) == DB_ROW && !db_col_is_null(s, 0) &&
                   db_col_int64(s, 0) == who->user_id;
        db_done(s);
        if (mine)
            return 1;
        s = db_query(d,
                     "SELECT o.grid_code, o.lead_dept_id, o.assist_depts, o.reporter_id "
                     "FROM order_attachments oa JOIN orders o ON o.id = oa.order_id "
                     "WHERE oa.attachment_id = ? LIMIT 50",
                     "I", attachment_id);
        int ok = 0;
        while (!ok && s && db_step(s) == DB_ROW)
            ok = order_visible(who, db_col_text(s, 0), db_col_int64(s, 1), db_col_text(s, 2),
                               db_col_int64(s, 3));
        db_done(s);
        if (ok)
            return 1;
    }
    if (track_code) {
        db_stmt *s = db_query(d,
                              "SELECT 1 FROM order_attachments oa JOIN orders o ON o.id = "
                              "oa.order_id WHERE oa.attachment_id = ? AND o.code = ? AND "
                              "oa.public = 1",
                              "It", attachment_id, track_code);
        int ok = s && db_step(s) == DB_ROW;
        db_done(s);
        return ok;
    }
    return 0;
}

/* ---- queues and search ------------------------------------------------------- */

enum { Q_ALL, Q_DISPATCH, Q_DEPARTMENT, Q_GRID, Q_OVERDUE, Q_MINE, Q__COUNT };
static const char *const queue_names[] = {"all",     "dispatch", "department", "grid",
                                          "overdue", "mine",     NULL};

/* Each queue: its condition and its order (matching an index of 004). */
static const struct {
    const char *where, *order, *key; /* key: the sort column for the cursor */
    int asc;
} queues[Q__COUNT] = {
    [Q_ALL] = {"1 = 1", "o.created_at DESC, o.id DESC", "o.created_at", 0},
    [Q_DISPATCH] = {"o.centre_wait = 1", "o.created_at, o.id", "o.created_at", 1},
    [Q_DEPARTMENT] = {"o.lead_dept_id = ?", "o.lead_dept_id, o.deadline, o.id", "o.deadline", 1},
    [Q_GRID] = {"o.grid_code >= ? AND o.grid_code < ?", "o.created_at DESC, o.id DESC",
                "o.created_at", 0},
    [Q_OVERDUE] = {"o.state IN ('dispatched', 'signed', 'rework') AND o.deadline < ? AND NOT "
                   "(o.pending IS NOT NULL AND o.pending = 'extension' AND "
                   "o.pause_on_extension = 1)",
                   "o.deadline, o.id", "o.deadline", 1},
    [Q_MINE] = {"o.reporter_id = ?", "o.created_at DESC, o.id DESC", "o.created_at", 0},
};

/* The generic filters: every queue's statement has the same placeholders
 * in the same order, so one call site binds them all. */
#define FILTERS                                                                                    \
    " AND (? IS NULL OR (o.grid_code >= ? AND o.grid_code < ?))"                                   \
    " AND (? = 0 OR o.lead_dept_id = ? OR o.id IN (SELECT order_id FROM order_assists WHERE "      \
    "dept_id = ?))"                                                                                \
    " AND (? = 0 OR o.reporter_id = ?)"                                                            \
    " AND (? IS NULL OR (o.grid_code >= ? AND o.grid_code < ?))"                                   \
    " AND (? IS NULL OR o.category_code = ? OR (o.category_code >= ? AND o.category_code < ?))"    \
    " AND (? IS NULL OR o.state = ?)"                                                              \
    " AND (? IS NULL OR o.level = ?)"                                                              \
    " AND (? = 0 OR o.lead_dept_id = ?)"                                                           \
    " AND (? = 0 OR o.created_at >= ?) AND (? = 0 OR o.created_at < ?)"                            \
    " AND (? IS NULL OR o.id IN (SELECT rowid FROM orders_fts WHERE orders_fts MATCH ?))"          \
    " AND (? IS NULL OR o.description LIKE ? OR o.address LIKE ?)"                                 \
    " AND (? = 0 OR (o.lat BETWEEN ? AND ? AND o.lng BETWEEN ? AND ? AND "                         \
    "(o.lat - ?) * (o.lat - ?) + (o.lng - ?) * (o.lng - ?) * ? <= ?))"
#define FILTER_TYPES                                                                               \
    "ttt"                                                                                          \
    "III"                                                                                          \
    "II"                                                                                           \
    "ttt"                                                                                          \
    "tttt"                                                                                         \
    "tt"                                                                                           \
    "tt"                                                                                           \
    "II"                                                                                           \
    "IIII"                                                                                         \
    "tt"                                                                                           \
    "ttt"                                                                                          \
    "idddddddddd"

struct filt {
    const char *sg, *sg_hi_p;
    char sg_hi[80];
    int64_t sdept, self;
    const char *g;
    char g_hi[80];
    const char *cat;
    char cat_hi[40];
    const char *state, *level;
    int64_t dept, from, to;
    int64_t qi;
    const char *qg;
    char qg_hi[80]; /* the queue's own condition */
    char *match, *like;
    int near;
    double lat0, lat1, lng0, lng1, lat, lng, k, r2;
};

static char *fts_phrase(const char *q)
{
    size_t n = strlen(q);
    char *out = malloc(2 * n + 3), *p = out;
    if (!out)
        return NULL;
    *p++ = '"';
    for (const char *s = q; *s; s++) {
        if (*s == '"')
            *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    *p = '\0';
    return out;
}

static char *like_pattern(const char *q)
{
    size_t n = strlen(q);
    char *out = malloc(n + 3);
    if (out)
        snprintf(out, n + 3, "%%%s%%", q);
    return out;
}

static int filt_build(const principal *who, const order_query *q, int queue, struct filt *f,
                      werr *e)
{
    memset(f, 0, sizeof *f);
    switch (who->scope_kind) {
    case SCOPE_ALL:
        if (who->role == ROLE_RESIDENT || who->role == ROLE_DEVICE)
            f->self = who->user_id;
        break;
    case SCOPE_GRID:
        f->sg = who->scope_grid;
        snprintf(f->sg_hi, sizeof f->sg_hi, "%s\x7f", who->scope_grid);
        break;
    case SCOPE_DEPT:
        f->sdept = who->scope_dept;
        break;
    default:
        f->self = who->user_id;
        break;
    }
    if (queue == Q_MINE)
        f->self = who->user_id;
    if (queue == Q_DEPARTMENT) {
        if (q->dept_id)
            f->dept = q->dept_id;
        else if (who->scope_kind == SCOPE_DEPT)
            f->dept = who->scope_dept;
        else
            return werr_set(e, W_EINVALID, "invalid_field",
                            "dept: the department queue needs a department");
    } else {
        f->dept = q->dept_id;
    }
    if (queue == Q_GRID && !q->grid && who->scope_kind != SCOPE_GRID)
        return werr_set(e, W_EINVALID, "invalid_field", "grid: the grid queue needs a grid");
    if (q->grid) {
        f->g = q->grid;
        snprintf(f->g_hi, sizeof f->g_hi, "%s\x7f", q->grid);
    }
    if (q->category) {
        f->cat = q->category;
        snprintf(f->cat_hi, sizeof f->cat_hi, "%s\x7f", q->category);
    }
    f->state = q->state;
    f->level = q->level;
    f->from = q->from;
    f->to = q->to;
    if (queue == Q_OVERDUE)
        f->qi = clock_now();
    if (queue == Q_MINE)
        f->qi = who->user_id;
    if (queue == Q_DEPARTMENT)
        f->qi = f->dept;
    if (queue == Q_GRID) {
        f->qg = q->grid ? q->grid : who->scope_grid;
        snprintf(f->qg_hi, sizeof f->qg_hi, "%s\x7f", f->qg);
    }
    if (q->q) {
        if (utf8_chars(q->q) >= 3)
            f->match = fts_phrase(q->q);
        else
            f->like = like_pattern(q->q);
    }
    if (q->has_near) {
        double dlat = q->radius_m / 111320.0;
        double c = cos(q->lat * M_PI / 180.0);
        double dlng = q->radius_m / (111320.0 * (c > 0.01 ? c : 0.01));
        f->near = 1;
        f->lat = q->lat;
        f->lng = q->lng;
        f->lat0 = q->lat - dlat;
        f->lat1 = q->lat + dlat;
        f->lng0 = q->lng - dlng;
        f->lng1 = q->lng + dlng;
        f->k = c * c;
        f->r2 = dlat * dlat;
    }
    return WOK;
}

#define FILTER_ARGS(f)                                                                             \
    (f)->sg, (f)->sg, (f)->sg_hi, (f)->sdept, (f)->sdept, (f)->sdept, (f)->self, (f)->self,        \
        (f)->g, (f)->g, (f)->g_hi, (f)->cat, (f)->cat, (f)->cat, (f)->cat_hi, (f)->state,          \
        (f)->state, (f)->level, (f)->level, (f)->dept, (f)->dept, (f)->from, (f)->from, (f)->to,   \
        (f)->to, (f)->match, (f)->match, (f)->like, (f)->like, (f)->like, (f)->near, (f)->lat0,    \
        (f)->lat1, (f)->lng0, (f)->lng1, (f)->lat, (f)->lat, (f)->lng, (f)->lng, (f)->k, (f)->r2

static void filt_free(struct filt *f)
{
    free(f->match);
    free(f->like);
}

/* Binds the queue's own condition, the filters and (for pages) the cursor. */
static db_stmt *run_queue(db *d, int queue, const char *sql, struct filt *f, int page,
                          int has_cursor, int64_t ck, int64_t cid, int limit)
{
    int one_int = queue == Q_DEPARTMENT || queue == Q_MINE || queue == Q_OVERDUE;
    if (page) {
        if (one_int)
            return db_query(d, sql, "I" FILTER_TYPES "iIIIi", f->qi, FILTER_ARGS(f), has_cursor, ck,
                            ck, cid, limit);
        if (queue == Q_GRID)
            return db_query(d, sql, "tt" FILTER_TYPES "iIIIi", f->qg, f->qg_hi, FILTER_ARGS(f),
                            has_cursor, ck, ck, cid, limit);
        return db_query(d, sql, FILTER_TYPES "iIIIi", FILTER_ARGS(f), has_cursor, ck, ck, cid,
                        limit);
    }
    if (one_int)
        return db_query(d, sql, "I" FILTER_TYPES, f->qi, FILTER_ARGS(f));
    if (queue == Q_GRID)
        return db_query(d, sql, "tt" FILTER_TYPES, f->qg, f->qg_hi, FILTER_ARGS(f));
    return db_query(d, sql, FILTER_TYPES, FILTER_ARGS(f));
}

static int queue_parse(const char *s)
{
    for (int i = 0; s && queue_names[i]; i++)
        if (strcmp(queue_names[i], s) == 0)
            return i;
    return s ? -1 : Q_ALL;
}

/* A grid queue page with no filters: newest first across every grid code
 * under the prefix. The index orders_grid (grid_code, created_at, id) holds
 * each code's orders in time order, so the page is the merge of each
 * code's newest rows: the work grows with the number of grid codes under
 * the prefix (a city community: a few hundred), not with their orders
 * (tens of thousands a year), which the single query had to sort.
 *
 * One statement walks the index backwards, from the last code under the
 * prefix to the first, each code's rows newest first; once a code's rows
 * are older than a full page's last, the walk jumps past the rest of that
 * code (the statement is run again below it): about one seek per code. The
 * codes are the orders' own, so an order filed under any code (a retired
 * grid's too) is found. With a cursor, the rows of each code newer than it
 * are stepped over in the index: as many entries as the pages before it
 * showed. Fills keys[]/ids[] with up to want (created_at, id) pairs, newest
 * first. */
static int grid_page_ids(db *d, const char *lo, const char *hi, int has_cursor, int64_t ck,
                         int64_t cid, int want, int64_t *keys, int64_t *ids, int *n)
{
    *n = 0;
    char below[80]; /* the walk's upper bound: codes below this one */
    snprintf(below, sizeof below, "%s", hi);
    for (;;) {
        db_stmt *s = db_query(d,
                              "SELECT grid_code, created_at, id FROM orders WHERE grid_code >= ? "
                              "AND grid_code < ? AND (? = 0 OR created_at < ? OR (created_at = ? "
                              "AND id < ?)) ORDER BY grid_code DESC, created_at DESC, id DESC",
                              "ttiIII", lo, below, has_cursor, ck, ck, cid);
        if (!s)
            return W_EINTERNAL;
        int rc, jumped = 0;
        while ((rc = db_step(s)) == DB_ROW) {
            int64_t k = db_col_int64(s, 1), id = db_col_int64(s, 2);
            /* insert into the sorted page */
            int at = *n;
            while (at > 0 && (keys[at - 1] < k || (keys[at - 1] == k && ids[at - 1] < id)))
                at--;
            if (at >= want) {
                /* this code's other rows are older still: on to the codes
                 * below it */
                const char *code = db_col_text(s, 0);
                if (!code) { /* out of memory: the range holds no NULL codes */
                    db_done(s);
                    return W_EINTERNAL;
                }
                snprintf(below, sizeof below, "%s", code);
                jumped = 1;
                break;
            }
            int last = *n < want ? *n : want - 1;
            memmove(&keys[at + 1], &keys[at], sizeof *keys * (size_t)(last - at));
            memmove(&ids[at + 1], &ids[at], sizeof *ids * (size_t)(last - at));
            keys[at] = k, ids[at] = id;
            if (*n < want)
                (*n)++;
        }
        db_done(s);
        if (rc == DB_ERROR)
            return W_EINTERNAL;
        if (!jumped)
            return WOK;
    }
}

/* Writes the orders ids[0..n) as list items, in that order. A page's ids
 * are found first (an index walk, no row read), so only the page's own rows
 * are read, and nothing is sorted twice: PAGE_ROWS_AT_ONCE rows a
 * statement (id IN (...), which returns them by id), each written apart
 * into rows and then copied in the page's order. An id gone since (none
 * are deleted today) is left out. */
#define PAGE_ROWS_AT_ONCE 25
#define Q5 "?, ?, ?, ?, ?"
static int page_rows(db *d, const principal *who, const int64_t *ids, int n, jw *j)
{
    int64_t now = clock_now();
    wbuf rows = WBUF_INIT;
    size_t start[PAGE_ROWS_AT_ONCE], end[PAGE_ROWS_AT_ONCE];
    int rc = WOK;
    for (int from = 0; from < n && rc == WOK; from += PAGE_ROWS_AT_ONCE) {
        int64_t at[PAGE_ROWS_AT_ONCE] = {0}; /* id 0: no order */
        int k = n - from < PAGE_ROWS_AT_ONCE ? n - from : PAGE_ROWS_AT_ONCE;
        memcpy(at, ids + from, sizeof *at * (size_t)k);
        db_stmt *s =
            db_query(d,
                     "SELECT " LIST_COLS " FROM orders o LEFT JOIN departments d ON "
                     "d.id = o.lead_dept_id WHERE o.id IN (" Q5 ", " Q5 ", " Q5 ", " Q5 ", " Q5 ")",
                     "IIIIIIIIIIIIIIIIIIIIIIIII", at[0], at[1], at[2], at[3], at[4], at[5], at[6],
                     at[7], at[8], at[9], at[10], at[11], at[12], at[13], at[14], at[15], at[16],
                     at[17], at[18], at[19], at[20], at[21], at[22], at[23], at[24]);
        if (!s) {
            rc = W_EINTERNAL;
            break;
        }
        rows.len = 0; /* this statement's rows only */
        for (int i = 0; i < k; i++)
            start[i] = end[i] = 0;
        int step;
        while ((step = db_step(s)) == DB_ROW) {
            int64_t id = db_col_int64(s, 0);
            for (int i = 0; i < k; i++) {
                if (at[i] != id || end[i])
                    continue;
                jw one;
                jw_init(&one, &rows);
                start[i] = rows.len;
                list_item(&one, s, who, now);
                end[i] = rows.len;
                if (jw_finish(&one) != 0)
                    rc = W_EINTERNAL;
                break;
            }
        }
        db_done(s);
        if (step != DB_DONE || rows.oom)
            rc = W_EINTERNAL;
        for (int i = 0; i < k && rc == WOK; i++)
            if (end[i])
                jw_raw(j, NULL, rows.s + start[i], end[i] - start[i]);
    }
    wbuf_free(&rows);
    return rc;
}

/* A list page's answer {items: [...], queue, next_cursor} for the page's
 * ids and sort keys, n of them: one more than limit when more follow, and
 * then the cursor names the page's last row. */
static int write_page(db *d, const principal *who, int queue, const int64_t *keys,
                      const int64_t *ids, int n, int limit, wbuf *out)
{
    int shown = n > limit ? limit : n;
    jw j;
    jw_init(&j, out);
    jw_object(&j, NULL);
    jw_array(&j, "items");
    if (page_rows(d, who, ids, shown, &j) != WOK)
        return W_EINTERNAL;
    jw_array_end(&j);
    jw_string(&j, "queue", queue_names[queue]);
    if (n > limit) {
        char cur[64];
        snprintf(cur, sizeof cur, "%lld.%lld", (long long)keys[shown - 1],
                 (long long)ids[shown - 1]);
        jw_string(&j, "next_cursor", cur);
    } else {
        jw_null(&j, "next_cursor");
    }
    jw_object_end(&j);
    return jw_finish(&j) == 0 ? WOK : W_EINTERNAL;
}

/* 1 when a list request can take grid_page_ids(): the grid queue, no
 * filter (a filter added to order_query must be refused here too), and the
 * caller's own scope (if any) containing the queue's grid. */
static int grid_page_applies(int queue, const order_query *q, const struct filt *f)
{
    if (queue != Q_GRID || q->category || q->state || q->level || q->dept_id || q->from || q->to ||
        q->q || q->has_near || f->self || f->sdept)
        return 0;
    return !f->sg || strncmp(f->qg, f->sg, strlen(f->sg)) == 0;
}

int order_list(db *d, const principal *who, const order_query *q, wbuf *out, werr *e)
{
    int queue = queue_parse(q->queue);
    if (queue < 0)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "queue: dispatch, department, grid, overdue, mine or all");
    struct filt f;
    if (filt_build(who, q, queue, &f, e) != WOK)
        return e->rc;
    int limit = q->limit > 0 && q->limit <= ORDER_PAGE_MAX ? q->limit : 50;
    /* cursor "key.id": the last row of the previous page */
    long long ck = 0, cid = 0;
    int has_cursor = 0;
    if (q->cursor) {
        if (sscanf(q->cursor, "%lld.%lld", &ck, &cid) != 2 || cid < 1) {
            filt_free(&f);
            return werr_set(e, W_EINVALID, "invalid_field", "cursor: use next_cursor as given");
        }
        has_cursor = 1;
    }
    int64_t keys[ORDER_PAGE_MAX + 1], ids[ORDER_PAGE_MAX + 1];
    int n = 0;
    if (grid_page_applies(queue, q, &f)) {
        int rc = grid_page_ids(d, f.qg, f.qg_hi, has_cursor, ck, cid, limit + 1, keys, ids, &n);
        filt_free(&f);
        if (rc == WOK)
            rc = write_page(d, who, Q_GRID, keys, ids, n, limit, out);
        return rc == WOK ? WOK : werr_set(e, W_EINTERNAL, "database_error", "cannot list orders");
    }
    char sql[4096];
    const char *key = queues[queue].key;
    const char *cmp = queues[queue].asc ? ">" : "<";
    /* the department queue shows the open work unless a state is asked for
     * (this exact state list matches the partial index orders_dept_open) */
    const char *extra = (queue == Q_DEPARTMENT && !q->state)
                            ? " AND o.state IN ('dispatched', 'signed', 'rework', 'feedback')"
                            : "";
    /* The page's ids and sort keys first: the query walks the queue's index
     * without reading order rows (SQLite defers the row seek while the
     * filters' parameters are unset), so sorting a community's thousands of
     * orders by time sorts index entries, not whole rows. page_rows() then
     * reads only the page's rows. */
    snprintf(sql, sizeof sql,
             "SELECT o.id, %s FROM orders o WHERE %s%s" FILTERS
             " AND (? = 0 OR %s %s ? OR (%s = ? AND o.id %s ?)) ORDER BY %s LIMIT ?",
             key, queues[queue].where, extra, key, cmp, key, cmp, queues[queue].order);
    db_stmt *s = run_queue(d, queue, sql, &f, 1, has_cursor, ck, cid, limit + 1);
    filt_free(&f);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list orders");
    int rc = DB_DONE;
    while (n <= limit && (rc = db_step(s)) == DB_ROW) {
        ids[n] = db_col_int64(s, 0);
        keys[n] = db_col_int64(s, 1);
        n++;
    }
    db_done(s);
    if ((n <= limit && rc != DB_DONE) || write_page(d, who, queue, keys, ids, n, limit, out) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list orders");
    return WOK;
}

static int64_t count_queue(db *d, const principal *who, int queue, werr *e)
{
    order_query q;
    memset(&q, 0, sizeof q);
    struct filt f;
    if (filt_build(who, &q, queue, &f, e) != WOK)
        return -1;
    char sql[3072];
    const char *extra = queue == Q_DEPARTMENT
                            ? " AND o.state IN ('dispatched', 'signed', 'rework', 'feedback')"
                            : "";
    snprintf(sql, sizeof sql, "SELECT count(*) FROM orders o WHERE %s%s" FILTERS,
             queues[queue].where, extra);
    db_stmt *s = run_queue(d, queue, sql, &f, 0, 0, 0, 0, 0);
    filt_free(&f);
    int64_t n = (s && db_step(s) == DB_ROW) ? db_col_int64(s, 0) : -1;
    db_done(s);
    return n;
}

int order_counts(db *d, const principal *who, json_t **out, werr *e)
{
    json_t *o = json_object();
    static const int qs[] = {Q_DISPATCH, Q_DEPARTMENT, Q_GRID, Q_OVERDUE, Q_MINE};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        int q = qs[i];
        /* queues that do not apply to the caller are left out */
        if (q == Q_DEPARTMENT && who->scope_kind != SCOPE_DEPT)
            continue;
        if (q == Q_GRID && who->scope_kind != SCOPE_GRID)
            continue;
        if (q == Q_DISPATCH && !perm_allows(who->role, "order.dispatch") &&
            !perm_allows(who->role, "order.approve"))
            continue;
        werr ignore;
        int64_t n = count_queue(d, who, q, &ignore);
        if (n < 0) {
            json_decref(o);
            return werr_set(e, W_EINTERNAL, "database_error", "cannot count orders");
        }
        json_object_set_new(o, queue_names[q], json_integer(n));
    }
    *out = o;
    return WOK;
}

/* ---- defaults ----------------------------------------------------------------- */

int orders_ensure_defaults(store *st, werr *e)
{
    int rc = catalog_ensure_default(st, e);
    if (rc == WOK)
        rc = calendar_ensure_default(st, e);
    return rc;
}
