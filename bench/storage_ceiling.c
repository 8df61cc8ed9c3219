/*
 * storage_ceiling — the storage ceiling of `make bench` (issue 8): the rows
 * one report writes, straight into SQLite from C, without HTTP, JSON or
 * locking between threads, with the same durability as whistle (WAL,
 * synchronous=FULL) and the same group commit shape as store.c (one
 * transaction per batch, a SAVEPOINT per job). Whatever whistle reaches
 * over HTTP is compared to this.
 *
 * One report with a location that auto-dispatches writes (schema from the
 * embedded migrations 004 orders, 005 outbox, 007 stats):
 *   idempotency lookup (orders.idem_key), the order row (+ FTS row), two
 *   timeline events (report, dispatch), two outbox events, one audit row,
 *   per event the stats upserts (daily, department, street + community,
 *   category; hotspot month for the report) and the stats_orders row.
 * A table the binary's migrations do not have yet is skipped and named in
 * the output ("missing").
 *
 *   storage_ceiling --dir DIR [--seconds N] [--batches 1,16,64,256]
 *                   [--connections 64] [--json] [--no-savepoints] [--pragma SQL]
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

static sqlite3 *h;
static int no_savepoints;      /* --no-savepoints: what the SAVEPOINT per job costs */
static const char *extra_pragma; /* --pragma SQL: try a setting (e.g. wal_autocheckpoint) */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "storage_ceiling: %s: %s\n", what, h ? sqlite3_errmsg(h) : "?");
    exit(1);
}

static int has_table(const char *name)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(h, "SELECT 1 FROM sqlite_master WHERE name = ?", -1, &s, NULL))
        die("prepare");
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

static sqlite3_stmt *prep(const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v3(h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "storage_ceiling: %s in %s\n", sqlite3_errmsg(h), sql);
        exit(1);
    }
    return s;
}

static void run(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "storage_ceiling: %s in %s\n", sqlite3_errmsg(h), sqlite3_sql(s));
        exit(1);
    }
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

#define T(s, i, v) sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT)
#define I(s, i, v) sqlite3_bind_int64(s, i, v)
#define D(s, i, v) sqlite3_bind_double(s, i, v)

struct stmts {
    int orders, outbox, stats;
    sqlite3_stmt *begin, *commit, *sp, *release;
    sqlite3_stmt *idem, *order, *fts, *event, *outbox_ins, *audit;
    sqlite3_stmt *sd[2], *sdd[2], *sad[2], *scd[2], *hot, *so_ins, *so_upd;
};

/* The counters one event adds to: column per event kind. */
static const char *const counter[2] = {"received = received + 1, inflow = inflow + 1",
                                       "dispatched = dispatched + 1"};
static const char *const counter_ins[2][2] = {{"received, inflow", "1, 1"}, {"dispatched", "1"}};

