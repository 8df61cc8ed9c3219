#include "metrics.h"

#include <stdatomic.h>

#include "router.h"

#define MAX_ROUTES 512
static const int statuses[] = {200, 201, 202, 204, 304, 400, 401, 403, 404, 405,
                               409, 413, 415, 422, 429, 500, 503, 0};
#define NSTATUS ((int)(sizeof statuses / sizeof statuses[0]))
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NBUCKETS ((int)(sizeof buckets / sizeof buckets[0]))

/* index MAX_ROUTES (last) counts requests that matched no route */
static _Atomic uint64_t count[MAX_ROUTES + 1][NSTATUS];
static _Atomic uint64_t hist[MAX_ROUTES + 1][NBUCKETS];
static _Atomic uint64_t dur_sum_ns[MAX_ROUTES + 1];
static _Atomic uint64_t dur_count[MAX_ROUTES + 1];
static _Atomic int open_conns;
static _Atomic uint64_t lane_requests;

void metrics_request(int route_index, int status, int64_t duration_ns)
{
    int r = (route_index >= 0 && route_index < MAX_ROUTES) ? route_index : MAX_ROUTES;
    int si = NSTATUS - 1;
    for (int i = 0; i < NSTATUS - 1; i++)
        if (statuses[i] == status)
            si = i;
    atomic_fetch_add_explicit(&count[r][si], 1, memory_order_relaxed);
    double secs = (double)duration_ns / 1e9;
    for (int b = 0; b < NBUCKETS; b++)
        if (secs <= buckets[b]) {
            atomic_fetch_add_explicit(&hist[r][b], 1, memory_order_relaxed);
            break;
        }
    atomic_fetch_add_explicit(&dur_sum_ns[r], (uint64_t)duration_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&dur_count[r], 1, memory_order_relaxed);
}

void metrics_connection(int delta)
{
    atomic_fetch_add(&open_conns, delta);
}

void metrics_priority_lane(void)
{
    atomic_fetch_add(&lane_requests, 1);
}

unsigned metrics_open_connections(void)
{
    int n = atomic_load(&open_conns);
    return n > 0 ? (unsigned)n : 0;
}

static void route_label(wbuf *b, int r)
{
    if (r == MAX_ROUTES || r >= routes_count)
        wbuf_puts(b, "method=\"\",route=\"unmatched\"");
    else
        wbuf_printf(b, "method=\"%s\",route=\"%s\"", routes[r].method, routes[r].pattern);
}

void metrics_render(wbuf *b, store *st)
{
    wbuf_puts(b, "# HELP whistle_http_requests_total HTTP requests by route and status.\n"
                 "# TYPE whistle_http_requests_total counter\n");
    for (int r = 0; r <= MAX_ROUTES; r++) {
        if (r < MAX_ROUTES && r >= routes_count)
            continue;
        for (int s = 0; s < NSTATUS; s++) {
            uint64_t v = atomic_load_explicit(&count[r][s], memory_order_relaxed);
            if (!v)
                continue;
            wbuf_puts(b, "whistle_http_requests_total{");
            route_label(b, r);
            if (statuses[s])
                wbuf_printf(b, ",status=\"%d\"} %llu\n", statuses[s], (unsigned long long)v);
            else
                wbuf_printf(b, ",status=\"other\"} %llu\n", (unsigned long long)v);
        }
    }
    wbuf_puts(b, "# HELP whistle_http_request_duration_seconds Request latency by route.\n"
                 "# TYPE whistle_http_request_duration_seconds histogram\n");
    for (int r = 0; r <= MAX_ROUTES; r++) {
        if (r < MAX_ROUTES && r >= routes_count)
            continue;
        uint64_t n = atomic_load_explicit(&dur_count[r], memory_order_relaxed);
        if (!n)
            continue;
        uint64_t cum = 0;
        for (int k = 0; k < NBUCKETS; k++) {
            cum += atomic_load_explicit(&hist[r][k], memory_order_relaxed);
            wbuf_puts(b, "whistle_http_request_duration_seconds_bucket{");
            route_label(b, r);
            wbuf_printf(b, ",le=\"%g\"} %llu\n", buckets[k], (unsigned long long)cum);
        }
        wbuf_puts(b, "whistle_http_request_duration_seconds_bucket{");
        route_label(b, r);
        wbuf_printf(b, ",le=\"+Inf\"} %llu\n", (unsigned long long)n);
        wbuf_puts(b, "whistle_http_request_duration_seconds_sum{");
        route_label(b, r);
        wbuf_printf(b, "} %.6f\n",
                    (double)atomic_load_explicit(&dur_sum_ns[r], memory_order_relaxed) / 1e9);
        wbuf_puts(b, "whistle_http_request_duration_seconds_count{");
        route_label(b, r);
        wbuf_printf(b, "} %llu\n", (unsigned long long)n);
    }
    wbuf_printf(b, "# HELP whistle_http_open_connections Open HTTP connections.\n"
                   "# TYPE whistle_http_open_connections gauge\n"
                   "whistle_http_open_connections %u\n", metrics_open_connections());
    wbuf_printf(b,
                "# HELP whistle_http_priority_lane_requests_total Requests answered on the "
                "priority lane (leaders' screens, at the process's own priority).\n"
                "# TYPE whistle_http_priority_lane_requests_total counter\n"
                "whistle_http_priority_lane_requests_total %llu\n",
                (unsigned long long)atomic_load(&lane_requests));
    if (st) {
        store_stats ss;
        store_get_stats(st, &ss);
        wbuf_printf(b,
                    "# HELP whistle_db_write_seconds_total Time spent in write transactions.\n"
                    "# TYPE whistle_db_write_seconds_total counter\n"
                    "whistle_db_write_seconds_total %.6f\n"
                    "# HELP whistle_db_write_jobs_total Write jobs committed.\n"
                    "# TYPE whistle_db_write_jobs_total counter\n"
                    "whistle_db_write_jobs_total %llu\n"
                    "# HELP whistle_db_write_batches_total Group commits (fsyncs).\n"
                    "# TYPE whistle_db_write_batches_total counter\n"
                    "whistle_db_write_batches_total %llu\n"
                    "# HELP whistle_db_reads_total Read connections checked out.\n"
                    "# TYPE whistle_db_reads_total counter\n"
                    "whistle_db_reads_total %llu\n"
                    "# HELP whistle_db_full_scans_total Statement runs that read 100,000 rows "
                    "or more of a table without an index (each statement is also logged once).\n"
                    "# TYPE whistle_db_full_scans_total counter\n"
                    "whistle_db_full_scans_total %llu\n",
                    (double)ss.write_ns / 1e9, (unsigned long long)ss.write_jobs,
                    (unsigned long long)ss.write_batches, (unsigned long long)ss.reads,
                    (unsigned long long)ss.full_scans);
    }
}
