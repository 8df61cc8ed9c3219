/*
 * jobs_table.c — the list of background jobs (see jobs.h). Add new jobs here.
 */
#include "jobs.h"

#include <stddef.h>

#include "stats.h"
#include "supervision.h"

const struct job jobs[] = {
    /* overdue scanner: warnings, supervision notices, deductions (supervision.c) */
    {"supervision", 1000, supervision_job},
    /* overdue counting for the indicators (stats.c) */
    {"stats_overdue", 1000, stats_overdue_job},
    /* default rating after rating.default_days of silence (supervision.c) */
    {"default_rating", 2000, rating_default_job},
    {NULL, 0, NULL},
};
