#include "jobs.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "clock.h"
#include "log.h"

struct jobs_runner {
    store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void *jobs_main(void *arg)
{
    jobs_runner *r = arg;
    int n = 0;
    while (jobs[n].name)
        n++;
    int64_t *next = calloc((size_t)n + 1, sizeof *next);
    if (!next)
        return NULL;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        int64_t now = clock_mono_ns() / 1000000, wait_ms = 1000;
        for (int i = 0; i < n; i++) {
            if (now >= next[i]) {
                pthread_mutex_unlock(&r->mu);
                jobs[i].run(r->st);
                pthread_mutex_lock(&r->mu);
                next[i] = clock_mono_ns() / 1000000 + jobs[i].interval_ms;
            }
            if (next[i] - now < wait_ms)
                wait_ms = next[i] - now;
        }
        if (r->stop)
            break;
        if (wait_ms < 10)
            wait_ms = 10;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += wait_ms / 1000;
        ts.tv_nsec += (wait_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    free(next);
    return NULL;
}

jobs_runner *jobs_start(store *st)
{
    jobs_runner *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->st = st;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    if (pthread_create(&r->thread, NULL, jobs_main, r) != 0) {
        log_error(NULL, "cannot start background jobs");
        free(r);
        return NULL;
    }
    return r;
}

void jobs_stop(jobs_runner *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}
