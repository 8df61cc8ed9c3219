/*
 * demo_history.c — see demo_history.h. The simulation mirrors the rows
 * order.c writes (act_tx / report_tx): the same columns, the same event
 * names, states and data keys, so that queues, timelines, indicators and
 * the supervision scanner treat the history exactly like live orders.
 */
#include "demo_history.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "catalog.h"
#include "clock.h"
#include "order.h"
#include "stats.h"
#include "supervision.h"

#define BATCH 20000      /* orders per write transaction */
#define MAX_EVENTS 40
#define MAX_DEPTS 128
#define MAX_GRIDS 200000

/* ---- deterministic randomness (splitmix64) -------------------------------- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnext(rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double runif(rng *r)
{
    return (double)(rnext(r) >> 11) / 9007199254740992.0;
}

static int rbelow(rng *r, int n)
{
    return n > 0 ? (int)(runif(r) * n) : 0;
}

/* exponential with the given mean */
static double rexp(rng *r, double mean)
{
    return -mean * log(1.0 - runif(r) * 0.999999);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* ---- the world the history happens in ---------------------------------------- */

struct dept {
    int64_t id;
    char code[16];
    double speed;     /* handling time as a share of the limit (fast 0.25 … slow 1.1) */
    double late_sign; /* chance of signing after the response limit */
    double returns;   /* chance of asking to return an order (退单) */
    int64_t handler;  /* a handler account, 0 when none */
};

struct world {
    calendar cal;
    catalog *cat;
    const struct cat_category **leaves;
    int nleaves;
    double *base;      /* popularity per leaf */
    double *amp, *peak;/* seasonal amplitude and peak day of year per leaf */
    struct dept depts[MAX_DEPTS];
    int ndepts;
    char (*grids)[64];
    int ngrids;
    int64_t dispatcher, gridworker;
    int64_t start, now;
};

static struct dept *dept_by_code(struct world *w, const char *code)
{
    for (int i = 0; code && i < w->ndepts; i++)
        if (strcmp(w->depts[i].code, code) == 0)
            return &w->depts[i];
    return NULL;
}

static struct dept *dept_by_id(struct world *w, int64_t id)
{
    for (int i = 0; i < w->ndepts; i++)
        if (w->depts[i].id == id)
            return &w->depts[i];
    return NULL;
}

static int64_t user_of_role(db *d, const char *role)
{
    int64_t id = 0;
    db_stmt *s = db_query(d, "SELECT id FROM users WHERE role = ? ORDER BY id LIMIT 1", "t", role);
    if (s && db_step(s) == DB_ROW)
        id = db_col_int64(s, 0);
    db_done(s);
    return id;
}

static int world_load(store *st, struct world *w, unsigned seed, werr *e)
{
    memset(w, 0, sizeof *w);
    if (calendar_load(st, e) != WOK)
        return e->rc;
    calendar_current(&w->cal);
    w->cat = catalog_current(st);
    if (!w->cat)
        return werr_set(e, W_EINTERNAL, "no_catalog", "the demo history needs the catalogue");
    w->leaves = calloc((size_t)w->cat->n, sizeof *w->leaves);
    w->base = calloc((size_t)w->cat->n, sizeof *w->base);
    w->amp = calloc((size_t)w->cat->n, sizeof *w->amp);
    w->peak = calloc((size_t)w->cat->n, sizeof *w->peak);
    if (!w->leaves || !w->base || !w->amp || !w->peak)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    for (int i = 0; i < w->cat->n; i++) {
        const struct cat_category *c = &w->cat->cats[i];
        if (!c->leaf)
            continue;
        int k = w->nleaves++;
        w->leaves[k] = c;
        /* city appearance and traffic are the bulk of a county's matters */
        uint64_t h = hash_str(c->code);
        double top = (c->code[0] == '0' && (c->code[1] == '1' || c->code[1] == '2')) ? 3.0 : 1.0;
        w->base[k] = top * (0.3 + (double)(h % 100) / 60.0);
        /* seasons: summer (noise, fumes, rubbish), winter (pipes, heating),
         * the rainy season (drains, leaks) — by the category's hash */
        static const double peaks[] = {200, 15, 185, 100, 290};
        w->peak[k] = peaks[(h >> 8) % 5];
        w->amp[k] = 0.15 + (double)((h >> 16) % 50) / 100.0;
    }
    if (!w->nleaves)
        return werr_set(e, W_EINTERNAL, "no_catalog", "the catalogue has no categories");

    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EBUSY, "database_unavailable", "database unavailable");
    db_stmt *s = db_query(d, "SELECT id, code FROM departments WHERE active = 1 ORDER BY id", "");
    while (s && db_step(s) == DB_ROW && w->ndepts < MAX_DEPTS) {
        struct dept *x = &w->depts[w->ndepts++];
        x->id = db_col_int64(s, 0);
        snprintf(x->code, sizeof x->code, "%s", db_col_text(s, 1));
        rng dr = {hash_str(x->code) ^ seed};
        int slow = runif(&dr) < 0.35;
        x->speed = slow ? 0.6 + runif(&dr) * 0.5 : 0.2 + runif(&dr) * 0.3;
        x->late_sign = slow ? 0.12 + runif(&dr) * 0.12 : 0.01 + runif(&dr) * 0.04;
        x->returns = 0.02 + runif(&dr) * 0.05;
    }
    db_done(s);
    for (int i = 0; i < w->ndepts; i++) {
        s = db_query(d,
                     "SELECT id FROM users WHERE role = 'department_handler' AND scope_dept = ? "
                     "ORDER BY id LIMIT 1",
                     "I", w->depts[i].id);
        if (s && db_step(s) == DB_ROW)
            w->depts[i].handler = db_col_int64(s, 0);
        db_done(s);
    }
    /* orders happen in the deepest grids (where people live) */
    w->grids = calloc(MAX_GRIDS, sizeof *w->grids);
    s = db_query(d,
                 "SELECT code FROM grids WHERE status = 'active' AND depth = (SELECT max(depth) "
                 "FROM grids WHERE status = 'active') ORDER BY code LIMIT ?",
                 "i", MAX_GRIDS);
    while (w->grids && s && db_step(s) == DB_ROW)
        snprintf(w->grids[w->ngrids++], 64, "%s", db_col_text(s, 0));
    db_done(s);
    w->dispatcher = user_of_role(d, "dispatcher");
    w->gridworker = user_of_role(d, "grid_worker");
    store_release(st, d);
    if (!w->ndepts)
        return werr_set(e, W_EINTERNAL, "no_departments", "the demo history needs departments");
    w->now = clock_now();
    w->start = w->now - 365 * 86400;
    return WOK;
}

