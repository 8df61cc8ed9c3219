/*
 * Unit tests for the store: migrations, bound parameters, group commit,
 * savepoint isolation of failing jobs, concurrent writers, backup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "store.h"
#include "supervision.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/whistle-unit-XXXXXX");
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

static void test_migrated(void **state)
{
    store *st = *state;
    assert_int_equal(store_schema_version(st), store_schema_latest());
    assert_true(store_schema_latest() >= 1);
    db *d = store_reader(st);
    db_stmt *s = db_query(d, "SELECT count(*) FROM schema_migrations", "");
    assert_int_equal(db_step(s), DB_ROW);
    assert_int_equal(db_col_int(s, 0), store_schema_latest());
    db_done(s);
    store_release(st, d);
}

struct ins {
    const char *code;
    int fail;
};

static int insert_dept(db *d, void *arg)
{
    struct ins *c = arg;
    int rc = db_exec(d, "INSERT INTO departments (code, name, created_at) VALUES (?, ?, ?)", "ttt",
                     c->code, "部门", "2026-01-01T00:00:00Z");
    if (rc != WOK)
        return rc;
    return c->fail ? W_EINVALID : WOK;
}

static int count_code(store *st, const char *code)
{
    db *d = store_reader(st);
    db_stmt *s = db_query(d, "SELECT count(*) FROM departments WHERE code = ?", "t", code);
    int n = db_step(s) == DB_ROW ? db_col_int(s, 0) : -1;
    db_done(s);
    store_release(st, d);
    return n;
}

static void test_write_and_rollback(void **state)
{
    store *st = *state;
    struct ins ok = {"OK1", 0}, bad = {"BAD1", 1};
    assert_int_equal(store_write(st, insert_dept, &ok), WOK);
    assert_int_equal(store_write(st, insert_dept, &bad), W_EINVALID);
    assert_int_equal(count_code(st, "OK1"), 1);
    assert_int_equal(count_code(st, "BAD1"), 0); /* its savepoint was rolled back */
    /* a unique violation is reported as a conflict */
    assert_int_equal(store_write(st, insert_dept, &ok), W_ECONFLICT);
}

/* A thread marked as one that must not wait for the writer (an HTTP event
 * thread) is refused, and nothing is written; other threads are not. */
static void test_forbidden_writes(void **state)
{
    store *st = *state;
    struct ins a = {"FORBID1", 0};
    store_forbid_writes_on_this_thread(1);
    assert_int_equal(store_write(st, insert_dept, &a), W_EINTERNAL);
    store_forbid_writes_on_this_thread(0);
    assert_int_equal(count_code(st, "FORBID1"), 0);
    assert_int_equal(store_write(st, insert_dept, &a), WOK);
    assert_int_equal(count_code(st, "FORBID1"), 1);
}

static int fill_scan_table(db *d, void *arg)
{
    (void)arg;
    int rc = db_exec(d, "CREATE TABLE scan_probe (id INTEGER PRIMARY KEY, v INTEGER)", "");
    if (rc == WOK)
        rc = db_exec(d,
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                     "INSERT INTO scan_probe (id, v) SELECT i, i % 1000 FROM n",
                     "i", STORE_FULL_SCAN_ROWS + 5000);
    return rc;
}

static uint64_t full_scans(store *st)
{
    store_stats ss;
    store_get_stats(st, &ss);
    return ss.full_scans;
}

static int64_t count_v(store *st, const char *sql)
{
    db *d = store_reader(st);
    db_stmt *s = db_query(d, sql, "i", 7);
    int64_t n = s && db_step(s) == DB_ROW ? db_col_int64(s, 0) : -1;
    db_done(s);
    store_release(st, d);
    return n;
}

/* A query that reads a large table row by row without an index is counted
 * (and logged): the kind of statement that, on the writer, holds every
 * write behind it. The same question by an index, or over a small table,
 * is not. */
