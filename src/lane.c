#include "lane.h"

#include <pthread.h>
#include <stdlib.h>

#include "err.h"

/* One call waiting for or being run by a lane thread; it lives on the
 * stack of the caller of lane_run, which waits until done is set. */
struct job {
    void (*fn)(void *);
    void *arg;
    int done;
    struct job *next;
};

struct lane {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a job finished */
    struct job *head, *tail;
    int stop;
    int n;
    pthread_t threads[];
};

static void *lane_main(void *p)
{
    lane *l = p;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->head && !l->stop)
            pthread_cond_wait(&l->work, &l->mu);
        if (!l->head)
            break; /* stopping, and nothing left to run */
        struct job *j = l->head;
        l->head = j->next;
        if (!l->head)
            l->tail = NULL;
        pthread_mutex_unlock(&l->mu);
        j->fn(j->arg);
        pthread_mutex_lock(&l->mu);
        j->done = 1;
        pthread_cond_broadcast(&l->done);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int lane_start(int n, lane **out)
{
    *out = NULL;
    lane *l = calloc(1, sizeof *l + (size_t)n * sizeof l->threads[0]);
    if (!l)
        return W_EINTERNAL;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->work, NULL);
    pthread_cond_init(&l->done, NULL);
    for (; l->n < n; l->n++)
        if (pthread_create(&l->threads[l->n], NULL, lane_main, l) != 0) {
            lane_stop(l);
            return W_EINTERNAL;
        }
    *out = l;
    return WOK;
}

void lane_run(lane *l, void (*fn)(void *), void *arg)
{
    struct job j = {fn, arg, 0, NULL};
    pthread_mutex_lock(&l->mu);
    if (l->tail)
        l->tail->next = &j;
    else
        l->head = &j;
    l->tail = &j;
    pthread_cond_signal(&l->work);
    while (!j.done)
        pthread_cond_wait(&l->done, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

void lane_stop(lane *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = 1;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->mu);
    for (int i = 0; i < l->n; i++)
        pthread_join(l->threads[i], NULL);
    pthread_cond_destroy(&l->work);
    pthread_cond_destroy(&l->done);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