static void world_free(struct world *w)
{
    catalog_release(w->cat);
    free(w->leaves);
    free(w->base);
    free(w->amp);
    free(w->peak);
    free(w->grids);
}

/* ---- one simulated order ------------------------------------------------------- */

struct ev {
    int64_t at, actor_id, dept_id;
    const char *actor_role, *action;
    int from, to;
    char note[160];
    char *data;  /* JSON text, owned */
    int64_t response_deadline, deadline; /* the order's, after the event */
    int photo_after;
};

struct sim {
    /* the order row */
    char code[9], category[32], grid[64];
    const char *channel, *urgency, *reporter_role;
    int state, pending, level, working, onsite_ok, pause, anonymous;
    int64_t reporter_id, lead, created_at, dispatched_at, signed_at, feedback_at, closed_at;
    int64_t response_deadline, deadline, pending_since, pending_until, rated_at;
    int response_minutes, complete_minutes, returns, reworks, extensions, rating_default;
    char assist[64], rating[16], phone[16], description[200];
    /* the timeline */
    struct ev ev[MAX_EVENTS];
    int n;
    int cut; /* the next event lies after now: stop */
    /* for the supervision history */
    int late_sign, late_done;
    int64_t late_sign_dl, late_done_dl, late_sign_dept, late_done_dept, returned_by;
};

static int push(struct sim *o, int64_t at, int64_t actor, const char *role, const char *action,
                int to, int64_t dept, json_t *data, const char *note, int64_t now)
{
    if (o->cut || o->n >= MAX_EVENTS || at > now) {
        o->cut = 1;
        json_decref(data);
        return 0;
    }
    struct ev *x = &o->ev[o->n++];
    memset(x, 0, sizeof *x);
    x->at = at;
    x->actor_id = actor;
    x->actor_role = role;
    x->action = action;
    x->from = o->state;
    x->to = to;
    x->dept_id = dept;
    snprintf(x->note, sizeof x->note, "%s", note ? note : "");
    x->data = data && json_object_size(data) ? json_dumps(data, JSON_COMPACT) : NULL;
    json_decref(data);
    o->state = to;
    return 1;
}

static void set_deadlines(struct world *w, struct sim *o, int64_t at)
{
    o->dispatched_at = at;
    o->response_deadline = calendar_add(&w->cal, at, o->response_minutes, o->working);
    o->deadline = calendar_add(&w->cal, at, o->complete_minutes, o->working);
}

static json_t *dispatch_json(struct sim *o, int automatic, const char *assist)
{
    json_t *a = json_loads(assist[0] ? assist : "[]", 0, NULL);
    return json_pack("{s:b, s:I, s:o, s:I, s:I, s:I, s:I, s:s}", "auto", automatic, "dept",
                     (json_int_t)o->lead, "assist", a ? a : json_array(), "response_deadline",
                     (json_int_t)o->response_deadline, "deadline", (json_int_t)o->deadline,
                     "response_minutes", (json_int_t)o->response_minutes, "complete_minutes",
                     (json_int_t)o->complete_minutes, "time", o->working ? "working" : "natural");
}

static void snap(struct sim *o)
{
    if (o->n) {
        o->ev[o->n - 1].response_deadline = o->response_deadline;
        o->ev[o->n - 1].deadline = o->deadline;
    }
}

static const char *const texts[] = {
    "路口附近，影响通行，请尽快处理", "居民多次反映，希望尽快解决", "晚上尤其明显，影响休息",
    "已持续一周左右", "小区门口", "靠近学校，存在安全隐患", "菜市场旁边", "老旧小区内",
};

