#include "lane.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"

struct lane {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a lane_run job finished */
    lane_job *head, *tail;
    int stop;
    int nice_levels;
    int n;
    pthread_t threads[];
};

void thread_lower_own_priority(int levels)
{
    if (levels <= 0)
        return;
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int now = getpriority(PRIO_PROCESS, tid);
    if (now == -1 && errno != 0)
        return;
    (void)setpriority(PRIO_PROCESS, tid, now + levels > 19 ? 19 : now + levels);
}

static void *lane_main(void *p)
{
    lane *l = p;
    thread_lower_own_priority(l->nice_levels);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->head && !l->stop)
            pthread_cond_wait(&l->work, &l->mu);
        if (!l->head)
            break; /* stopping, and nothing left to run */
        lane_job *j = l->head;
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
        pthread_mutex_unlock(&l->mu);
        /* A posted job's memory may be gone once fn has run (fn may free it
         * or hand it back to MHD), so it is not touched after the call. */
        int posted = j->posted;
        j->fn(j->arg);
        pthread_mutex_lock(&l->mu);
        if (!posted) {
            j->done = 1;
            pthread_cond_broadcast(&l->done);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int lane_start(int n, int nice_levels, const char *name, lane **out)
{
    *out = NULL;
    lane *l = calloc(1, sizeof *l + (size_t)n * sizeof l->threads[0]);
    if (!l)
        return W_EINTERNAL;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work, NULL);
    pthread_cond_init(&l->done, NULL);
    l->nice_levels = nice_levels;
    for (; l->n < n; l->n++)
        if (pthread_create(&l->threads[l->n], NULL, lane_main, l) != 0) {
            lane_stop(l);
            lane_free(l);
            return W_EINTERNAL;
        } else
            (void)pthread_setname_np(l->threads[l->n], name);
    *out = l;
    return WOK;
}

/* Appends j; the caller holds l->mu. */
static void enqueue(lane *l, lane_job *j)
{
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
    pthread_cond_signal(&l->work);
}

int lane_run(lane *l, void (*fn)(void *), void *arg)
{
    lane_job j = {fn, arg, 0, 0, NULL};
    pthread_mutex_lock(&l->mu);
    if (l->stop) {
        pthread_mutex_unlock(&l->mu);
        return W_EBUSY;
    }
    enqueue(l, &j);
    while (!j.done)
        pthread_cond_wait(&l->done, &l->mu);
    pthread_mutex_unlock(&l->mu);
    return WOK;
}

int lane_post(lane *l, lane_job *job, void (*fn)(void *), void *arg)
{
    job->fn = fn;
    job->arg = arg;
    job->posted = 1;
    job->done = 0;
    pthread_mutex_lock(&l->mu);
    if (l->stop) {
        pthread_mutex_unlock(&l->mu);
        return W_EBUSY;
    }
    enqueue(l, job);
    pthread_mutex_unlock(&l->mu);
    return WOK;
}

void lane_stop(lane *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    if (l->stop == 2) { /* already stopped and joined */
        pthread_mutex_unlock(&l->mu);
        return;
    }
    l->stop = 1;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->n; i++)
        pthread_join(l->threads[i], NULL);
    pthread_mutex_lock(&l->mu);
    l->stop = 2;
    pthread_mutex_unlock(&l->mu);
}

void lane_free(lane *l)
{
    if (!l)
        return;
    pthread_cond_destroy(&l->work);
    pthread_cond_destroy(&l->done);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
