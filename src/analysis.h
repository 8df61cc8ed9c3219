/*
 * analysis — joint analysis (联动分析) for the monthly analysis meeting:
 * recurring problems (the same category at the same address or in the same
 * grid again within N days), hotspots per grid and category, and the
 * categories rising month on month — each linking to its orders.
 * Reads the aggregates (stats_hot_monthly, stats_cat_daily) and, for the
 * few hot (grid, category) pairs only, the orders through their grid index.
 */
#ifndef WHISTLE_ANALYSIS_H
#define WHISTLE_ANALYSIS_H

#include <jansson.h>

#include "err.h"
#include "perm.h"
#include "store.h"

/* month yyyymm; days: the recurrence window (1–365). Scoped to who's grids.
 * {month, days, recurring:[{grid, category, address?, count, orders:[{id, code,
 *  reported}]}], hotspots:[…], rising:[…]} */
int analysis_month(store *st, db *d, const principal *who, int month, int days, json_t **out,
                   werr *e);

#endif