/* Simulates one order from its report to now. */
static void simulate(struct world *w, rng *r, struct sim *o, int64_t created)
{
    memset(o, 0, sizeof *o);
    static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    for (int i = 0; i < 8; i++)
        o->code[i] = alphabet[rbelow(r, (int)sizeof alphabet - 1)];
    /* category by season */
    double doy = fmod((double)(created + 8 * 3600) / 86400.0, 365.25);
    double tot = 0;
    for (int i = 0; i < w->nleaves; i++)
        tot += w->base[i] * (1 + w->amp[i] * cos(2 * M_PI * (doy - w->peak[i]) / 365.25));
    double pick = runif(r) * tot;
    int li = 0;
    for (; li < w->nleaves - 1; li++) {
        pick -= w->base[li] * (1 + w->amp[li] * cos(2 * M_PI * (doy - w->peak[li]) / 365.25));
        if (pick <= 0)
            break;
    }
    const struct cat_category *cat = w->leaves[li];
    snprintf(o->category, sizeof o->category, "%s", cat->code);
    snprintf(o->grid, sizeof o->grid, "%s", w->ngrids ? w->grids[rbelow(r, w->ngrids)] : "");
    o->urgency = (cat->nlimits > 1 && runif(r) < 0.08) ? cat->limits[1].urgency : "normal";
    const struct cat_limit *L = catalog_limit(cat, o->urgency);
    o->working = cat->working;
    o->response_minutes = L->response_minutes ? L->response_minutes : 240;
    o->complete_minutes = L->complete_minutes ? L->complete_minutes : 2400;
    o->pause = cat->pause_on_extension;
    o->onsite_ok = cat->onsite;
    o->level = cat->level;
    snprintf(o->description, sizeof o->description, "%s，%s", cat->name ? cat->name : "问题",
             texts[rbelow(r, (int)(sizeof texts / sizeof texts[0]))]);
    /* who blew the whistle */
    double ch = runif(r);
    o->channel = ch < 0.30 ? "resident_web" : ch < 0.45 ? "wechat" : ch < 0.70 ? "hotline_12345"
               : ch < 0.95 ? "grid_app" : ch < 0.98 ? "device" : "representative";
    if (!strcmp(o->channel, "grid_app")) {
        o->reporter_role = "grid_worker";
        o->reporter_id = w->gridworker;
    } else if (!strcmp(o->channel, "hotline_12345")) {
        o->reporter_role = "dispatcher";
        o->reporter_id = w->dispatcher;
    } else if (!strcmp(o->channel, "device")) {
        o->reporter_role = "device";
    } else if (!strcmp(o->channel, "representative")) {
        o->reporter_role = "representative";
    } else {
        o->reporter_role = "anonymous";
        snprintf(o->phone, sizeof o->phone, "138%08d", rbelow(r, 100000000));
        o->anonymous = runif(r) < 0.2;
    }
    o->created_at = created;
    int64_t now = w->now, t = created, disp = w->dispatcher;
    const char *dept_code = catalog_dept_for(cat, o->grid);
    struct dept *D = dept_by_code(w, dept_code);
    json_t *rd = json_pack("{s:s, s:s, s:s?, s:s, s:b}", "channel", o->channel, "category",
                           o->category, "grid", o->grid[0] ? o->grid : NULL, "urgency", o->urgency,
                           "anonymous", o->anonymous);
    o->state = OS_NONE;
    push(o, t, o->reporter_id, o->reporter_id ? o->reporter_role : "anonymous", "report",
         OS_SUBMITTED, 0, rd, NULL, now);
    if (!strcmp(o->reporter_role, "anonymous"))
        o->ev[0].actor_role = "anonymous";
    else if (!o->reporter_id)
        o->ev[0].actor_role = o->reporter_role;

    /* 即时办结 by the grid worker */
    if (!strcmp(o->reporter_role, "grid_worker") && o->onsite_ok && runif(r) < 0.35) {
        t += 600 + (int64_t)rexp(r, 1800);
        o->closed_at = t;
        if (push(o, t, w->gridworker, "grid_worker", "onsite", OS_ONSITE, 0, NULL,
                 "现场已处理完毕", now))
            o->ev[o->n - 1].photo_after = 1;
        else
            o->closed_at = 0;
        goto rate;
    }
    /* the centre rejects a few (invalid or not its business) */
    if (runif(r) < 0.03) {
        t += 1800 + (int64_t)rexp(r, 4 * 3600);
        push(o, t, disp, "dispatcher", "reject", OS_REJECTED, 0,
             json_pack("{s:s}", "reason", "不属于受理范围"), NULL, now);
        return;
    }
    int automatic = D != NULL;
    if (!automatic) {
        /* 确权后人工转派: accepted, then dispatched by hand */
        t += 1800 + (int64_t)rexp(r, 3 * 3600);
        push(o, t, disp, "dispatcher", "accept", OS_ACCEPTED, 0, NULL, NULL, now);
        D = &w->depts[rbelow(r, w->ndepts)];
        t += 600 + (int64_t)rexp(r, 2 * 3600);
    }
    for (int round = 0; round < 4 && !o->cut; round++) {
        /* dispatch */
        o->lead = D->id;
        set_deadlines(w, o, t);
        if (!push(o, t, automatic ? 0 : disp, automatic ? "system" : "dispatcher", "dispatch",
                  OS_DISPATCHED, D->id, dispatch_json(o, automatic, o->assist), NULL, now)) {
            o->lead = 0;
            o->dispatched_at = o->response_deadline = o->deadline = 0;
            return;
        }
        snap(o);
        automatic = 0;
        int64_t handler = D->handler;
        /* sign for it: mostly in time, the slow ones often late */
        int64_t rlim = o->response_deadline - t;
        int64_t sign_at = runif(r) < D->late_sign ? o->response_deadline + 60 + (int64_t)rexp(r, (double)rlim)
                                                  : t + (int64_t)(runif(r) * (double)rlim * 0.9) + 60;
        if (runif(r) < 0.004) /* a few are never signed for: overdue and supervised */
            sign_at = now + 86400 * 400;
        int late = sign_at > o->response_deadline;
        o->signed_at = sign_at;
        if (!push(o, sign_at, handler, "department_handler", "sign", OS_SIGNED, D->id,
                  json_pack("{s:I, s:b}", "response_deadline", (json_int_t)o->response_deadline,
                            "ontime", !late),
                  NULL, now)) {
            o->signed_at = 0;
            if (now > o->response_deadline) {
                o->late_sign = 1;
                o->late_sign_dl = o->response_deadline;
                o->late_sign_dept = D->id;
            }
            if (now > o->deadline) {
                o->late_done = 1;
                o->late_done_dl = o->deadline;
                o->late_done_dept = D->id;
            }
            return;
        }
        snap(o);
        if (late) {
            o->late_sign = 1;
            o->late_sign_dl = o->response_deadline;
            o->late_sign_dept = D->id;
        }
        t = sign_at;
        /* 退单: not ours */
        if (runif(r) < D->returns * (round == 0 ? 1.0 : 3.0)) {
            t += 1800 + (int64_t)rexp(r, 6 * 3600);
            o->pending = PEND_RETURN;
            o->pending_since = t;
            if (!push(o, t, handler, "department_handler", "return", OS_SIGNED, D->id,
                      json_pack("{s:s}", "reason", "不属于本部门职责范围"), NULL, now)) {
                o->pending = PEND_NONE;
                o->pending_since = 0;
                return;
            }
            snap(o);
            t += 1800 + (int64_t)rexp(r, 5 * 3600);
            if (runif(r) < 0.7) {
                int64_t returned = D->id;
                o->pending = PEND_NONE;
                o->pending_since = 0;
                o->returns++;
                int64_t rd0 = o->response_deadline, dl0 = o->deadline, da0 = o->dispatched_at,
                        sa0 = o->signed_at;
                o->lead = 0;
                o->response_deadline = o->deadline = o->dispatched_at = o->signed_at = 0;
                if (!push(o, t, disp, "dispatcher", "return_approve", OS_ACCEPTED, returned,
                          json_pack("{s:I}", "returned_by", (json_int_t)returned), NULL, now)) {
                    /* not yet decided: the request still waits */
                    o->pending = PEND_RETURN;
                    o->returns--;
                    o->lead = returned;
                    o->response_deadline = rd0;
                    o->deadline = dl0;
                    o->dispatched_at = da0;
                    o->signed_at = sa0;
                    return;
                }
                snap(o);
                o->returned_by = returned;
                /* redispatch: usually to another department */
                struct dept *next = &w->depts[rbelow(r, w->ndepts)];
                if (runif(r) < 0.3 || next == D)
                    next = D;
                D = next;
                t += 900 + (int64_t)rexp(r, 3 * 3600);
                continue;
            }
            o->pending = PEND_NONE;
            o->pending_since = 0;
            if (!push(o, t, disp, "dispatcher", "return_refuse", OS_SIGNED, D->id, NULL, NULL,
                      now))
                return;
            snap(o);
        }
        /* 延期 */
        if (runif(r) < 0.06) {
            t += 3600 + (int64_t)rexp(r, 8 * 3600);
            int64_t until = calendar_add(&w->cal, o->deadline, 24 * 60 * (1 + rbelow(r, 3)),
                                         o->working);
            o->pending = PEND_EXTENSION;
            o->pending_since = t;
            o->pending_until = until;
            if (!push(o, t, handler, "department_handler", "extend", OS_SIGNED, D->id,
                      json_pack("{s:I, s:s}", "until", (json_int_t)until, "reason",
                                "需协调多个部门，申请延期"),
                      NULL, now)) {
                o->pending = PEND_NONE;
                o->pending_since = o->pending_until = 0;
                break;
            }
            snap(o);
            t += 1800 + (int64_t)rexp(r, 4 * 3600);
            int ok = runif(r) < 0.8;
            int64_t paused = o->pause ? calendar_minutes_between(&w->cal, o->pending_since, t,
                                                                 o->working)
                                      : 0;
            int64_t old = o->deadline;
            int64_t nd = calendar_add(&w->cal, ok ? o->pending_until : o->deadline, paused,
                                      o->working);
            int64_t ps = o->pending_since, pu = o->pending_until;
            o->pending = PEND_NONE;
            o->pending_since = o->pending_until = 0;
            o->deadline = nd;
            if (ok)
                o->extensions++;
            if (!push(o, t, disp, "dispatcher", ok ? "extend_approve" : "extend_refuse",
                      OS_SIGNED, D->id,
                      json_pack("{s:I, s:I, s:I}", "old_deadline", (json_int_t)old, "deadline",
                                (json_int_t)nd, "paused_minutes", (json_int_t)paused),
                      NULL, now)) {
                o->pending = PEND_EXTENSION;
                o->pending_since = ps;
                o->pending_until = pu;
                o->deadline = old;
                if (ok)
                    o->extensions--;
                break;
            }
            snap(o);
        }
        /* handle and feed back; verification may send it back (返工) */
        for (int rework = 0; rework < 3; rework++) {
            int64_t lim = o->deadline - o->dispatched_at;
            int64_t fb = t + 1800 + (int64_t)(runif(r) * (double)lim * D->speed * 1.6);
            if (runif(r) < 0.006)
                fb = now + 86400 * 400; /* stuck: it will be overdue */
            int ontime = fb <= o->deadline;
            o->feedback_at = fb;
            if (!push(o, fb, handler, "department_handler", "feedback", OS_FEEDBACK, D->id,
                      json_pack("{s:I, s:b}", "deadline", (json_int_t)o->deadline, "ontime",
                                ontime),
                      "已到现场处理完毕，附处理后照片", now)) {
                o->feedback_at = 0;
                if (now > o->deadline) {
                    o->late_done = 1;
                    o->late_done_dl = o->deadline;
                    o->late_done_dept = D->id;
                }
                return;
            }
            o->ev[o->n - 1].photo_after = 1;
            snap(o);
            if (!ontime) {
                o->late_done = 1;
                o->late_done_dl = o->deadline;
                o->late_done_dept = D->id;
            }
            t = fb + 1800 + (int64_t)rexp(r, 10 * 3600);
            if (runif(r) < 0.07 && rework < 2) {
                o->reworks++;
                if (!push(o, t, disp, "dispatcher", "verify_fail", OS_REWORK, D->id,
                          json_pack("{s:b}", "passed", 0), "现场核实未整改到位", now)) {
                    o->reworks--;
                    return;
                }
                snap(o);
                continue;
            }
            o->closed_at = t;
            if (!push(o, t, disp, "dispatcher", "verify_pass", OS_CLOSED, D->id,
                      json_pack("{s:b, s:I, s:b}", "passed", 1, "deadline",
                                (json_int_t)o->deadline, "ontime",
                                o->feedback_at && o->feedback_at <= o->deadline),
                      NULL, now)) {
                o->closed_at = 0;
                return;
            }
            snap(o);
            break;
        }
        break;
    }
rate:
    if (o->state != OS_CLOSED && o->state != OS_ONSITE)
        return;
    {
        int64_t closed = o->closed_at;
        int by_reporter = (o->reporter_id || o->phone[0]) && runif(r) < 0.72;
        if (by_reporter) {
            double slow = D ? D->speed : 0.4;
            double u = runif(r);
            const char *rating = u < 0.9 - slow * 0.25 ? "satisfied"
                                 : u < 0.97 - slow * 0.1 ? "basic" : "unsatisfied";
            int64_t at = closed + 1800 + (int64_t)rexp(r, 30 * 3600);
            snprintf(o->rating, sizeof o->rating, "%s", rating);
            o->rated_at = at;
            if (!push(o, at, o->reporter_id, o->reporter_id ? o->reporter_role : "reporter",
                      "rate", OS_RATED, o->lead,
                      json_pack("{s:s, s:b}", "rating", rating, "default", 0), NULL, now)) {
                o->rating[0] = '\0';
                o->rated_at = 0;
            } else {
                snap(o);
            }
        } else {
            /* silence: the default rating after 7 days, given by the job */
            int64_t at = closed + RATING_DEFAULT_DAYS * 86400 + 30 + rbelow(r, 600);
            snprintf(o->rating, sizeof o->rating, "satisfied");
            o->rated_at = at;
            o->rating_default = 1;
            if (!push(o, at, 0, "system", "rate", OS_RATED, o->lead,
                      json_pack("{s:s, s:b}", "rating", "satisfied", "default", 1),
                      "逾期未评价，系统默认满意 (no rating given in time: default rating)", now)) {
                o->rating[0] = '\0';
                o->rated_at = 0;
                o->rating_default = 0;
            } else {
                snap(o);
            }
        }
    }
}

