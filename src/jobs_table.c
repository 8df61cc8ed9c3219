/*
 * jobs_table.c — the list of background jobs (see jobs.h). Add new jobs here.
 */
#include "jobs.h"

#include <malloc.h>
#include <stddef.h>

#include "stats.h"
#include "supervision.h"

/* Freed heap pages go back to the OS: glibc keeps what a thread freed in
 * its arena, and with a thread per connection (dozens of arenas' worth of
 * churn from queue pages and reports) the server's resident memory only
 * grew. malloc_trim also releases free pages inside the arenas. */
static void heap_trim_job(store *st)
{
    (void)st;
    (void)malloc_trim(0);
}

const struct job jobs[] = {
    /* overdue scanner: warnings, supervision notices, deductions (supervision.c) */
    {"supervision", 1000, supervision_job},
    /* overdue counting for the indicators (stats.c) */
    {"stats_overdue", 1000, stats_overdue_job},
    /* default rating after rating.default_days of silence (supervision.c) */
    {"default_rating", 2000, rating_default_job},
    /* resident memory: freed heap pages back to the OS */
    {"heap_trim", 5000, heap_trim_job},
    {NULL, 0, NULL},
};