static void test_full_scans_counted(void **state)
{
    store *st = *state;
    assert_int_equal(store_write(st, fill_scan_table, NULL), WOK);
    uint64_t before = full_scans(st);
    assert_int_equal(count_v(st, "SELECT count(*) FROM scan_probe WHERE v = ?"),
                     (STORE_FULL_SCAN_ROWS + 5000) / 1000);
    assert_int_equal(full_scans(st), before + 1);
    assert_int_equal(count_v(st, "SELECT count(*) FROM scan_probe WHERE v = ?"),
                     (STORE_FULL_SCAN_ROWS + 5000) / 1000);
    assert_int_equal(full_scans(st), before + 2); /* counted each run, logged once */
    assert_int_equal(count_v(st, "SELECT count(*) FROM scan_probe WHERE id = ?"), 1);
    assert_int_equal(count_v(st, "SELECT count(*) FROM departments WHERE id <> ?"),
                     count_v(st, "SELECT count(*) FROM departments WHERE id <> ? OR 1"));
    assert_int_equal(full_scans(st), before + 2);
}

/* Query plans of lookups that run on the single writer, where a full scan
 * of a large table holds every write behind it. A partial index is only
 * used when the query implies the index's condition, which a bound
 * parameter never does. */
/* The plan of a notice lookup (sql takes an order id and a kind), as
 * SQLite's EXPLAIN QUERY PLAN lines joined by '\n', into out. */
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

static int count_in(db *d, const char *code)
{
    db_stmt *s = db_query(d, "SELECT count(*) FROM departments WHERE code = ?", "t", code);
    int n = db_step(s) == DB_ROW ? db_col_int(s, 0) : -1;
    db_done(s);
    return n;
}

/* A snapshot reader sees one state from its first query to its release,
 * and goes back to the pool out of its transaction. */
static void test_snapshot(void **state)
{
    store *st = *state;
    struct ins a = {"SNAP1", 0}, b = {"SNAP2", 0};
    assert_int_equal(store_write(st, insert_dept, &a), WOK);
    db *d = store_snapshot(st);
    assert_non_null(d);
    assert_int_equal(count_in(d, "SNAP1"), 1);
    assert_int_equal(store_write(st, insert_dept, &b), WOK);
    assert_int_equal(count_in(d, "SNAP2"), 0); /* written after the snapshot began */
    db *plain = store_reader(st); /* a plain reader sees the write at once */
    assert_int_equal(count_in(plain, "SNAP2"), 1);
    store_release(st, plain);
    store_release(st, d);
    d = store_snapshot(st); /* the pool handed back a connection out of its old snapshot */
    assert_int_equal(count_in(d, "SNAP2"), 1);
    store_release(st, d);
    d = store_reader(st);
    assert_int_equal(count_in(d, "SNAP2"), 1);
    store_release(st, d);
}

/* SQL with no statement in it (blank, or only a comment) is an error the
 * caller gets back, not a crash. */
static void test_empty_sql(void **state)
{
    store *st = *state;
    db *d = store_reader(st);
    assert_int_equal(db_exec(d, "", ""), W_EINTERNAL);
    assert_int_equal(db_exec(d, "  -- nothing\n", ""), W_EINTERNAL);
    assert_null(db_query(d, " ", ""));
    store_release(st, d);
}

static void test_injection_is_data(void **state)
{
    store *st = *state;
    struct ins evil = {"x'); DROP TABLE departments; --", 0};
    assert_int_equal(store_write(st, insert_dept, &evil), WOK);
    assert_int_equal(count_code(st, evil.code), 1);
}

struct writer_arg {
    store *st;
    int base;
    int ok;
};

static void *writer(void *p)
{
    struct writer_arg *a = p;
    for (int i = 0; i < 200; i++) {
        char code[32];
        snprintf(code, sizeof code, "W%d-%d", a->base, i);
        struct ins c = {code, i % 10 == 0}; /* every tenth job fails */
        if (store_write(a->st, insert_dept, &c) == WOK)
            a->ok++;
    }
    return NULL;
}