static void prepare_all(struct stmts *p)
{
    char sql[1024];
    p->begin = prep("BEGIN IMMEDIATE");
    p->commit = prep("COMMIT");
    p->sp = prep("SAVEPOINT job");
    p->release = prep("RELEASE job");
    p->audit = prep("INSERT INTO audit (at, user_id, login, role, ip, request_id, action, "
                    "object_type, object_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (p->orders) {
        p->idem = prep("SELECT id FROM orders WHERE idem_key = ?");
        p->order = prep(
            "INSERT INTO orders (code, state, centre_wait, category_code, catalog_version, "
            "description, address, lat, lng, grid_code, channel, urgency, level, reporter_id, "
            "reporter_role, reporter_name, reporter_phone, lead_dept_id, response_minutes, "
            "complete_minutes, created_at, updated_at, dispatched_at, response_deadline, "
            "deadline, seq, idem_key) VALUES (?, 'dispatched', 0, ?, 1, ?, ?, ?, ?, ?, "
            "'grid_app', 'normal', 'county', ?, 'grid_worker', ?, ?, ?, 120, 2880, ?, ?, ?, ?, "
            "?, 2, ?)");
        p->fts = prep("INSERT INTO orders_fts (rowid, description, address) VALUES (?, ?, ?)");
        p->event = prep("INSERT INTO order_events (order_id, seq, at, actor_id, actor_role, "
                        "action, from_state, to_state, dept_id, note, data) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)");
    }
    if (p->outbox)
        p->outbox_ins = prep("INSERT INTO outbox (event_id, event, object_type, object_id, "
                             "payload, created_at, fanned_out) VALUES (?, ?, 'order', ?, ?, ?, 0)");
    if (p->stats) {
        for (int k = 0; k < 2; k++) {
            snprintf(sql, sizeof sql,
                     "INSERT INTO stats_daily (day, dept_id, grid_code, category_code, channel, "
                     "%s) VALUES (?, ?, ?, ?, 'grid_app', %s) ON CONFLICT (day, dept_id, "
                     "grid_code, category_code, channel) DO UPDATE SET %s",
                     counter_ins[k][0], counter_ins[k][1], counter[k]);
            p->sd[k] = prep(sql);
            snprintf(sql, sizeof sql,
                     "INSERT INTO stats_dept_daily (day, dept_id, %s) VALUES (?, ?, %s) "
                     "ON CONFLICT (day, dept_id) DO UPDATE SET %s",
                     counter_ins[k][0], counter_ins[k][1], counter[k]);
            p->sdd[k] = prep(sql);
            snprintf(sql, sizeof sql,
                     "INSERT INTO stats_area_daily (day, area_code, %s) VALUES (?, ?, %s) "
                     "ON CONFLICT (day, area_code) DO UPDATE SET %s",
                     counter_ins[k][0], counter_ins[k][1], counter[k]);
            p->sad[k] = prep(sql);
            snprintf(sql, sizeof sql,
                     "INSERT INTO stats_cat_daily (day, category_code, %s) VALUES (?, ?, %s) "
                     "ON CONFLICT (day, category_code) DO UPDATE SET %s",
                     counter_ins[k][0], counter_ins[k][1], counter[k]);
            p->scd[k] = prep(sql);
        }
        p->hot = prep("INSERT INTO stats_hot_monthly (month, grid_code, category_code, n) "
                      "VALUES (?, ?, ?, 1) ON CONFLICT (month, grid_code, category_code) "
                      "DO UPDATE SET n = n + 1");
        p->so_ins = prep("INSERT INTO stats_orders (order_id, grid_code, category_code, channel, "
                         "created_at, state, in_prog, cycle_start, updated_at) VALUES "
                         "(?, ?, ?, 'grid_app', ?, 'submitted', 1, ?, ?)");
        p->so_upd = prep("UPDATE stats_orders SET state = 'dispatched', dept_id = ?, holding = 1, "
                         "hold_start = ?, deadline = ?, response_deadline = ?, dispatched_at = ?, "
                         "updated_at = ? WHERE order_id = ?");
    }
}

/* Where the time of a report goes (--json lists it as "breakdown_us"). */
enum { G_SAVEPOINT, G_ORDER, G_FTS, G_EVENTS, G_OUTBOX, G_AUDIT, G_STATS, G_COMMIT, G__N };
static const char *const group_name[G__N] = {"savepoints", "order_row", "fts", "events",
                                             "outbox", "audit", "stats", "commit"};
