/*
 * jobs — background work of a serving whistle (overdue checks, webhook
 * delivery, default ratings): a table of periodic jobs run by one thread.
 * Each job must be idempotent and catch up correctly after downtime,
 * because it runs at start and then every interval.
 */
#ifndef WHISTLE_JOBS_H
#define WHISTLE_JOBS_H

#include "store.h"

struct job {
    const char *name;
    int interval_ms;
    void (*run)(store *st);
};

extern const struct job jobs[]; /* ends with a NULL name (jobs_table.c) */

typedef struct jobs_runner jobs_runner;
jobs_runner *jobs_start(store *st);
void jobs_stop(jobs_runner *r);

#endif
