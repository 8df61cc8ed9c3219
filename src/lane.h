/*
 * lane — a few threads at the process's own priority that run work handed
 * over by the niced connection threads (the "priority lane").
 *
 * Why: connection threads run `connection_nice` levels below the process so
 * that the single writer runs first (http.c). Under a full ingest, a
 * leader's dashboard or monthly report then waited behind 64 busy ingest
 * connections for its share of the CPU (p99 of 250–340 ms for ~25 ms of
 * work on the city dataset). Routes marked ROUTE_PRIORITY are run here
 * instead; the connection thread sleeps until the answer is ready. The lane
 * has few threads, so it cannot starve the writer.
 */
#ifndef WHISTLE_LANE_H
#define WHISTLE_LANE_H

typedef struct lane lane;

/* Starts n threads. They take the calling thread's priority: call it from
 * a thread that was not niced. On failure returns W_EINTERNAL and *out is NULL. */
int lane_start(int n, lane **out);
/* Runs fn(arg) on a lane thread and returns when it has. */
void lane_run(lane *l, void (*fn)(void *), void *arg);
/* Waits for work in progress, then stops the threads and frees l. */
void lane_stop(lane *l);

#endif