static double group_s[G__N];
static double mark_t;
static void mark(int g)
{
    double t = now_s();
    group_s[g] += t - mark_t;
    mark_t = t;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t xr(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* One report: returns the number of rows written. */
static int one_report(struct stmts *p, int64_t n)
{
    char code[16], idem[48], grid[48], street[16], community[32], cat[16], rid[24], ev[40];
    char oid[24], payload[160], when[32];
    int rows = 0;
    int64_t now = (int64_t)time(NULL);
    int day = 20261123, month = 202611;
    int dept = (int)(xr() % 12) + 1;
    snprintf(code, sizeof code, "%08llX", (unsigned long long)(xr() & 0xffffffffffULL));
    snprintf(idem, sizeof idem, "u7:bench-%lld-%llx", (long long)n, (unsigned long long)xr());
    snprintf(street, sizeof street, "510000%03d", (int)(xr() % 12));
    snprintf(community, sizeof community, "%s%03d", street, (int)(xr() % 10));
    snprintf(grid, sizeof grid, "%s%03d", community, (int)(xr() % 8));
    snprintf(cat, sizeof cat, "C%02d.%02d", (int)(xr() % 12), (int)(xr() % 8));
    snprintf(rid, sizeof rid, "%016llx", (unsigned long long)xr());
    snprintf(when, sizeof when, "2026-11-23T03:00:00Z");
    const char *desc = "小区东门外人行道上的井盖缺失，晚上很危险，已经有老人差点掉下去，"
                       "请尽快处理。";
    const char *addr = "城关镇幸福路 128 号幸福小区东门";
    double lat = 30.0 + (double)(xr() % 100000) / 1e6, lng = 103.8 + (double)(xr() % 100000) / 1e6;

    mark_t = now_s();
    if (!no_savepoints)
        run(p->sp);
    mark(G_SAVEPOINT);
    int64_t id = n;
    if (p->orders) {
        T(p->idem, 1, idem);
        run(p->idem);
        T(p->order, 1, code);
        T(p->order, 2, cat);
        T(p->order, 3, desc);
        T(p->order, 4, addr);
        D(p->order, 5, lat);
        D(p->order, 6, lng);
        T(p->order, 7, grid);
        I(p->order, 8, 7);
        T(p->order, 9, "王网格");
        T(p->order, 10, "13800000000");
        I(p->order, 11, dept);
        I(p->order, 12, now);
        I(p->order, 13, now);
        I(p->order, 14, now);
        I(p->order, 15, now + 7200);
        I(p->order, 16, now + 172800);
        T(p->order, 17, idem);
        run(p->order);
        id = sqlite3_last_insert_rowid(h);
        mark(G_ORDER);
        I(p->fts, 1, id);
        T(p->fts, 2, desc);
        T(p->fts, 3, addr);
        run(p->fts);
        mark(G_FTS);
        rows += 2;
        for (int k = 0; k < 2; k++) {
            I(p->event, 1, id);
            I(p->event, 2, k + 1);
            I(p->event, 3, now);
            if (k == 0)
                I(p->event, 4, 7);
            T(p->event, 5, k == 0 ? "grid_worker" : "system");
            T(p->event, 6, k == 0 ? "report" : "dispatch");
            if (k == 1)
                T(p->event, 7, "submitted");
            T(p->event, 8, k == 0 ? "submitted" : "dispatched");
            I(p->event, 9, dept);
            T(p->event, 10, k == 0 ? NULL : "{\"auto\":true,\"deadline\":1764000000}");
            run(p->event);
            rows++;
        }
        mark(G_EVENTS);
    }
    snprintf(oid, sizeof oid, "%lld", (long long)id);
    if (p->outbox) {
        for (int k = 0; k < 2; k++) {
            snprintf(ev, sizeof ev, "%016llx%016llx", (unsigned long long)xr(),
                     (unsigned long long)xr());
            snprintf(payload, sizeof payload,
                     "{\"code\":\"%s\",\"dept_id\":%d,\"id\":%lld,\"state\":\"%s\"}", code, dept,
                     (long long)id, k ? "dispatched" : "submitted");
            T(p->outbox_ins, 1, ev);
            T(p->outbox_ins, 2, k ? "order.dispatched" : "order.reported");
            T(p->outbox_ins, 3, oid);
            T(p->outbox_ins, 4, payload);
            T(p->outbox_ins, 5, when);
            run(p->outbox_ins);
            rows++;
        }
        mark(G_OUTBOX);
    }
    T(p->audit, 1, when);
    I(p->audit, 2, 7);
    T(p->audit, 3, "grid07");
    T(p->audit, 4, "grid_worker");
    T(p->audit, 5, "127.0.0.1");
    T(p->audit, 6, rid);
    T(p->audit, 7, "order.report");
    T(p->audit, 8, "order");
    T(p->audit, 9, oid);
    T(p->audit, 10, "{\"category\":\"C01.02\",\"code\":\"X\",\"grid\":\"510000001002003\"}");
    run(p->audit);
    rows++;
    mark(G_AUDIT);
    if (p->stats) {
        for (int k = 0; k < 2; k++) {
            I(p->sd[k], 1, day);
            I(p->sd[k], 2, dept);
            T(p->sd[k], 3, grid);
            T(p->sd[k], 4, cat);
            run(p->sd[k]);
            I(p->sdd[k], 1, day);
            I(p->sdd[k], 2, dept);
            run(p->sdd[k]);
            for (int a = 0; a < 2; a++) {
                I(p->sad[k], 1, day);
                T(p->sad[k], 2, a ? community : street);
                run(p->sad[k]);
            }
            I(p->scd[k], 1, day);
            T(p->scd[k], 2, cat);
            run(p->scd[k]);
            rows += 5;
        }
        I(p->hot, 1, month);
        T(p->hot, 2, grid);
        T(p->hot, 3, cat);
        run(p->hot);
        I(p->so_ins, 1, id);
        T(p->so_ins, 2, grid);
        T(p->so_ins, 3, cat);
        I(p->so_ins, 4, now);
        I(p->so_ins, 5, now);
        I(p->so_ins, 6, now);
        run(p->so_ins);
        I(p->so_upd, 1, dept);
        I(p->so_upd, 2, now);
        I(p->so_upd, 3, now + 172800);
        I(p->so_upd, 4, now + 7200);
        I(p->so_upd, 5, now);
        I(p->so_upd, 6, now);
        I(p->so_upd, 7, id);
        run(p->so_upd);
        rows += 3;
        mark(G_STATS);
    }
    if (!no_savepoints)
        run(p->release);
    mark(G_SAVEPOINT);
    return rows;
}

int main(int argc, char **argv)
{
    const char *dir = NULL, *batches = "1,16,64,256";
    double seconds = 4;
    int json = 0, conns = 64;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--batches") && i + 1 < argc)
            batches = argv[++i];
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
            conns = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--no-savepoints"))
            no_savepoints = 1;
        else if (!strcmp(argv[i], "--pragma") && i + 1 < argc)
            extra_pragma = argv[++i];
        else {
            fprintf(stderr, "usage: storage_ceiling --dir DIR [--seconds N] [--batches 1,16,64] "
                            "[--connections 64] [--json] [--no-savepoints] [--pragma SQL]\n");
            return 2;
        }
    }
    if (!dir || seconds <= 0)
        return fprintf(stderr, "storage_ceiling: --dir DIR is required\n"), 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/storage-ceiling.db", dir);
    unlink(path);
    /* The schema: whistle's own migrations, through the store. */
    store *st;
    werr e = {0};
    if (store_open(path, &st, &e) != WOK)
        return fprintf(stderr, "storage_ceiling: %s\n", e.message), 1;
    store_close(st);

    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL))
        die("open");
    /* The writer's settings in store.c. */
    if (sqlite3_exec(h, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
                        "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;", NULL, NULL, NULL))
        die("pragmas");
    if (extra_pragma && sqlite3_exec(h, extra_pragma, NULL, NULL, NULL))
        die(extra_pragma);
    struct stmts p;
    memset(&p, 0, sizeof p);
    p.orders = has_table("orders") && has_table("order_events") && has_table("orders_fts");
    p.outbox = has_table("outbox");
    p.stats = has_table("stats_daily") && has_table("stats_orders") && has_table("stats_hot_monthly");
    prepare_all(&p);

    char missing[200] = "";
    if (!p.orders)
        strcat(missing, "orders (004) ");
    if (!p.outbox)
        strcat(missing, "outbox (005) ");
    if (!p.stats)
        strcat(missing, "stats (007) ");

    struct {
        int batch;
        double reports_s, rows_s, commit_ms;
    } res[16];
    int nres = 0, rows_per_report = 0;
    int64_t n = 0;
    char list[128];
    snprintf(list, sizeof list, "%s", batches);
    for (char *tok = strtok(list, ","); tok && nres < 16; tok = strtok(NULL, ",")) {
        int batch = atoi(tok);
        if (batch < 1)
            continue;
        double t0 = now_s(), t = t0;
        int64_t reports = 0, rows = 0, commits = 0;
        while (t - t0 < seconds) {
            run(p.begin);
            for (int j = 0; j < batch; j++) {
                rows_per_report = one_report(&p, ++n);
                rows += rows_per_report;
            }
            mark_t = now_s();
            run(p.commit);
            mark(G_COMMIT);
            reports += batch;
            commits++;
            t = now_s();
        }
        res[nres].batch = batch;
        res[nres].reports_s = (double)reports / (t - t0);
        res[nres].rows_s = (double)rows / (t - t0);
        res[nres].commit_ms = (t - t0) * 1000 / (double)commits;
        nres++;
    }
    /* The ceiling for ingest at C connections: the best batch size ≤ C
     * (the writer never sees more than C jobs queued). */
    int best = -1;
    for (int i = 0; i < nres; i++)
        if (res[i].batch <= conns && (best < 0 || res[i].reports_s > res[best].reports_s))
            best = i;
    if (best < 0)
        best = 0;
    if (json) {
        printf("{\"batch\":%d,\"rows_per_report\":%d,\"ceiling_reports_per_s\":%.1f,"
               "\"ceiling_rows_per_s\":%.1f,\"missing\":\"%s\",\"batches\":[",
               res[best].batch, rows_per_report, res[best].reports_s, res[best].rows_s, missing);
        for (int i = 0; i < nres; i++)
            printf("%s{\"batch\":%d,\"reports_per_s\":%.1f,\"rows_per_s\":%.1f,"
                   "\"ms_per_batch\":%.3f}",
                   i ? "," : "", res[i].batch, res[i].reports_s, res[i].rows_s, res[i].commit_ms);
        printf("],\"breakdown_us_per_report\":{");
        for (int g = 0; g < G__N; g++)
            printf("%s\"%s\":%.1f", g ? "," : "", group_name[g], group_s[g] * 1e6 / (double)n);
        printf("}}\n");
    } else {
        printf("storage ceiling: %d rows per report%s%s\n", rows_per_report,
               missing[0] ? "; tables missing: " : "", missing);
        for (int i = 0; i < nres; i++)
            printf("  batch %4d: %9.0f reports/s %10.0f rows/s  %.2f ms per batch\n",
                   res[i].batch, res[i].reports_s, res[i].rows_s, res[i].commit_ms);
        printf("  time per report (all batches):");
        for (int g = 0; g < G__N; g++)
            printf(" %s %.1f us", group_name[g], group_s[g] * 1e6 / (double)n);
        printf("\n");
    }
    sqlite3_close(h);
    unlink(path);
    char aux[4200];
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
    return 0;
}
