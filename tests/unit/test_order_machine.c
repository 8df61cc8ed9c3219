/*
 * Property test of the work-order state machine (order.c) on a real
 * temporary store: thousands of random actions by random actors, and after
 * every one the invariants of issue 4:
 *   - exactly one current state, and it is a state of the table;
 *   - a refused action changes nothing; an accepted one is a row of the
 *     transition table (from state, pending request) and lands on its state;
 *   - the timeline replays to the current state (seq 1..n, each from =
 *     the previous to, every step a row of the table);
 *   - overdue (the overdue queue) holds exactly when a deadline has passed
 *     while the order is with a department.
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

#include "calendar.h"
#include "catalog.h"
#include "clock.h"
#include "order.h"
#include "store.h"

static char dir[256];
static store *st;
static int64_t dept_yj, dept_cg;

static int seed_tx(db *d, void *arg)
{
    (void)arg;
    int rc = db_exec(d, "INSERT INTO departments (code, name, created_at) VALUES "
                        "('YJJ', '应急', 'x'), ('CGJ', '城管', 'x'), ('GDGS', '供电', 'x')", "");
    if (rc == WOK)
        rc = db_exec(d, "INSERT INTO grids (code, depth, name, created_at, updated_at) VALUES "
                        "('511402001001001', 3, 'g', 'x', 'x'), ('511402002001', 2, 'h', 'x', 'x')",
                     "");
    return rc;
}

static int setup(void **state)
{
    (void)state;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/whistle-machine-XXXXXX", base);
    if (!mkdtemp(dir))
        return -1;
    char path[300];
    snprintf(path, sizeof path, "%s/t.db", dir);
    werr e = {0};
    if (store_open(path, &st, &e) != WOK || orders_ensure_defaults(st, &e) != WOK ||
        store_write(st, seed_tx, NULL) != WOK)
        return -1;
    db *d = store_reader(st);
    db_stmt *s = db_query(d, "SELECT id FROM departments WHERE code = 'YJJ'", "");
    db_step(s);
    dept_yj = db_col_int64(s, 0);
    db_done(s);
    s = db_query(d, "SELECT id FROM departments WHERE code = 'CGJ'", "");
    db_step(s);
    dept_cg = db_col_int64(s, 0);
    db_done(s);
    store_release(st, d);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    clock_set_offset(0);
    store_close(st);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static principal mk(int64_t id, int role, int scope, const char *grid, int64_t dept)
{
    principal p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    snprintf(p.login, sizeof p.login, "u%lld", (long long)id);
    p.role = role;
    p.scope_kind = scope;
    if (grid)
        snprintf(p.scope_grid, sizeof p.scope_grid, "%s", grid);
    p.scope_dept = dept;
    return p;
}

struct snap {
    int state;
    char pending[16];
    int64_t deadline;
    int seq;
};

static void read_snap(int64_t id, struct snap *s)
{
    db *d = store_reader(st);
    db_stmt *q = db_query(d, "SELECT state, pending, coalesce(deadline, 0), seq FROM orders "
                             "WHERE id = ?", "I", id);
    assert_int_equal(db_step(q), DB_ROW);
    s->state = order_state_parse(db_col_text(q, 0));
    snprintf(s->pending, sizeof s->pending, "%s", db_col_text(q, 1) ? db_col_text(q, 1) : "");
    s->deadline = db_col_int64(q, 2);
    s->seq = db_col_int(q, 3);
    assert_int_not_equal(db_step(q), DB_ROW); /* exactly one row */
    db_done(q);
    store_release(st, d);
    assert_int_not_equal(s->state, OS_NONE); /* a state of the table */
}

static const struct order_transition *row_named(const char *name)
{
    for (int i = 0; i < order_table_len; i++)
        if (strcmp(order_table[i].name, name) == 0)
            return &order_table[i];
    return NULL;
}

/* The timeline replays, through the table, to the current state. */
static void check_replay(int64_t id, const struct snap *now)
{
    db *d = store_reader(st);
    db_stmt *q = db_query(d, "SELECT seq, action, from_state, to_state FROM order_events "
                             "WHERE order_id = ? ORDER BY seq", "I", id);
    int state = OS_NONE, n = 0, pending = PEND_NONE;
    while (db_step(q) == DB_ROW) {
        n++;
        assert_int_equal(db_col_int(q, 0), n);
        const struct order_transition *t = row_named(db_col_text(q, 1));
        assert_non_null(t);
        int from = db_col_text(q, 2) ? order_state_parse(db_col_text(q, 2)) : OS_NONE;
        int to = order_state_parse(db_col_text(q, 3));
        assert_int_equal(from, state);
        assert_true(t->from & (1u << from));
        assert_int_equal(to, t->to == OS_NONE ? from : t->to);
        if (t->pending_in != PEND_NONE)
            assert_int_equal(pending, t->pending_in);
        else
            assert_int_equal(pending, PEND_NONE);
        pending = t->pending_out;
        state = to;
    }
    db_done(q);
    store_release(st, d);
    assert_int_equal(n, now->seq);
    assert_int_equal(state, now->state);
    assert_string_equal(order_pending_name(pending) ? order_pending_name(pending) : "",
                        now->pending);
}

