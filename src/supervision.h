/*
 * supervision — 督办 and deductions (issue 4 item 5), and the background
 * work that watches the deadlines of work orders (item 4): the overdue
 * scanner and the default rating.
 *
 * The overdue scanner (a job, run at start and every few seconds) works
 * only from what the database holds — the deadlines stored in the orders
 * and the append-only timeline — never from timers, so it catches up
 * correctly after the server was down: whatever became overdue meanwhile
 * is found at the next start. Every effect happens exactly once per order
 * and kind (unique constraints: order_alerts, supervision_notices,
 * deductions), in one transaction with the outbox events it emits.
 *
 *   condition (found by the scanner)              → effect
 *   dispatched, not signed, response deadline passed
 *   (or signed late, seen in the timeline)         → notice late_signing +
 *                                                    deduction late_signing
 *   with the department, completion deadline passed
 *   (or fed back late, seen in the timeline)       → notice overdue_completion +
 *                                                    deduction overdue_completion
 *   returned (退单 approved) more than
 *   supervision.return_limit times                  → notice repeated_returns +
 *                                                    deduction repeated_returns (推诿扯皮)
 *   rejected by the centre, reported by a grid worker,
 *   community or street staff                       → deduction improper_whistle (乱吹哨),
 *                                                    charged to the reporting grid and level
 *   deadline within supervision.warning_hours        → event order.deadline_warning
 *
 * A supervision notice (督办单) goes to the department (scope: its handlers
 * see and answer their own), is copied to the discipline inspectors (who
 * see all notices: permission supervision.read with scope all), and moves
 * issued → answered (by the department) → closed (by the centre), with its
 * own deadline for the answer.
 */
#ifndef WHISTLE_SUPERVISION_H
#define WHISTLE_SUPERVISION_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "perm.h"
#include "store.h"

/* Defaults of the settings (ops_settings.h). */
#define SUPERVISION_DEFAULT_WARNING_HOURS 4   /* supervision.warning_hours */
#define SUPERVISION_DEFAULT_RETURN_LIMIT 2    /* supervision.return_limit: more → notice */
#define SUPERVISION_DEFAULT_ANSWER_HOURS 48   /* supervision.answer_hours */
#define RATING_DEFAULT_DAYS 7                 /* rating.default_days */

/* Points per deduction kind (settings supervision.points.<kind>). */
#define POINTS_IMPROPER_WHISTLE 1
#define POINTS_LATE_SIGNING 1
#define POINTS_REPEATED_RETURNS 2
#define POINTS_OVERDUE_COMPLETION 2

/* ---- background jobs (jobs_table.c) ----------------------------------- */

/* One pass of the overdue scanner; returns how many effects it recorded. */
/* The automatic notice (not 'manual') of a kind for an order, by the
 * partial unique index supervision_once. The index holds kind <> 'manual'
 * only, and SQLite uses a partial index only when the query itself implies
 * its condition: without "kind <> 'manual'" here (kind = ? proves nothing
 * before the value is bound) each lookup read every notice, on the writer,
 * inside the overdue scan — seconds on the city (1.2 million notices), with
 * every write behind it. Here so that a unit test can hold its plan. */
#define SUPERVISION_NOTICE_ID_SQL                                                                  \
    "SELECT id FROM supervision_notices WHERE order_id = ? AND kind = ? AND kind <> 'manual'"

int supervision_scan(store *st);
void supervision_job(store *st);
/* Closed (or on-site resolved) orders without a rating for
 * rating.default_days get the default rating (满意) through order_act().
 * One batch of at most 100; returns how many orders it looked at. */
int rating_default_scan(store *st);
void rating_default_job(store *st);

/* ---- notices ----------------------------------------------------------- */

typedef struct supervision_query {
    const char *state;  /* issued | answered | closed | NULL */
    const char *kind;   /* overdue_completion | late_signing | repeated_returns | manual */
    int64_t dept_id;    /* 0: any (within scope) */
    int64_t order_id;   /* 0: any */
    int64_t before_id;  /* cursor */
    int limit;
} supervision_query;

/* Notices visible to who (department scope: its own; grid scope: its
 * subtree; all: everything), newest first. */
int supervision_list(db *d, const principal *who, const supervision_query *q, json_t **out,
                     werr *e);
int supervision_get(db *d, const principal *who, int64_t id, json_t **out, werr *e);
/* The department answers (issued → answered). */
int supervision_answer(store *st, const principal *who, const audit_actor *a, int64_t id,
                       const char *answer, werr *e);
/* The centre closes it (answered → closed). */
int supervision_close(store *st, const principal *who, const audit_actor *a, int64_t id,
                      const char *note, werr *e);
/* A dispatcher supervises an order by hand (kind manual). */
int supervision_issue(store *st, const principal *who, const audit_actor *a, int64_t order_id,
                      const char *reason, int64_t answer_hours, json_t **out, werr *e);

/* ---- deductions ---------------------------------------------------------- */

typedef struct deduction_query {
    int64_t dept_id;     /* 0: any (within scope) */
    const char *kind;
    int64_t from, to;    /* at in [from, to), 0: open */
    int64_t before_id;
    int limit;
} deduction_query;

/* Deductions visible to who, newest first, with the total of the page's
 * filter. */
int deduction_list(db *d, const principal *who, const deduction_query *q, json_t **out,
                   werr *e);

/* Inside a write transaction (the scanner, the demo history): records one
 * deduction unless one exists for (order, kind); *created says which. */
int deduction_record(db *d, int64_t dept_id, const char *grid_code, const char *level,
                     const char *kind, double points, int64_t order_id, int64_t notice_id,
                     int64_t at, const char *note, int *created);
/* Inside a write transaction: issues an automatic notice unless one exists
 * for (order, kind); *id is the notice (0 when it existed). */
int supervision_issue_tx(db *d, int64_t order_id, const char *order_code, int64_t dept_id,
                         const char *grid_code, const char *kind, const char *reason,
                         int64_t issued_at, int64_t due_at, int64_t issued_by, int emit,
                         int64_t *id);

#endif
