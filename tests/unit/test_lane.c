/*
 * Unit tests for lane.c: lane_run waits for its work, lane_post does not
 * and may free its job from inside the work, a stopping lane finishes what
 * it holds and refuses what comes after, and threads carry name and nice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "lane.h"

struct counter {
    pthread_mutex_t mu;
    int n;
};

static void count(void *p)
{
    struct counter *c = p;
    usleep(200);
    pthread_mutex_lock(&c->mu);
    c->n++;
    pthread_mutex_unlock(&c->mu);
}

static void test_run_waits(void **state)
{
    (void)state;
    lane *l = NULL;
    assert_int_equal(lane_start(3, 0, "test-lane", &l), WOK);
    struct counter c = {PTHREAD_MUTEX_INITIALIZER, 0};
    for (int i = 0; i < 50; i++) {
        assert_int_equal(lane_run(l, count, &c), WOK);
        assert_int_equal(c.n, i + 1); /* done when lane_run returns */
    }
    lane_stop(l);
    assert_int_equal(lane_run(l, count, &c), W_EBUSY);
    assert_int_equal(c.n, 50);
    lane_free(l);
}

/* A posted job that owns its memory and frees it inside the work, as the
 * session refresh of http.c does. */
struct owned {
    lane_job job;
    struct counter *c;
};

static void count_and_free(void *p)
{
    struct owned *o = p;
    count(o->c);
    free(o);
}

static void test_post_runs_everything_before_stop(void **state)
{
    (void)state;
    lane *l = NULL;
    assert_int_equal(lane_start(2, 0, "test-lane", &l), WOK);
    struct counter c = {PTHREAD_MUTEX_INITIALIZER, 0};
    for (int i = 0; i < 500; i++) {
        struct owned *o = malloc(sizeof *o);
        assert_non_null(o);
        o->c = &c;
        assert_int_equal(lane_post(l, &o->job, count_and_free, o), WOK);
    }
    /* lane_stop runs what is queued before it returns */
    lane_stop(l);
    assert_int_equal(c.n, 500);
    lane_job j;
    assert_int_equal(lane_post(l, &j, count, &c), W_EBUSY);
    assert_int_equal(c.n, 500);
    lane_stop(l); /* a second stop is harmless */
    lane_free(l);
}

static void *poster(void *p)
{
    lane *l = p;
    static struct counter c = {PTHREAD_MUTEX_INITIALIZER, 0};
    for (int i = 0; i < 300; i++)
        if (lane_run(l, count, &c) != WOK)
            break;
    return NULL;
}

/* Several threads hand work to one lane at once. */
static void test_many_callers(void **state)
{
    (void)state;
    lane *l = NULL;
    assert_int_equal(lane_start(4, 0, "test-lane", &l), WOK);
    pthread_t t[6];
    for (int i = 0; i < 6; i++)
        assert_int_equal(pthread_create(&t[i], NULL, poster, l), 0);
    for (int i = 0; i < 6; i++)
        pthread_join(t[i], NULL);
    lane_stop(l);
    lane_free(l);
}

static int nice_of_thread(void)
{
    return getpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid));
}

struct seen {
    int nice;
    char name[16];
};

static void look(void *p)
{
    struct seen *s = p;
    s->nice = nice_of_thread();
    pthread_getname_np(pthread_self(), s->name, sizeof s->name);
}

static void test_name_and_nice(void **state)
{
    (void)state;
    lane *l = NULL;
    int mine = nice_of_thread();
    assert_int_equal(lane_start(1, 4, "niced-lane", &l), WOK);
    struct seen s = {0, ""};
    assert_int_equal(lane_run(l, look, &s), WOK);
    assert_int_equal(s.nice, mine + 4 > 19 ? 19 : mine + 4);
    assert_string_equal(s.name, "niced-lane");
    assert_int_equal(nice_of_thread(), mine); /* the caller keeps its own */
    lane_stop(l);
    lane_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_waits),
        cmocka_unit_test(test_post_runs_everything_before_stop),
        cmocka_unit_test(test_many_callers),
        cmocka_unit_test(test_name_and_nice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