/* ---- writing ------------------------------------------------------------------- */

struct gen_ctx {
    struct world *w;
    rng *r;
    int64_t *times; /* created_at of the orders, sorted */
    int64_t from, to;
    int64_t notices, deductions;
    /* where the batch started, so that a re-run (store.h) replays it */
    rng r0;
    int64_t notices0, deductions0;
    int started;
    werr *e;
};

static int insert_order(db *d, struct world *w, struct sim *o, int64_t *id)
{
    int rc = W_ECONFLICT;
    for (int attempt = 0; attempt < 8 && rc == W_ECONFLICT; attempt++) {
        if (attempt) /* a tracking code already taken: draw another */
            o->code[attempt % 8] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"[(attempt * 7 + o->code[0]) % 31];
        rc = db_exec(
            d,
            "INSERT INTO orders (code, state, pending, centre_wait, category_code, "
            "catalog_version, description, grid_code, channel, urgency, level, reporter_id, "
            "reporter_role, reporter_phone, anonymous, lead_dept_id, assist_depts, time_mode, "
            "response_minutes, complete_minutes, pause_on_extension, onsite_allowed, created_at, "
            "updated_at, dispatched_at, signed_at, feedback_at, closed_at, response_deadline, "
            "deadline, pending_since, pending_until, returns, reworks, extensions, rating, "
            "rated_at, rating_default, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "nullif(?, 0), ?, ?, ?, nullif(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, nullif(?, 0), "
            "nullif(?, 0), nullif(?, 0), nullif(?, 0), nullif(?, 0), nullif(?, 0), "
            "nullif(?, 0), nullif(?, 0), ?, ?, ?, ?, nullif(?, 0), ?, ?)",
            "tttitit" "tttt" "IttiItt" "iiii" "IIIIIIIIII" "iiitIii",
            o->code, order_state_name(o->state), order_pending_name(o->pending),
            o->state == OS_SUBMITTED || o->state == OS_ACCEPTED || o->pending != PEND_NONE,
            o->category, w->cat->version, o->description, o->grid[0] ? o->grid : NULL,
            o->channel, o->urgency, level_name(o->level), o->reporter_id, o->reporter_role,
            o->phone[0] ? o->phone : NULL, o->anonymous, o->lead, o->assist[0] ? o->assist : NULL,
            o->working ? "working" : "natural", o->response_minutes, o->complete_minutes,
            o->pause, o->onsite_ok, o->created_at, o->ev[o->n - 1].at, o->dispatched_at,
            o->signed_at, o->feedback_at, o->closed_at, o->response_deadline, o->deadline,
            o->pending_since, o->pending_until, o->returns, o->reworks, o->extensions,
            o->rating[0] ? o->rating : NULL, o->rated_at, o->rating_default, o->n);
    }
    if (rc != WOK)
        return rc;
    *id = db_last_id(d);
    return db_exec(d, "INSERT INTO orders_fts (rowid, description, address) VALUES (?, ?, NULL)",
                   "It", *id, o->description);
}

static int write_events(db *d, struct sim *o, int64_t id)
{
    for (int i = 0; i < o->n; i++) {
        struct ev *x = &o->ev[i];
        int rc = db_exec(d,
                         "INSERT INTO order_events (order_id, seq, at, actor_id, actor_role, "
                         "action, from_state, to_state, dept_id, note, data, attachments) "
                         "VALUES (?, ?, ?, nullif(?, 0), ?, ?, ?, ?, nullif(?, 0), ?, ?, NULL)",
                         "IiIItttt" "Itt", id, i + 1, x->at, x->actor_id, x->actor_role,
                         x->action, x->from == OS_NONE ? NULL : order_state_name(x->from),
                         order_state_name(x->to), x->dept_id, x->note[0] ? x->note : NULL,
                         x->data);
        if (rc != WOK)
            return rc;
        struct order_event se;
        memset(&se, 0, sizeof se);
        se.order_id = id;
        se.seq = i + 1;
        se.at = x->at;
        se.actor_id = x->actor_id;
        se.actor_role = x->actor_role;
        se.action = x->action;
        se.from_state = x->from == OS_NONE ? NULL : order_state_name(x->from);
        se.to_state = order_state_name(x->to);
        se.dept_id = x->dept_id;
        se.note = x->note[0] ? x->note : NULL;
        se.data = x->data;
        se.grid_code = o->grid[0] ? o->grid : NULL;
        se.category_code = o->category;
        se.channel = o->channel;
        se.level = level_name(o->level);
        se.urgency = o->urgency;
        se.created_at = o->created_at;
        se.response_deadline = x->response_deadline;
        se.deadline = x->deadline;
        if ((rc = stats_on_event(d, &se)) != WOK)
            return rc;
    }
    if (o->lead && o->assist[0]) {
        json_t *a = json_loads(o->assist, 0, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v)
        {
            db_exec(d, "INSERT INTO order_assists (dept_id, order_id) VALUES (?, ?) "
                       "ON CONFLICT DO NOTHING", "II", (int64_t)json_integer_value(v), id);
        }
        json_decref(a);
    }
    return WOK;
}

/* The supervision the scanner would have issued at the time, and what the
 * departments answered and the centre closed since. */
static int write_supervision(db *d, struct gen_ctx *c, rng *r, struct sim *o, int64_t id)
{
    struct {
        int on;
        const char *kind, *alert;
        int64_t dl, dept, at;
        int points;
    } k[3] = {
        {o->late_sign, "late_signing", "response_overdue", o->late_sign_dl, o->late_sign_dept,
         o->late_sign_dl, POINTS_LATE_SIGNING},
        {o->late_done, "overdue_completion", "completion_overdue", o->late_done_dl,
         o->late_done_dept, o->late_done_dl, POINTS_OVERDUE_COMPLETION},
        {o->returns > SUPERVISION_DEFAULT_RETURN_LIMIT, "repeated_returns", NULL, 0,
         o->returned_by, 0, POINTS_REPEATED_RETURNS},
    };
    if (k[2].on) {
        /* the return that went over the limit */
        int seen = 0;
        for (int i = 0; i < o->n; i++)
            if (!strcmp(o->ev[i].action, "return_approve") &&
                ++seen == SUPERVISION_DEFAULT_RETURN_LIMIT + 1)
                k[2].at = k[2].dl = o->ev[i].at;
    }
    int64_t now = c->w->now;
    for (int i = 0; i < 3; i++) {
        if (!k[i].on || !k[i].at)
            continue;
        int64_t issued = k[i].at + 1 + rbelow(r, 30);
        if (issued > now)
            continue;
        char local[32], reason[200];
        clock_format_local(k[i].dl, local);
        if (i == 2)
            snprintf(reason, sizeof reason, "退单 %d 次，超过 %d 次 — returned %d times (推诿扯皮)",
                     SUPERVISION_DEFAULT_RETURN_LIMIT + 1, SUPERVISION_DEFAULT_RETURN_LIMIT,
                     SUPERVISION_DEFAULT_RETURN_LIMIT + 1);
        else
            snprintf(reason, sizeof reason,
                     i == 0 ? "超过签收时限未签收（时限 %.16s）— not signed for by the response "
                              "deadline"
                            : "超过办结时限未办结（时限 %.16s）— not completed by the deadline",
                     local);
        int64_t nid = 0;
        int rc = supervision_issue_tx(d, id, o->code, k[i].dept, o->grid[0] ? o->grid : NULL,
                                      k[i].kind, reason, issued,
                                      issued + SUPERVISION_DEFAULT_ANSWER_HOURS * 3600, 0, 0,
                                      &nid);
        if (rc != WOK)
            return rc;
        if (nid) {
            c->notices++;
            int64_t ans = issued + 3600 + (int64_t)rexp(r, 20 * 3600);
            int64_t clo = ans + 3600 + (int64_t)rexp(r, 30 * 3600);
            if (ans <= now)
                rc = db_exec(d,
                             "UPDATE supervision_notices SET state = 'answered', answer = ?, "
                             "answered_at = ?, answered_by = nullif(?, 0) WHERE id = ?",
                             "tIII", "已责成专人办理，并加强内部督查，确保按时办结。", ans,
                             dept_by_id(c->w, k[i].dept) ? dept_by_id(c->w, k[i].dept)->handler
                                                         : 0,
                             nid);
            if (rc == WOK && ans <= now && clo <= now)
                rc = db_exec(d,
                             "UPDATE supervision_notices SET state = 'closed', close_note = ?, "
                             "closed_at = ?, closed_by = nullif(?, 0) WHERE id = ?",
                             "tIII", "经核实已整改，予以销号。", clo, c->w->dispatcher, nid);
            if (rc != WOK)
                return rc;
        }
        int created = 0;
        rc = deduction_record(d, k[i].dept, o->grid[0] ? o->grid : NULL, NULL, k[i].kind,
                              k[i].points, id, nid, k[i].at, reason, &created);
        if (rc == WOK && k[i].alert)
            rc = db_exec(d,
                         "INSERT INTO order_alerts (order_id, kind, deadline, at) VALUES "
                         "(?, ?, ?, ?) ON CONFLICT DO NOTHING",
                         "ItII", id, k[i].alert, k[i].dl, issued);
        if (rc != WOK)
            return rc;
        c->deductions += created;
    }
    /* 乱吹哨: a grid worker's report the centre rejected */
    if (o->state == OS_REJECTED && !strcmp(o->reporter_role, "grid_worker")) {
        int created = 0;
        int rc = deduction_record(d, 0, o->grid[0] ? o->grid : NULL, "community",
                                  "improper_whistle", POINTS_IMPROPER_WHISTLE, id, 0,
                                  o->ev[o->n - 1].at, "上报被中心驳回（乱吹哨）: 不属于受理范围",
                                  &created);
        if (rc != WOK)
            return rc;
        c->deductions += created;
    }
    return WOK;
}

static int batch_tx(db *d, void *arg)
{
    struct gen_ctx *c = arg;
    /* a write fn may run twice (store.h): replay from the same state */
    if (!c->started) {
        c->r0 = *c->r;
        c->notices0 = c->notices;
        c->deductions0 = c->deductions;
        c->started = 1;
    } else {
        *c->r = c->r0;
        c->notices = c->notices0;
        c->deductions = c->deductions0;
    }
    struct sim *o = malloc(sizeof *o);
    if (!o)
        return W_EINTERNAL;
    int rc = WOK;
    for (int64_t i = c->from; i < c->to && rc == WOK; i++) {
        simulate(c->w, c->r, o, c->times[i]);
        int64_t id = 0;
        rc = insert_order(d, c->w, o, &id);
        if (rc == WOK)
            rc = write_events(d, o, id);
        if (rc == WOK)
            rc = write_supervision(d, c, c->r, o, id);
        for (int k = 0; k < o->n; k++)
            free(o->ev[k].data);
    }
    free(o);
    if (rc != WOK)
        werr_set(c->e, W_EINTERNAL, "database_error", "demo history: cannot write orders");
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* When orders are reported: more on weekdays and in working hours,
 * growing a little through the year (the platform gets known). */
static int64_t report_time(struct world *w, rng *r)
{
    static const double hours[24] = {0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 2.0, 4.5, 6.5, 6.8, 5.5,
                                     3.5, 4.0, 6.0, 6.2, 5.8, 4.8, 3.0, 2.6, 2.4, 1.8, 1.0, 0.5};
    static const double wday[7] = {1.15, 1.1, 1.05, 1.05, 1.0, 0.72, 0.65}; /* Mon … Sun */
    for (;;) {
        int64_t day = (int64_t)rbelow(r, 365);
        int64_t t0 = w->start + day * 86400;
        int d = stats_day(t0);
        double wd = wday[stats_day_wday(d) - 1];
        double growth = 0.8 + 0.4 * (double)day / 365.0;
        if (runif(r) * 1.2 * 1.2 > wd * growth)
            continue;
        double pick = runif(r) * 78.6, acc = 0;
        int h = 0;
        for (; h < 23; h++) {
            acc += hours[h];
            if (pick < acc)
                break;
        }
        int64_t midnight = stats_day_start(d);
        int64_t t = midnight + h * 3600 + rbelow(r, 3600);
        if (t < w->now - 600)
            return t;
    }
}

int64_t demo_history_size(const char *scale)
{
    if (scale && strcmp(scale, "city") == 0)
        return 10000000;
    if (scale && strcmp(scale, "county") == 0)
        return 200000;
    return 20000;
}

static int finish_tx(db *d, void *arg)
{
    (void)arg;
    /* the scanner starts after the history: it has been "seen" */
    db_stmt *s = db_query(d, "SELECT coalesce(max(id), 0) FROM order_events", "");
    int64_t last = 0;
    if (s && db_step(s) == DB_ROW)
        last = db_col_int64(s, 0);
    db_done(s);
    int rc = db_exec(d,
                     "INSERT INTO job_cursors (name, value) VALUES ('supervision.events', ?) "
                     "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                     "I", last);
    return rc;
}

struct audit_ctx {
    const audit_actor *a;
    int64_t n, notices, deductions;
};

static int audit_tx(db *d, void *arg)
{
    struct audit_ctx *c = arg;
    json_t *detail = json_pack("{s:I, s:I, s:I}", "orders", (json_int_t)c->n, "notices",
                               (json_int_t)c->notices, "deductions", (json_int_t)c->deductions);
    int rc = audit_record(d, c->a, "demo.history", "order", NULL, detail);
    json_decref(detail);
    return rc;
}

int demo_history(store *st, const audit_actor *a, unsigned seed, int64_t n, werr *e)
{
    struct world w;
    int rc = world_load(st, &w, seed, e);
    if (rc != WOK) {
        world_free(&w);
        return rc;
    }
    rng r = {((uint64_t)seed << 32) ^ 0x5eedULL};
    int64_t *times = malloc((size_t)n * sizeof *times);
    if (!times) {
        world_free(&w);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    int64_t t0 = clock_mono_ns();
    clock_t cpu0 = clock();
    for (int64_t i = 0; i < n; i++)
        times[i] = report_time(&w, &r);
    if (n > 0)
        qsort(times, (size_t)n, sizeof *times, cmp_i64);
    struct gen_ctx c = {.w = &w, .r = &r, .times = times, .e = e};
    for (int64_t from = 0; from < n && rc == WOK; from += BATCH) {
        c.from = from;
        c.to = from + BATCH < n ? from + BATCH : n;
        c.started = 0;
        rc = store_write(st, batch_tx, &c);
        if (n >= 200000 && (c.to % 1000000 == 0 || c.to == n))
            fprintf(stderr, "demo history: %lld of %lld orders (%.0f s)\n", (long long)c.to,
                    (long long)n, (double)(clock_mono_ns() - t0) / 1e9);
    }
    if (rc == WOK)
        rc = store_write(st, finish_tx, &c);
    if (rc == WOK)
        printf("demo history: %lld orders, %lld supervision notices, %lld deductions in %.1f s "
               "(%.1f s CPU)\n",
               (long long)n, (long long)c.notices, (long long)c.deductions,
               (double)(clock_mono_ns() - t0) / 1e9, (double)(clock() - cpu0) / CLOCKS_PER_SEC);
    free(times);
    world_free(&w);
    if (rc != WOK)
        return e->code[0] ? rc : werr_set(e, rc, "database_error", "demo history failed");
    /* one audit entry for the whole history */
    struct audit_ctx ac = {a, n, c.notices, c.deductions};
    rc = store_write(st, audit_tx, &ac);
    if (rc != WOK)
        return werr_set(e, rc, "database_error", "demo history: cannot audit");
    return WOK;
}
