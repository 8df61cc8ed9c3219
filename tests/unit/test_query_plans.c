/*
 * Query plans of lookups that run on the single writer, where a full scan
 * of a large table holds every write behind it. A partial index is only
 * used when the query implies the index's condition, which a bound
 * parameter never does; these tests read SQLite's plan for each such
 * lookup on the migrated schema and fail on a SCAN.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "supervision.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/whistle-plans-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/t.db", dir);
    store *st = NULL;
    werr e = {0};
    assert_int_equal(store_open(path, &st, &e), WOK);
    *state = st;
    return 0;
}

static int teardown(void **state)
{
    store_close(*state);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* The plan of sql (its parameters bound with the given types and values),
 * as SQLite's EXPLAIN QUERY PLAN lines joined by '\n', into out. */
static void plan_of(store *st, const char *sql, char *out, size_t n)
{
    char q[1024];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    db *d = store_reader(st);
    assert_non_null(d);
    db_stmt *s = db_query(d, q, "It", (int64_t)1, "late_signing");
    assert_non_null(s);
    out[0] = '\0';
    while (db_step(s) == DB_ROW) {
        strncat(out, db_col_text(s, 3), n - strlen(out) - 2);
        strcat(out, "\n");
    }
    db_done(s);
    store_release(st, d);
}

static void test_notice_lookup_uses_its_index(void **state)
{
    char plan[1024];
    plan_of(*state, SUPERVISION_NOTICE_ID_SQL, plan, sizeof plan);
    assert_non_null(strstr(plan, "supervision_once"));
    assert_null(strstr(plan, "SCAN"));
    /* and the form it replaced would fail this test */
    plan_of(*state, "SELECT id FROM supervision_notices WHERE order_id = ? AND kind = ?", plan,
            sizeof plan);
    assert_non_null(strstr(plan, "SCAN supervision_notices"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_notice_lookup_uses_its_index, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
