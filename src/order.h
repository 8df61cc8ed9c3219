/*
 * order — work orders (工单) and their state machine: the heart of whistle.
 * Every interface (API, web, Open311, CLI, background jobs) changes an
 * order only through order_report() and order_act(). Both run ONE
 * transition table (order.c): each row says which action moves an order
 * from which states to which state, which permission the actor needs and
 * whether a pending request (退单 / 延期) must or must not be waiting.
 *
 * One transition, inside one write transaction on the writer thread:
 *   (a) re-read the order and check actor role + scope + current state
 *       against the table (a stale state → 409 W_ECONFLICT saying why);
 *   (b) update the order row;
 *   (c) append the event to order_events (append-only timeline);
 *   (d) stats_on_event() (stats.h);
 *   (e) outbox_emit() for whoever should hear about it (outbox.h);
 *   (f) audit_record().
 * Because the writer thread serialises transactions and (a) runs inside
 * it, two people acting on the same order at once cannot both win.
 *
 * Overdue is never stored: an order is overdue when it is with a
 * department (dispatched, signed, rework) and now > deadline.
 */
#ifndef WHISTLE_ORDER_H
#define WHISTLE_ORDER_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "perm.h"
#include "store.h"
#include "wbuf.h"

enum order_state {
    OS_NONE = 0,
    OS_SUBMITTED,  /* 已上报: waits for the centre (or auto-dispatch) */
    OS_ACCEPTED,   /* 已立案: accepted, waits for (re)dispatch */
    OS_REJECTED,   /* 不予立案 (with reason) — final */
    OS_MERGED,     /* 合并: duplicate of another order — final */
    OS_ONSITE,     /* 即时办结 by a grid worker */
    OS_DISPATCHED, /* 已派遣: waits for the department to sign for it */
    OS_SIGNED,     /* 已签收: the department handles it */
    OS_FEEDBACK,   /* 已反馈: waits for verification */
    OS_REWORK,     /* 返工: verification failed, back with the department */
    OS_CLOSED,     /* 已结案 */
    OS_RATED,      /* 已评价 */
    OS__COUNT
};

enum order_pending { PEND_NONE = 0, PEND_RETURN, PEND_EXTENSION, PEND_ANY = -1 };

enum order_action {
    OA_REPORT = 0,     /* 问题采集 */
    OA_ACCEPT,         /* 立案 */
    OA_REJECT,         /* 不予立案 */
    OA_MERGE,          /* 合并 (duplicate) */
    OA_ONSITE,         /* 即时办结 */
    OA_DISPATCH,       /* 派遣 / 转派 */
    OA_SIGN,           /* 签收 */
    OA_RETURN,         /* 申请退单 */
    OA_RETURN_APPROVE, /* 同意退单 → back to the dispatch queue */
    OA_RETURN_REFUSE,  /* 不同意退单 */
    OA_EXTEND,         /* 申请延期 */
    OA_EXTEND_APPROVE, /* 同意延期 → new deadline */
    OA_EXTEND_REFUSE,  /* 不同意延期 */
    OA_FEEDBACK,       /* 反馈 (text + photos) */
    OA_VERIFY_PASS,    /* 核实通过 → 结案 */
    OA_VERIFY_FAIL,    /* 核实不通过 → 返工 */
    OA_RATE,           /* 评价 */
    OA_ESCALATE,       /* 上报上级 community → street → county */
    OA_REOPEN,         /* 重新办理 on a justified complaint */
    OA__COUNT
};

/* Who may fire a row besides the permission: */
enum {
    ACT_STAFF = 1 << 0,   /* a logged-in principal with the permission */
    ACT_SYSTEM = 1 << 1,  /* whistle itself (auto-dispatch, default rating) */
    ACT_REPORTER = 1 << 2 /* only the order's reporter (or the tracking code + phone) */
};

struct order_transition {
    int action;        /* OA_* */
    const char *name;  /* event action name: "return_approve" */
    const char *api;   /* POST /api/v1/orders/{id}/{api}: "return-approve" */
    unsigned from;     /* bit set of states (1u << OS_*) */
    int to;            /* OS_*, or OS_NONE: the state does not change */
    int pending_in;    /* PEND_NONE: no request may wait; PEND_RETURN/EXTENSION: it must */
    int pending_out;   /* the request waiting afterwards */
    const char *perm;  /* perm.c permission */
    unsigned actors;   /* ACT_* */
};

extern const struct order_transition order_table[];
extern const int order_table_len;

const char *order_state_name(int state);   /* "signed" */
const char *order_state_zh(int state);     /* "已签收" */
int order_state_parse(const char *s);       /* OS_NONE when unknown */
const char *order_pending_name(int pending); /* NULL | "return" | "extension" */
/* The table row for an action, or NULL. */
const struct order_transition *order_transition_for(int action);
/* The action for an API name ("return-approve"); "verify" → OA_VERIFY_PASS. */
int order_action_parse_api(const char *api);

/* 1 when an order in state with this deadline is overdue at now. */
int order_is_overdue(int state, int64_t deadline, int64_t now);
/* 1 when the state is final for the department's work (no overdue). */
int order_state_with_department(int state);

/* ---- report (问题采集) ------------------------------------------------ */

#define ORDER_MAX_PHOTOS 9