static void test_concurrent_group_commit(void **state)
{
    store *st = *state;
    pthread_t t[8];
    struct writer_arg a[8];
    store_stats before, after;
    store_get_stats(st, &before);
    for (int i = 0; i < 8; i++) {
        a[i] = (struct writer_arg){st, i, 0};
        pthread_create(&t[i], NULL, writer, &a[i]);
    }
    for (int i = 0; i < 8; i++)
        pthread_join(t[i], NULL);
    int ok = 0;
    for (int i = 0; i < 8; i++)
        ok += a[i].ok;
    assert_int_equal(ok, 8 * 180);
    db *d = store_reader(st);
    db_stmt *s = db_query(d, "SELECT count(*) FROM departments WHERE code LIKE 'W%'", "");
    assert_int_equal(db_step(s), DB_ROW);
    assert_int_equal(db_col_int(s, 0), 8 * 180);
    db_done(s);
    store_release(st, d);
    store_get_stats(st, &after);
    assert_int_equal(after.write_jobs - before.write_jobs, 8 * 200);
    /* group commit: fewer transactions than jobs (concurrent writers share fsyncs) */
    assert_true(after.write_batches - before.write_batches <= after.write_jobs - before.write_jobs);
}

static void test_audit_append_only(void **state)
{
    store *st = *state;
    audit_actor a;
    audit_actor_system(&a, "unit");
    struct ins c = {"AUD1", 0};
    assert_int_equal(store_write(st, insert_dept, &c), WOK);
    db *d = store_reader(st);
    /* readers are query_only: writes through a reader fail */
    assert_int_equal(db_exec(d, "DELETE FROM departments", ""), W_EINTERNAL);
    store_release(st, d);
}

static int try_delete_audit(db *d, void *arg)
{
    (void)arg;
    audit_actor a;
    audit_actor_system(&a, "unit");
    if (audit_record(d, &a, "test", "thing", "1", NULL) != WOK)
        return W_EINTERNAL;
    return db_exec(d, "DELETE FROM audit", "");
}

static int try_update_audit(db *d, void *arg)
{
    (void)arg;
    audit_actor a;
    audit_actor_system(&a, "unit");
    if (audit_record(d, &a, "test", "thing", "2", NULL) != WOK)
        return W_EINTERNAL;
    return db_exec(d, "UPDATE audit SET action = 'forged'", "");
}

static void test_audit_triggers(void **state)
{
    store *st = *state;
    assert_int_not_equal(store_write(st, try_delete_audit, NULL), WOK);
    assert_int_not_equal(store_write(st, try_update_audit, NULL), WOK);
}

static void test_bind_mismatch(void **state)
{
    store *st = *state;
    db *d = store_reader(st);
    assert_null(db_query(d, "SELECT ?", ""));
    assert_null(db_query(d, "SELECT * FROM no_such_table", ""));
    /* nested use of the same statement text gets a one-off statement */
    db_stmt *a = db_query(d, "SELECT code FROM departments ORDER BY code", "");
    assert_int_equal(db_step(a), DB_ROW);
    db_stmt *b = db_query(d, "SELECT code FROM departments ORDER BY code", "");
    assert_int_equal(db_step(b), DB_ROW);
    assert_string_equal(db_col_text(a, 0), db_col_text(b, 0));
    db_done(b);
    db_done(a);
    store_release(st, d);
}

static void test_backup(void **state)
{
    store *st = *state;
    char path[300];
    snprintf(path, sizeof path, "%s/backup.db", dir);
    werr e = {0};
    assert_int_equal(store_backup(st, path, &e), WOK);
    store *b = NULL;
    assert_int_equal(store_open(path, &b, &e), WOK);
    assert_int_equal(store_check_integrity(b, &e), WOK);
    assert_int_equal(count_code(b, "OK1"), 1);
    store_close(b);
}

/* ---- batches without savepoints: a job failing after writing (PERF) ---- */

enum { MODE_OK, MODE_FAIL_BEFORE, MODE_FAIL_AFTER };

struct rerun_job {
    char code[32];
    int mode;
    /* out */
    int64_t id;
    int runs; /* counted on purpose to observe re-runs (a real fn must not) */
};

static int rerun_fn(db *d, void *arg)
{
    struct rerun_job *c = arg;
    c->runs++;
    if (c->mode == MODE_FAIL_BEFORE)
        return W_ENOTFOUND; /* refused before any write: nothing to undo */
    int rc = db_exec(d, "INSERT INTO departments (code, name, created_at) VALUES (?, ?, ?)", "ttt",
                     c->code, "部门", "2026-01-01T00:00:00Z");
    if (rc != WOK)
        return rc;
    c->id = db_last_id(d);
    /* a second write, as real jobs make (row + audit) */
    rc = db_exec(d, "UPDATE departments SET name = ? WHERE id = ?", "tI", c->code, c->id);
    if (rc != WOK)
        return rc;
    return c->mode == MODE_FAIL_AFTER ? W_EINVALID : WOK;
}

