/*
 * storage_ceiling — the storage ceiling of `make bench` (issue 8): one
 * report's writes, with whistle's durability, without HTTP.
 *
 * Threads (as many as the HTTP workload's connections) call
 * order_report() — the function behind POST /api/v1/reports — on the
 * dataset, through the same store: WAL, synchronous=FULL, the single
 * writer's group commit, each call answered after its batch is durable.
 * So the inserts are exactly those of a report (order + search row,
 * timeline events, outbox, audit, statistics) and cannot drift from them;
 * an earlier version replayed a copy of the SQL and broke when the
 * statistics schema changed. Left out, compared with the HTTP workload:
 * the HTTP exchange, parsing the JSON body, resolving the token per
 * request and writing the answer. Whatever ingest reaches over HTTP is
 * compared to this.
 *
 *   storage_ceiling --db FILE [--seconds N] [--threads T] [--json]
 *
 * FILE is a demo dataset (grids with polygons, a catalogue naming
 * departments, an admin account); the reports stay in it. Prints one JSON
 * object: reports/s, p50/p99 ms per report, jobs per group commit, errors.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "auth.h"
#include "catalog.h"
#include "clock.h"
#include "locate.h"
#include "order.h"
#include "perm.h"
#include "store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct world {
    store *st;
    principal who;
    double *pts; /* lat, lng of leaf grid centres */
    int npts;
    char (*cats)[32];
    int ncats;
    double until;
    _Atomic long errors;
};

struct worker {
    struct world *w;
    int id;
    long done;
    double *lat_ms; /* per report */
    long cap;
};

