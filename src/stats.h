/*
 * stats — indicators (考核评价) kept up to date from the work-order
 * timeline. order.c calls stats_on_event() for every event it appends to
 * order_events, inside the same write transaction, so that incremental
 * aggregates commit (or vanish) together with the event they count.
 * The raw events stay the truth: aggregates must equal a recomputation
 * from order_events (issue 5).
 */
#ifndef WHISTLE_STATS_H
#define WHISTLE_STATS_H

#include <stdint.h>

#include "store.h"

/* One timeline entry as appended to order_events, plus the order's context
 * (denormalised so that an aggregate needs no lookup in the write path).
 * Strings are borrowed for the duration of the call. Times are epoch
 * seconds UTC; 0 means "none". */
struct order_event {
    int64_t order_id;
    int seq;                 /* 1 for the report, then +1 per event */
    int64_t at;
    int64_t actor_id;        /* 0: the system (auto-dispatch, default rating) */
    const char *actor_role;  /* role_name() or "system" / "anonymous" */
    const char *action;      /* report, accept, dispatch, sign, … (order.h) */
    const char *from_state;  /* NULL for the report */
    const char *to_state;
    int64_t dept_id;         /* the lead department concerned, 0: none */
    const char *note;
    const char *data;        /* JSON object text with the action's details, or NULL */
    const char *attachments; /* JSON array text of attachment ids, or NULL */
    /* the order at the time of the event (after it) */
    const char *grid_code;
    const char *category_code;
    const char *channel;
    const char *level;
    const char *urgency;
    int64_t created_at;
    int64_t response_deadline;
    int64_t deadline;
};

/* Called by order.c inside the write transaction for every event; a
 * non-WOK return rolls the whole action back. */
int stats_on_event(db *d, const struct order_event *ev);

/* ---- the counters (EVAL) ----------------------------------------------
 * Every aggregate table of 007_stats.sql has these counter columns, in
 * this order; docs/indicators.md defines each one. X(name) */
#define STATS_COLUMNS(X)                                                                     \
    X(received) X(accepted) X(rejected) X(merged) X(onsite) X(dispatched) X(signed)           \
    X(signed_ontime) X(return_requests) X(returned) X(extension_requests) X(extensions)       \
    X(feedbacks) X(closed) X(closed_ontime) X(reworks) X(reopened) X(escalated) X(rated)      \
    X(satisfied) X(basic) X(unsatisfied) X(rated_default) X(inflow) X(outflow)                \
    X(overdue_done) X(handled_minutes)

enum stats_col {
#define STATS_ENUM_(n) SC_##n,
    STATS_COLUMNS(STATS_ENUM_)
#undef STATS_ENUM_
    SC__COUNT
};

extern const char *const stats_col_names[SC__COUNT];

/* The China Standard Time date of t as yyyymmdd (20261023). */
int stats_day(int64_t t);
/* yyyymmdd → epoch seconds of 00:00 CST that day. */
int64_t stats_day_start(int day);
/* Adds n days to a yyyymmdd date. */
int stats_day_add(int day, int n);
/* Day of the week of a yyyymmdd date, 1 = Monday … 7 = Sunday. */
int stats_day_wday(int day);

/* The overdue job (jobs_table.c, every second): counts the held orders
 * whose deadline has just passed as overdue (counter overdue_done on the
 * day they became overdue, and the per-department "overdue now" balance),
 * so that no query has to scan the backlog. Idempotent; catches up after
 * downtime in batches. stats_mark_overdue returns how many it counted. */
void stats_overdue_job(store *st);
int stats_mark_overdue(store *st, int64_t now);
/* Adds n to a department's "overdue now" balance (inside a transaction). */
int stats_overdue_open_add(db *d, int64_t dept, int n);

/* The street (depth 1) and community (depth 2) prefixes of a grid code
 * according to grid_levels (6/3/3 digits when no levels are configured).
 * Returns how many were written (0–2); each out[i] holds up to 63 chars. */
int stats_area_prefixes(db *d, const char *grid_code, char out[2][64]);

#endif
