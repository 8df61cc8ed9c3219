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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_migrated),
        cmocka_unit_test(test_write_and_rollback),
        cmocka_unit_test(test_injection_is_data),
        cmocka_unit_test(test_concurrent_group_commit),
        cmocka_unit_test(test_audit_append_only),
        cmocka_unit_test(test_audit_triggers),
        cmocka_unit_test(test_bind_mismatch),
        cmocka_unit_test(test_backup),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