static int in_overdue_queue(const principal *who, int64_t id)
{
    db *d = store_reader(st);
    order_query q;
    memset(&q, 0, sizeof q);
    q.queue = "overdue";
    q.limit = 200;
    int found = 0;
    const char *cursor = NULL;
    char cur[64];
    for (int page = 0; page < 50 && !found; page++) {
        q.cursor = cursor;
        wbuf text = WBUF_INIT;
        werr e = {0};
        assert_int_equal(order_list(d, who, &q, &text, &e), WOK);
        json_t *out = json_loadb(text.s, text.len, 0, NULL);
        wbuf_free(&text);
        assert_non_null(out);
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(out, "items"), i, it)
        {
            found |= json_integer_value(json_object_get(it, "id")) == id;
            assert_true(json_is_true(json_object_get(it, "overdue")));
        }
        const char *nc = json_string_value(json_object_get(out, "next_cursor"));
        if (nc)
            snprintf(cur, sizeof cur, "%s", nc);
        cursor = nc ? cur : NULL;
        json_decref(out);
        if (!cursor)
            break;
    }
    store_release(st, d);
    return found;
}

static void test_random_sequences(void **state)
{
    (void)state;
    srand(4242);
    principal actors[] = {
        mk(1, ROLE_DISPATCHER, SCOPE_ALL, NULL, 0),
        mk(2, ROLE_DEPARTMENT, SCOPE_DEPT, NULL, dept_yj),
        mk(3, ROLE_DEPARTMENT, SCOPE_DEPT, NULL, dept_cg),
        mk(4, ROLE_GRID_WORKER, SCOPE_GRID, "511402001001", 0),
        mk(5, ROLE_GRID_WORKER, SCOPE_GRID, "511402002001", 0),
        mk(6, ROLE_COMMUNITY, SCOPE_GRID, "511402001001", 0),
        mk(7, ROLE_STREET, SCOPE_GRID, "511402001", 0),
        mk(8, ROLE_RESIDENT, SCOPE_SELF, NULL, 0),
        mk(9, ROLE_RESIDENT, SCOPE_SELF, NULL, 0),
        mk(10, ROLE_LEADER, SCOPE_ALL, NULL, 0),
    };
    const int nactors = (int)(sizeof actors / sizeof actors[0]);
    static const char *const cats[] = {"0501", "9901", "1001", "0102", "0201"};
    audit_actor a;
    audit_actor_system(&a, "test");
    int accepted = 0, refused = 0, total = 0, covered[OA__COUNT] = {0};
    int64_t offset = 0;
    const int orders = 200, steps = 25;
    for (int o = 0; o < orders; o++) {
        order_report_input in;
        memset(&in, 0, sizeof in);
        in.category_code = cats[rand() % 5];
        in.description = "随机测试工单";
        in.grid_code = "511402001001001";
        json_t *out = NULL;
        werr e = {0};
        assert_int_equal(order_report(st, &actors[7], &a, &in, &out, NULL, &e), WOK);
        int64_t id = json_integer_value(json_object_get(out, "id"));
        json_decref(out);
        struct snap before;
        read_snap(id, &before);
        check_replay(id, &before);
        for (int k = 0; k < steps; k++) {
            int action = 1 + rand() % (OA__COUNT - 1);
            if (rand() % 10 < 7) { /* mostly an action the state allows, to walk deep */
                int fits[OA__COUNT], nf = 0;
                for (int i = 1; i < order_table_len; i++)
                    if (order_table[i].from & (1u << before.state))
                        fits[nf++] = order_table[i].action;
                if (nf)
                    action = fits[rand() % nf];
            }
            /* final states end the walk early: draw them less often */
            if ((action == OA_REJECT || action == OA_MERGE) && rand() % 4)
                action = OA_SIGN;
            const principal *who = &actors[rand() % nactors];
            if (rand() % 3) { /* most of the time, someone who might be allowed */
                switch (action) {
                case OA_SIGN: case OA_RETURN: case OA_EXTEND: case OA_FEEDBACK:
                    who = &actors[1 + rand() % 2];
                    break;
                case OA_RATE: who = &actors[7]; break;
                case OA_ONSITE: case OA_VERIFY_PASS: case OA_VERIFY_FAIL:
                    who = &actors[3 + rand() % 4];
                    break;
                default: who = &actors[rand() % 2 ? 0 : 5 + rand() % 2];
                }
            }
            order_action_input ai;
            memset(&ai, 0, sizeof ai);
            ai.action = action;
            ai.note = "说明";
            ai.reason = "原因";
            ai.rating = "basic";
            ai.hours = 4;
            ai.merge_into = id > 1 ? 1 + rand() % (id - 1) : 2;
            if (action == OA_DISPATCH && rand() % 2)
                ai.dept_id = rand() % 2 ? dept_yj : dept_cg;
            e = (werr){0};
            int rc = order_act(st, who, &a, id, &ai, NULL, &e);
            total++;
            struct snap after;
            read_snap(id, &after);
            if (rc == WOK) {
                accepted++;
                covered[action]++;
                const struct order_transition *t = order_transition_for(action);
                assert_true(t->from & (1u << before.state));
                assert_int_equal(after.state, t->to == OS_NONE ? before.state : t->to);
                assert_int_equal(after.seq, before.seq + 1);
                assert_string_equal(after.pending, order_pending_name(t->pending_out)
                                                       ? order_pending_name(t->pending_out)
                                                       : "");
            } else {
                refused++;
                assert_true(rc == W_EFORBIDDEN || rc == W_ECONFLICT || rc == W_EINVALID);
                assert_int_equal(after.state, before.state);
                assert_int_equal(after.seq, before.seq);
                assert_string_equal(after.pending, before.pending);
                /* a refusal for the state says so with 409 */
                const struct order_transition *t = order_transition_for(action);
                if (rc == W_ECONFLICT && strcmp(e.code, "onsite_not_allowed") &&
                    strcmp(e.code, "top_level"))
                {
                    int pending_ok = t->pending_in == PEND_NONE
                                         ? before.pending[0] == '\0'
                                         : strcmp(before.pending,
                                                  order_pending_name(t->pending_in)) == 0;
                    assert_false((t->from & (1u << before.state)) && pending_ok);
                }
            }
            check_replay(id, &after);
            /* time passes now and then; overdue follows the deadline */
            if (rand() % 6 == 0) {
                offset += rand() % (3 * 86400);
                clock_set_offset(offset);
            }
            int64_t now = clock_now();
            int with_dept = order_state_with_department(after.state);
            int paused = strcmp(after.pending, "extension") == 0; /* pause_on_extension set for all 5 working-time kinds */
            int expect = with_dept && after.deadline > 0 && now > after.deadline;
            db *d = store_reader(st);
            db_stmt *q = db_query(d, "SELECT pause_on_extension FROM orders WHERE id = ?", "I", id);
            db_step(q);
            int pause_rule = db_col_int(q, 0);
            db_done(q);
            store_release(st, d);
            if (paused && pause_rule)
                expect = 0;
            if (k % 5 == 4 || expect)
                assert_int_equal(in_overdue_queue(&actors[0], id), expect);
            before = after;
        }
    }
    printf("# %d actions: %d accepted, %d refused\n", total, accepted, refused);
    /* every transition of the table was taken, and many were refused */
    for (int i = 1; i < OA__COUNT; i++)
        if (!covered[i])
            fail_msg("action %s was never accepted", order_transition_for(i)->name);
    assert_true(accepted > orders * 3);
    assert_true(refused > orders * 5);
}

/* The table itself: one row per action, no transition out of a final
 * state except those listed (rate, reopen), every row has a permission. */
static void test_table_shape(void **state)
{
    (void)state;
    for (int a = 0; a < OA__COUNT; a++)
        assert_non_null(order_transition_for(a));
    for (int i = 0; i < order_table_len; i++) {
        const struct order_transition *t = &order_table[i];
        assert_non_null(t->perm);
        assert_true(t->from != 0);
        if (t->from & ((1u << OS_REJECTED) | (1u << OS_MERGED)))
            fail_msg("%s leaves a final state", t->name);
    }
    assert_int_equal(order_action_parse_api("verify"), OA_VERIFY_PASS);
    assert_int_equal(order_action_parse_api("return-approve"), OA_RETURN_APPROVE);
    assert_int_equal(order_action_parse_api("nope"), -1);
    assert_true(order_is_overdue(OS_SIGNED, 100, 101));
    assert_false(order_is_overdue(OS_SIGNED, 100, 100));
    assert_false(order_is_overdue(OS_FEEDBACK, 100, 101));
    assert_false(order_is_overdue(OS_CLOSED, 100, 101));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_shape),
        cmocka_unit_test(test_random_sequences),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