static uint64_t xr(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static const char *const texts[] = {
    "小区东门外人行道井盖缺失，晚上很危险，请尽快处理。", "楼道里有电动车飞线充电，存在火灾隐患。",
    "幸福路与建设路交叉口路灯不亮已经三天了。",           "菜市场门口垃圾堆放没人清理，气味很大。",
    "楼上住户深夜装修噪音扰民，多次沟通无果。",
};

static void *work(void *arg)
{
    struct worker *k = arg;
    struct world *w = k->w;
    uint64_t s = 88172645463325252ULL ^ ((uint64_t)(k->id + 1) * 0x9e3779b97f4a7c15ULL);
    audit_actor a;
    char rid[40];
    snprintf(rid, sizeof rid, "ceiling-%d", k->id);
    audit_actor_from(&a, &w->who, "127.0.0.1", rid);
    while (now_s() < w->until) {
        char desc[512], key[96], addr[96];
        long n = k->done;
        snprintf(key, sizeof key, "ceiling-%d-%d-%ld-%llx", (int)getpid(), k->id, n,
                 (unsigned long long)(xr(&s) & 0xffffffff));
        snprintf(desc, sizeof desc, "%s (%s)", texts[xr(&s) % 5], key);
        snprintf(addr, sizeof addr, "城关镇幸福路 %d 号", (int)(xr(&s) % 300) + 1);
        const double *p = &w->pts[2 * (xr(&s) % (uint64_t)w->npts)];
        order_report_input in;
        memset(&in, 0, sizeof in);
        in.description = desc;
        in.address = addr;
        in.channel = "grid_app";
        in.idempotency_key = key;
        in.has_location = 1;
        /* a few metres of jitter, as the HTTP workload */
        in.lat = p[0] + ((double)(xr(&s) % 1000) / 1000 - 0.5) * 0.0004;
        in.lng = p[1] + ((double)(xr(&s) % 1000) / 1000 - 0.5) * 0.0004;
        in.category_code = w->ncats ? w->cats[xr(&s) % (uint64_t)w->ncats] : NULL;
        json_t *out = NULL;
        int created = 0;
        werr e = {0};
        double t0 = now_s();
        int rc = order_report(w->st, &w->who, &a, &in, &out, &created, &e);
        double ms = (now_s() - t0) * 1e3;
        json_decref(out);
        if (rc != WOK || !created) {
            if (atomic_fetch_add(&w->errors, 1) < 3)
                fprintf(stderr, "storage_ceiling: report failed: %s: %s\n", e.code, e.message);
            continue;
        }
        if (k->done == k->cap) {
            long cap = k->cap ? k->cap * 2 : 4096;
            double *m = realloc(k->lat_ms, sizeof *m * (size_t)cap);
            if (!m)
                break;
            k->lat_ms = m, k->cap = cap;
        }
        k->lat_ms[k->done++] = ms;
    }
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Leaf grid centres and the catalogue's leaves that name a department, as
 * bench/run.sh picks them for the HTTP workload, and the admin's principal. */
static int load_world(struct world *w)
{
    db *d = store_reader(w->st);
    if (!d)
        return W_EINTERNAL;
    db_stmt *q = db_query(d,
                          "SELECT (min_lat + max_lat) / 2, (min_lng + max_lng) / 2 FROM grids "
                          "WHERE status = 'active' AND min_lat IS NOT NULL AND id NOT IN "
                          "(SELECT parent_id FROM grids WHERE parent_id IS NOT NULL)",
                          "");
    int cap = 0;
    while (q && db_step(q) == DB_ROW) {
        if (w->npts == cap) {
            cap = cap ? cap * 2 : 1024;
            double *np = realloc(w->pts, sizeof *np * 2 * (size_t)cap);
            if (!np)
                break;
            w->pts = np;
        }
        w->pts[2 * w->npts] = db_col_double(q, 0);
        w->pts[2 * w->npts + 1] = db_col_double(q, 1);
        w->npts++;
    }
    db_done(q);
    int64_t admin = 0;
    q = db_query(d, "SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1", "");
    if (q && db_step(q) == DB_ROW)
        admin = db_col_int64(q, 0);
    db_done(q);
    store_release(w->st, d);
    /* the catalogue's leaves that name a department (auto-dispatch) */
    catalog *cat = catalog_current(w->st);
    for (int i = 0; cat && i < cat->n; i++) {
        const struct cat_category *c = &cat->cats[i];
        if (!c->leaf || !c->dept[0])
            continue;
        char(*nc)[32] = realloc(w->cats, sizeof *nc * (size_t)(w->ncats + 1));
        if (!nc)
            break;
        w->cats = nc;
        snprintf(w->cats[w->ncats++], sizeof w->cats[0], "%s", c->code);
    }
    catalog_release(cat);
    if (w->npts == 0 || admin == 0) {
        fprintf(stderr, "storage_ceiling: the database needs grids with polygons and an admin "
                        "account (a demo dataset)\n");
        return W_EINVALID;
    }
    /* the principal exactly as a bearer token resolves to it over HTTP */
    audit_actor sys;
    audit_actor_system(&sys, "storage_ceiling");
    char token[64], auth[80];
    int64_t tid = 0;
    werr e = {0};
    if (auth_token_issue(w->st, &sys, admin, "storage_ceiling", 0, token, &tid, &e) != WOK) {
        fprintf(stderr, "storage_ceiling: cannot issue a token: %s\n", e.message);
        return W_EINTERNAL;
    }
    snprintf(auth, sizeof auth, "Bearer %s", token);
    if (auth_resolve(w->st, auth, NULL, &w->who, &e) != WOK) {
        fprintf(stderr, "storage_ceiling: cannot resolve the token: %s\n", e.message);
        return W_EINTERNAL;
    }
    return WOK;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    double seconds = 5;
    int nthreads = 64, json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            path = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if ((!strcmp(argv[i], "--threads") || !strcmp(argv[i], "--connections")) &&
                 i + 1 < argc)
            nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "usage: storage_ceiling --db FILE [--seconds N] [--threads T] "
                            "[--json]\n");
            return 2;
        }
    }
    if (!path || seconds <= 0 || nthreads < 1 || nthreads > 1024) {
        fprintf(stderr, "storage_ceiling: --db FILE (a demo dataset) is required\n");
        return 2;
    }
    struct world w;
    memset(&w, 0, sizeof w);
    werr e = {0};
    if (store_open(path, &w.st, &e) != WOK) {
        fprintf(stderr, "storage_ceiling: %s\n", e.message);
        return 1;
    }
    if (load_world(&w) != WOK)
        return 1;
    /* the locate index and the catalogue are built once, before timing, as
     * in a server that has been running */
    locate_result lr;
    locate_point(w.st, w.pts[0], w.pts[1], &lr, &e);
    store_stats s0, s1;
    store_get_stats(w.st, &s0);
    struct worker *k = calloc((size_t)nthreads, sizeof *k);
    pthread_t *th = calloc((size_t)nthreads, sizeof *th);
    if (!k || !th)
        return 1;
    double t0 = now_s();
    w.until = t0 + seconds;
    for (int i = 0; i < nthreads; i++) {
        k[i] = (struct worker){&w, i, 0, NULL, 0};
        pthread_create(&th[i], NULL, work, &k[i]);
    }
    for (int i = 0; i < nthreads; i++)
        pthread_join(th[i], NULL);
    double wall = now_s() - t0;
    store_get_stats(w.st, &s1);
    long total = 0;
    for (int i = 0; i < nthreads; i++)
        total += k[i].done;
    double *all = malloc(sizeof *all * (size_t)(total + 1));
    long n = 0;
    for (int i = 0; i < nthreads; i++) {
        memcpy(all + n, k[i].lat_ms, sizeof *all * (size_t)k[i].done);
        n += k[i].done;
        free(k[i].lat_ms);
    }
    qsort(all, (size_t)n, sizeof *all, cmp_d);
    double p50 = n ? all[n / 2] : 0, p99 = n ? all[(long)((double)(n - 1) * 0.99)] : 0;
    uint64_t jobs = s1.write_jobs - s0.write_jobs, batches = s1.write_batches - s0.write_batches;
    double rps = (double)total / wall;
    if (json)
        printf("{\"ceiling_reports_per_s\":%.0f,\"reports\":%ld,\"seconds\":%.2f,\"threads\":%d,"
               "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"jobs_per_batch\":%.1f,\"writer_busy_pct\":%.0f,"
               "\"errors\":%ld}\n",
               rps, total, wall, nthreads, p50, p99, batches ? (double)jobs / (double)batches : 0,
               100.0 * (double)(s1.write_ns - s0.write_ns) / (wall * 1e9), atomic_load(&w.errors));
    else
        printf("storage ceiling: %.0f reports/s (%ld in %.1f s, %d threads in-process), p50 %.2f "
               "ms, p99 %.2f ms, %.1f jobs per group commit, %ld errors\n",
               rps, total, wall, nthreads, p50, p99, batches ? (double)jobs / (double)batches : 0,
               atomic_load(&w.errors));
    free(all);
    free(k);
    free(th);
    free(w.pts);
    free(w.cats);
    locate_forget(w.st);
    store_close(w.st);
    return total > 0 && atomic_load(&w.errors) == 0 ? 0 : 1;
}