/* Holds the writer until every worker is about to queue its job, so that
 * the next batch is all of them. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_ready, gate_want;

static int gate_fn(db *d, void *arg)
{
    pthread_mutex_lock(&gate_mu);
    while (gate_ready < gate_want)
        pthread_cond_wait(&gate_cv, &gate_mu);
    pthread_mutex_unlock(&gate_mu);
    usleep(100 * 1000); /* let them reach store_write's queue */
    return WOK;
}

struct rerun_worker {
    store *st;
    struct rerun_job *job;
    int rc;
};

static void *rerun_worker_main(void *p)
{
    struct rerun_worker *w = p;
    pthread_mutex_lock(&gate_mu);
    gate_ready++;
    pthread_cond_broadcast(&gate_cv);
    pthread_mutex_unlock(&gate_mu);
    w->rc = store_write(w->st, rerun_fn, w->job);
    return NULL;
}

static void *gate_main(void *p)
{
    store_write(p, gate_fn, NULL);
    return NULL;
}

static int64_t id_of(store *st, const char *code)
{
    db *d = store_reader(st);
    db_stmt *s = db_query(d, "SELECT id, name FROM departments WHERE code = ?", "t", code);
    int64_t id = -1;
    if (db_step(s) == DB_ROW) {
        id = db_col_int64(s, 0);
        assert_string_equal(db_col_text(s, 1), code); /* both writes of the job */
    }
    db_done(s);
    store_release(st, d);
    return id;
}

/* One batch of 24 jobs where some fail after writing and some before: the
 * failing jobs leave nothing, every other job commits with its outputs set
 * by its last run, and a failing job runs only once. */
