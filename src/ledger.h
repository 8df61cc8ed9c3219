/*
 * ledger — the problem ledger (问题台账) of a grid or community: every
 * problem filed under it with its state, department, deadline and result,
 * ticked off (销号) once closed. The weekly view follows Qingshen's rhythm:
 * grid workers collect Monday to Wednesday, the list is compiled on
 * Thursday and handed to the 包保 units on Friday.
 */
#ifndef WHISTLE_LEDGER_H
#define WHISTLE_LEDGER_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "perm.h"
#include "store.h"

typedef struct ledger_query {
    const char *grid;  /* grid code: the grid and everything below it */
    int from, to;      /* yyyymmdd, reported in [from, to] */
    const char *state; /* open | closed | ticked | all (NULL) */
    int limit;         /* at most 5000 */
} ledger_query;

/* The ledger as a report document (report.h), ready to render. */
int ledger_doc(db *d, const principal *who, const ledger_query *q, json_t **doc, werr *e);
/* The weekly view of ISO week `from` (its Monday): collected Mon–Wed, the
 * problems still open from before, and those ticked off this week. */
int ledger_week_doc(db *d, const principal *who, const char *grid, int monday, int64_t now,
                    json_t **doc, werr *e);
/* 销号: ticks off a closed problem. W_ECONFLICT when it is not closed yet
 * or already ticked; W_EFORBIDDEN outside the caller's grids. */
int ledger_tick(store *st, const principal *who, const audit_actor *a, int64_t order_id,
                const char *note, json_t **out, werr *e);

#endif
