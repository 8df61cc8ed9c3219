/*
 * demo.c — `whistle demo`: fills an empty database with a sample county
 * (deterministic from --seed), and `whistle demo-logins` prints its
 * accounts. The foundation creates departments and accounts; the grid,
 * registry and work-order modules add their part through demo_steps[].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cli.h"
#include "department.h"
#include "demo_history.h"
#include "grid.h"
#include "order.h"
#include "registry.h"
#include "user.h"

/* The demo accounts. Passwords are public: this is sample data. */
static const struct demo_login {
    const char *login, *name, *role, *scope_kind, *scope_grid, *dept_code, *password, *what;
} demo_logins[] = {
    {"admin", "系统管理员", "admin", "all", NULL, NULL, "whistle-admin", "管理员 administrator"},
    {"dispatcher", "王调度", "dispatcher", "all", NULL, NULL, "whistle-demo",
     "中心调度员 centre dispatcher"},
    {"chengguan", "李城管", "department_handler", "department", NULL, "CGJ", "whistle-demo",
     "城管局承办人 department handler"},
    {"leader", "张县长", "leader", "all", NULL, NULL, "whistle-demo", "县领导 leader"},
    {"inspector", "赵纪检", "inspector", "all", NULL, NULL, "whistle-demo", "纪检 inspector"},
    {"gridworker", "刘网格", "grid_worker", "grid", "511423001001001", NULL, "whistle-demo",
     "网格员 grid worker (晋原街道 锦屏社区 第1网格)"},
    {"community", "陈社区", "community_staff", "grid", "511423001001", NULL, "whistle-demo",
     "社区工作人员 community staff (锦屏社区)"},
};

static const struct {
    const char *code, *name, *name_en;
} demo_departments[] = {
    {"CGJ", "县城市管理局", "Urban Management Bureau"},
    {"ZJJ", "县住房和城乡建设局", "Housing and Construction Bureau"},
    {"GAJ", "县公安局", "Public Security Bureau"},
    {"SWJ", "县水务局", "Water Affairs Bureau"},
    {"SCJ", "县市场监督管理局", "Market Regulation Bureau"},
    {"HBJ", "县生态环境局", "Ecology and Environment Bureau"},
    {"JTJ", "县交通运输局", "Transport Bureau"},
    {"YJJ", "县应急管理局", "Emergency Management Bureau"},
    {"MZJ", "县民政局", "Civil Affairs Bureau"},
    {"GDGS", "县供电公司", "Power Supply Company"},
    {"SFJ", "县司法局", "Justice Bureau"},
    {"WJJ", "县卫生健康局", "Health Commission"},
};

struct seed_ctx {
    const audit_actor *a;
    werr *e;
};

static int seed_departments_tx(db *d, void *arg)
{
    struct seed_ctx *c = arg;
    for (size_t i = 0; i < sizeof demo_departments / sizeof demo_departments[0]; i++) {
        department_input in = {demo_departments[i].code, demo_departments[i].name,
                               demo_departments[i].name_en, "department", NULL, NULL};
        int64_t id;
        int rc = department_insert(d, c->a, &in, &id, c->e);
        if (rc != WOK)
            return rc;
    }
    return WOK;
}

static int is_empty(store *st)
{
    db *d = store_reader(st);
    db_stmt *s = d ? db_query(d, "SELECT count(*) FROM users", "") : NULL;
    int empty = s && db_step(s) == DB_ROW && db_col_int(s, 0) == 0;
    db_done(s);
    store_release(st, d);
    return empty;
}

int cmd_demo(int argc, char **argv)
{
    const char *usage = "[--db FILE] [--scale small|county|city] [--seed N]";
    struct cli_flag flags[] = {
        {"db", "WHISTLE_DB", "database file", 0, "whistle.db"},
        {"scale", NULL, "small (make run), county or city (benchmarks)", 0, "small"},
        {"seed", NULL, "random seed; the same seed gives the same county", 0, "2026"},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[1];
    int npos;
    cli_parse("demo", usage, flags, argc, argv, pos, 0, &npos);
    const char *scale = cli_get(flags, "scale");
    if (strcmp(scale, "small") && strcmp(scale, "county") && strcmp(scale, "city"))
        cli_usage_error("demo", usage, "--scale %s: expected small, county or city", scale);
    long long seed = cli_int("demo", flags, "seed", 0, 1LL << 40);
    store *st = cli_open_store(cli_get(flags, "db"));
    if (!is_empty(st)) {
        fprintf(stderr, "whistle demo: %s already has accounts; the demo only fills an empty "
                        "database\n", store_path(st));
        store_close(st);
        return 1;
    }
    audit_actor a;
    audit_actor_system(&a, "demo");
    werr e = {0};
    struct seed_ctx c = {&a, &e};
    int rc = store_write(st, seed_departments_tx, &c);
    if (rc == WOK) /* the grid tree with polygons, duties, 包保单位 (grid.h) */
        rc = demo_grids(st, &a, (unsigned)seed, scale, &e);
    if (rc == WOK) /* households, people, visits, places, party organisations (registry.h) */
        rc = demo_registry(st, &a, (unsigned)seed, scale, &e);
    if (rc == WOK) /* the default 事项清单 and working-day calendar (order.h) */
        rc = orders_ensure_defaults(st, &e);
    for (size_t i = 0; rc == WOK && i < sizeof demo_logins / sizeof demo_logins[0]; i++) {
        const struct demo_login *l = &demo_logins[i];
        user_input in = {0};
        in.login = l->login;
        in.name = l->name;
        in.role = l->role;
        in.scope_kind = l->scope_kind;
        in.scope_grid = l->scope_grid;
        in.password = l->password;
        if (l->dept_code) {
            db *d = store_reader(st);
            int64_t id = 0;
            department_id_by_code(d, l->dept_code, &id);
            store_release(st, d);
            in.scope_dept = id;
        }
        int64_t uid;
        rc = user_create(st, &a, &in, &uid, &e);
    }
    if (rc == WOK) /* a year of work orders, supervision, deductions (demo_history.h) */
        rc = demo_history(st, &a, (unsigned)seed, demo_history_size(scale), &e);
    if (rc != WOK) {
        fprintf(stderr, "whistle demo: %s\n", e.message);
        store_close(st);
        return 1;
    }
    printf("demo county created in %s\n", store_path(st));
    store_close(st);
    return 0;
}

int cmd_demo_logins(int argc, char **argv)
{
    struct cli_flag flags[] = {
        {"db", "WHISTLE_DB", "database file", 0, "whistle.db"},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[1];
    int npos;
    cli_parse("demo-logins", "[--db FILE]", flags, argc, argv, pos, 0, &npos);
    printf("demo logins (login / password):\n");
    for (size_t i = 0; i < sizeof demo_logins / sizeof demo_logins[0]; i++)
        printf("  %-12s %-16s %s\n", demo_logins[i].login, demo_logins[i].password,
               demo_logins[i].what);
    return 0;
}