static void test_fail_after_write_in_batch(void **state)
{
    store *st = *state;
    enum { N = 24 };
    struct rerun_job jobs[N];
    struct rerun_worker w[N];
    pthread_t t[N], g;
    store_stats before, after;
    store_get_stats(st, &before);
    gate_ready = 0;
    gate_want = N;
    pthread_create(&g, NULL, gate_main, st);
    usleep(20 * 1000); /* the gate job is the writer's current batch */
    for (int i = 0; i < N; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        snprintf(jobs[i].code, sizeof jobs[i].code, "RR-%d", i);
        jobs[i].mode = i % 5 == 2 ? MODE_FAIL_AFTER : i % 7 == 3 ? MODE_FAIL_BEFORE : MODE_OK;
        w[i] = (struct rerun_worker){st, &jobs[i], -1};
        pthread_create(&t[i], NULL, rerun_worker_main, &w[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    pthread_join(g, NULL);
    store_get_stats(st, &after);
    int reran = 0;
    for (int i = 0; i < N; i++) {
        int64_t id = id_of(st, jobs[i].code);
        switch (jobs[i].mode) {
        case MODE_OK:
            assert_int_equal(w[i].rc, WOK);
            assert_true(id > 0);
            assert_int_equal(jobs[i].id, id); /* the output of the run that committed */
            assert_true(jobs[i].runs == 1 || jobs[i].runs == 2);
            reran += jobs[i].runs == 2;
            break;
        case MODE_FAIL_AFTER:
            assert_int_equal(w[i].rc, W_EINVALID);
            assert_int_equal(id, -1); /* undone */
            assert_int_equal(jobs[i].runs, 1);
            break;
        default:
            assert_int_equal(w[i].rc, W_ENOTFOUND);
            assert_int_equal(id, -1);
            assert_int_equal(jobs[i].runs, 1);
        }
    }
    /* the jobs were batched together, so a failure after writing made the
     * batch run again. Which jobs re-ran depends on the order the threads
     * queued in (none, if a failing job came first), so only count them. */
    assert_true(after.write_reruns > before.write_reruns);
    assert_true(reran >= 0 && reran < N);
}

struct stress_arg {
    store *st;
    int base;
    int ok, failed;
};

static void *stress_main(void *p)
{
    struct stress_arg *a = p;
    for (int i = 0; i < 150; i++) {
        struct rerun_job c;
        memset(&c, 0, sizeof c);
        snprintf(c.code, sizeof c.code, "ST%d-%d", a->base, i);
        c.mode = (i + a->base) % 9 == 0 ? MODE_FAIL_AFTER : (i + a->base) % 11 == 0 ? MODE_FAIL_BEFORE
                                                                                   : MODE_OK;
        int rc = store_write(a->st, rerun_fn, &c);
        int64_t id = id_of(a->st, c.code);
        if (c.mode == MODE_OK) {
            if (rc != WOK || id != c.id || c.runs > 2)
                a->failed++;
            else
                a->ok++;
        } else if (rc == WOK || id != -1 || c.runs != 1) {
            a->failed++;
        }
    }
    return NULL;
}

/* Many threads, jobs failing after writing at random points of random
 * batches: every committed job is whole, every failed one absent. */
static void test_fail_after_write_stress(void **state)
{
    store *st = *state;
    enum { T = 8 };
    pthread_t t[T];
    struct stress_arg a[T];
    for (int i = 0; i < T; i++) {
        a[i] = (struct stress_arg){st, i, 0, 0};
        pthread_create(&t[i], NULL, stress_main, &a[i]);
    }
    int ok = 0, failed = 0, want = 0;
    for (int i = 0; i < T; i++) {
        pthread_join(t[i], NULL);
        ok += a[i].ok;
        failed += a[i].failed;
        for (int k = 0; k < 150; k++)
            want += (k + i) % 9 != 0 && (k + i) % 11 != 0;
    }
    assert_int_equal(failed, 0);
    assert_int_equal(ok, want);
    db *d = store_reader(st);
    db_stmt *s = db_query(d, "SELECT count(*) FROM departments WHERE code LIKE 'ST%'", "");
    assert_int_equal(db_step(s), DB_ROW);
    assert_int_equal(db_col_int(s, 0), want);
    db_done(s);
    store_release(st, d);
}

/* The optional checkpointer thread (WHISTLE_CHECKPOINTER=1): writes keep
 * committing while it checkpoints, and the WAL is folded back at close. */
static void test_checkpointer_thread(void **state)
{
    char path[300];
    snprintf(path, sizeof path, "%s/ckpt.db", dir);
    setenv("WHISTLE_CHECKPOINTER", "1", 1);
    store *st = NULL;
    werr e = {0};
    assert_int_equal(store_open(path, &st, &e), WOK);
    unsetenv("WHISTLE_CHECKPOINTER");
    enum { T = 4 };
    pthread_t t[T];
    struct stress_arg a[T];
    for (int i = 0; i < T; i++) {
        a[i] = (struct stress_arg){st, 100 + i, 0, 0};
        pthread_create(&t[i], NULL, stress_main, &a[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].failed, 0);
    }
    /* the idle checkpoint runs about once a second: wait for it (a loaded
     * machine may delay the thread), never for a fixed time */
    store_stats ss;
    store_get_stats(st, &ss);
    for (int i = 0; i < 300 && ss.checkpoints == 0; i++) {
        usleep(50 * 1000);
        store_get_stats(st, &ss);
    }
    assert_true(ss.checkpoints > 0);
    assert_int_equal(store_check_integrity(st, &e), WOK);
    store_close(st);
    char wal[320];
    snprintf(wal, sizeof wal, "%s-wal", path);
    FILE *f = fopen(wal, "rb");
    if (f) { /* truncated at close */
        fseek(f, 0, SEEK_END);
        assert_int_equal(ftell(f), 0);
        fclose(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrated),
        cmocka_unit_test(test_write_and_rollback),
        cmocka_unit_test(test_injection_is_data),
        cmocka_unit_test(test_snapshot),
        cmocka_unit_test(test_empty_sql),
        cmocka_unit_test(test_forbidden_writes),
        cmocka_unit_test(test_full_scans_counted),
        cmocka_unit_test(test_notice_lookup_uses_its_index),
        cmocka_unit_test(test_concurrent_group_commit),
        cmocka_unit_test(test_audit_append_only),
        cmocka_unit_test(test_audit_triggers),
        cmocka_unit_test(test_bind_mismatch),
        cmocka_unit_test(test_backup),
        cmocka_unit_test(test_fail_after_write_in_batch),
        cmocka_unit_test(test_fail_after_write_stress),
        cmocka_unit_test(test_checkpointer_thread),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
