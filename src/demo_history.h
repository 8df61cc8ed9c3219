/*
 * demo_history — a year of realistic work orders for `whistle demo`
 * (issue 4 item 9), so that every queue, report and chart has something
 * true to show: categories with seasonal and weekly rhythms, departments
 * that are fast and slow, returns, extensions, reworks, overdue orders,
 * ratings (given and default), supervision notices and deductions.
 *
 * Each order is simulated through the transitions of order.c's table in
 * memory, cut at "now", and written with batch inserts in big
 * transactions: the same orders row, order_events timeline (which replays
 * to the state), assists, full-text rows and stats_on_event() calls as the
 * real path produces. History is not announced: no outbox events (nobody
 * was listening a year ago) and one audit entry for the whole run.
 * Deterministic from the seed.
 *
 * Scales: small ≈ 20,000 orders (make run), county ≈ 200,000, city ≈
 * 10,000,000 (benchmarks).
 */
#ifndef WHISTLE_DEMO_HISTORY_H
#define WHISTLE_DEMO_HISTORY_H

#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "store.h"

/* Orders generated per scale name ("small", "county", "city"). */
int64_t demo_history_size(const char *scale);

/* Generates n orders over the year before now; prints progress for big
 * runs. Needs departments, grids, the catalogue and the calendar. */
int demo_history(store *st, const audit_actor *a, unsigned seed, int64_t n, werr *e);

#endif
