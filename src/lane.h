/*
 * lane — a fixed set of threads that run work handed over by the HTTP
 * threads. http.c keeps two:
 *
 *  - the work lane (`serve --workers`, niced like the HTTP threads): every
 *    request that may wait — on the single writer's group commit, or on a
 *    long read — runs here, so that the few HTTP event threads only ever
 *    parse, run the cheap reads marked ROUTE_INLINE, and send. A request
 *    then waits in this lane's queue, not in the scheduler among a thread
 *    per connection.
 *  - the priority lane (2 threads at the process's own priority): the
 *    routes marked ROUTE_PRIORITY (the leaders' screens), so that under a
 *    full ingest a dashboard does not wait behind 64 niced connections
 *    (p99 250–340 ms for ~25 ms of work on the city before it existed).
 */
#ifndef WHISTLE_LANE_H
#define WHISTLE_LANE_H

typedef struct lane lane;

/* One piece of work. lane_run keeps it on its own stack; for lane_post the
 * caller provides the memory and may reuse or free it from inside fn (the
 * lane does not touch a posted job once fn has started). */
typedef struct lane_job {
    void (*fn)(void *);
    void *arg;
    int posted; /* nobody waits: lane_post */
    int done;   /* lane_run's job has finished */
    struct lane_job *next;
} lane_job;

/* Starts n threads named name (at most 15 bytes, as ps and /proc show
 * them), each `nice_levels` below the priority of the calling thread (0:
 * the same). On failure returns W_EINTERNAL and *out is NULL. */
int lane_start(int n, int nice_levels, const char *name, lane **out);
/* Runs fn(arg) on a lane thread and returns when it has. Returns W_EBUSY,
 * without running it, once lane_stop has begun. */
int lane_run(lane *l, void (*fn)(void *), void *arg);
/* Queues fn(arg) and returns at once; job (caller's memory, see lane_job)
 * must stay valid until fn starts. W_EBUSY, without queueing, once
 * lane_stop has begun. */
int lane_post(lane *l, lane_job *job, void (*fn)(void *), void *arg);
/* Refuses new work, runs what is queued, and joins the threads. */
void lane_stop(lane *l);
/* Frees a stopped lane (NULL is fine). Separate from lane_stop so that a
 * thread racing with the stop gets W_EBUSY instead of freed memory. */
void lane_free(lane *l);

/* Lowers the calling thread's priority by `levels` of nice (at most to 19).
 * Linux keeps nice per thread, threads created later inherit it, and
 * lowering one's own needs no privilege (raising it again does). */
void thread_lower_own_priority(int levels);

#endif