typedef struct order_report_input {
    const char *category_code;  /* catalogue leaf; may be NULL (the centre classifies) */
    const char *description;    /* 1–2000 chars */
    double lat, lng;            /* has_location */
    int has_location;
    const char *grid_code;      /* or located from lat/lng */
    const char *address;
    const char *channel;        /* resident_web | grid_app | representative | hotline_12345 | device | staff */
    const char *urgency;        /* normal | urgent | emergency */
    const char *phone, *name;   /* reporter contact (required when anonymous-without-login) */
    int anonymous;              /* hide the reporter from staff views */
    int64_t photos[ORDER_MAX_PHOTOS];
    int nphotos;
    const char *idempotency_key; /* client key; the same key returns the same order */
} order_report_input;

/* Validates a report JSON body into in (pointers borrow from body). */
int order_report_parse(json_t *body, order_report_input *in, werr *e);

/* Files a report for who (NULL: anonymous resident). On success *out is
 * {id, code, state, ...} and *created is 1 (0: the idempotency key matched
 * an existing order, which is returned). */
int order_report(store *st, const principal *who, const audit_actor *a,
                 const order_report_input *in, json_t **out, int *created, werr *e);

/* ---- actions ------------------------------------------------------------ */

typedef struct order_action_input {
    int action;               /* OA_* */
    const char *note;         /* free text for the timeline */
    const char *reason;       /* reject, return, extend, reopen, escalate */
    int64_t dept_id;          /* dispatch: lead department (0: the catalogue's) */
    int64_t assist[6];        /* dispatch: assisting departments */
    int nassist;
    const char *category_code; /* accept, dispatch: (re)classify the order */
    int64_t merge_into;       /* merge */
    int64_t until;            /* extend: requested deadline (epoch) ... */
    int64_t hours;            /* ... or extra hours (in the order's time mode) */
    const char *rating;       /* rate: satisfied | basic | unsatisfied */
    int rating_default;       /* rate by a job after N days of silence */
    int64_t photos[ORDER_MAX_PHOTOS];
    int nphotos;
} order_action_input;

/* Parses the JSON body of POST /orders/{id}/{api} for action. */
int order_action_parse(int action, json_t *body, order_action_input *in, werr *e);

/* Runs one transition. who NULL: the system (only rows with ACT_SYSTEM).
 * Returns WOK, W_EFORBIDDEN (role/scope), W_ECONFLICT (state), W_ENOTFOUND,
 * W_EINVALID. On WOK the order's JSON is appended to out (if out; nothing
 * when the order cannot be read back). The caller frees out. */
int order_act(store *st, const principal *who, const audit_actor *a, int64_t order_id,
              const order_action_input *in, wbuf *out, werr *e);

/* The reporter rates through the tracking code: phone_last4 must match the
 * reporter's phone (or who is the reporter). */
int order_track_rate(store *st, const principal *who, const audit_actor *a, const char *code,
                     const char *phone_last4, const char *rating, const char *comment,
                     werr *e);

/* ---- reads ---------------------------------------------------------------- */

/* 1 when who may see the order (scope), given its row fields. */
int order_visible(const principal *who, const char *grid_code, int64_t lead_dept,
                  const char *assist_json, int64_t reporter_id);

/* Everything about one order: fields, timeline, attachments, position,
 * overdue, allowed_actions for who, appended to out as a JSON object
 * (written straight from the rows, as the queue pages are). W_ENOTFOUND /
 * W_EFORBIDDEN; on an error out may hold part of it: the caller frees it. */
int order_get(db *d, const principal *who, int64_t id, wbuf *out, werr *e);

#define ORDER_PAGE_MAX 200 /* largest page of a list (limit) */

typedef struct order_query {
    const char *queue;      /* dispatch | department | grid | overdue | mine | all (NULL) */
    const char *category;   /* code or prefix of a 大类 */
    const char *state;
    const char *level;
    int64_t dept_id;
    const char *grid;       /* subtree prefix */
    int64_t from, to;       /* created_at range (epoch), 0: open */
    const char *q;          /* full text (≥ 3 chars for the trigram index) */
    int has_near;
    double lat, lng, radius_m;
    const char *cursor;     /* opaque, from next_cursor */
    int limit;              /* 1 … ORDER_PAGE_MAX, else 50 */
} order_query;

/* One page of a queue, appended to out as JSON {items, queue, next_cursor}
 * (written straight from the rows: pages are the staff's most frequent
 * request). W_EINVALID for a bad queue or cursor. */
int order_list(db *d, const principal *who, const order_query *q, wbuf *out, werr *e);
/* Counts per queue for who: {dispatch, department, grid, overdue, mine}. */
int order_counts(db *d, const principal *who, json_t **out, werr *e);
/* The public part for the tracking page (no login): plain-word timeline,
 * department, public photos, appended to out as a JSON object (the caller
 * frees out, on an error too). */
int order_track(db *d, const char *code, wbuf *out, werr *e);
/* 1 when who (or the tracking code) may see attachment id. */
int order_attachment_visible(db *d, const principal *who, int64_t attachment_id,
                             const char *track_code);

/* Loads the default catalogue and calendar if the database has none
 * (init, demo, serve). */
int orders_ensure_defaults(store *st, werr *e);

#endif
