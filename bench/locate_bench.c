/*
 * locate_bench — what locating a point costs with 100 and with 100,000
 * grids (issue 3: "costs about the same"). For each size it builds, in a
 * temporary database, a county tiled by quad grids under blocks (three
 * levels, as the demo), then times locate_point() — the function the work
 * order path calls on every report — on the same number of random points
 * inside the county, single-threaded and from several threads at once.
 *
 *   locate_bench [--dir DIR] [--points N] [--threads T] [--sizes 100,100000]
 *
 * Prints one JSON object: the machine's latency of a dependent load from
 * cache and from memory; per size the grids built, the time to build the
 * index (first call), ns per locate (median of 5 rounds of back-to-back
 * calls: the index of 100 grids then sits in the L1 cache, the one of
 * 100,000 cannot), the threaded throughput, how many points were found
 * (all should be), ns per locate "in a report" (caches refilled with other
 * data before each call, as a server's request does) and how many memory
 * latencies the size adds over the smallest; then both ratios of the
 * largest to the smallest size's cost.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "grid_impl.h"
#include "locate.h"
#include "store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct build {
    int cells_x, cells_y, blocks_x, blocks_y; /* cells per block side = cells / blocks */
    double x0, y0, w, h;
    int made;
};

static void corner(const struct build *b, int i, int j, double *x, double *y)
{
    double dx = b->w / b->cells_x, dy = b->h / b->cells_y;
    *x = b->x0 + i * dx;
    *y = b->y0 + j * dy;
    if (i > 0 && i < b->cells_x && j > 0 && j < b->cells_y) { /* quads, not rectangles */
        uint32_t hsh = (uint32_t)(i * 2654435761u) ^ (uint32_t)(j * 40503u);
        *x += ((double)(hsh % 1000) / 1000 - 0.5) * 0.3 * dx;
        *y += ((double)((hsh / 1000) % 1000) / 1000 - 0.5) * 0.3 * dy;
    }
}

static char *ring(const struct build *b, int i0, int j0, int i1, int j1, double bb[4])
{
    size_t cap = (size_t)(2 * (i1 - i0 + j1 - j0) + 2) * 48 + 64;
    char *s = malloc(cap), *p = s;
    p += sprintf(p, "{\"type\":\"Polygon\",\"coordinates\":[[");
    bb[0] = bb[1] = 1e9, bb[2] = bb[3] = -1e9;
    int first = 1;
#define PT(I, J)                                                                                   \
    do {                                                                                           \
        double x, y;                                                                               \
        corner(b, I, J, &x, &y);                                                                   \
        p += sprintf(p, "%s[%.7f,%.7f]", first ? "" : ",", x, y);                                  \
        first = 0;                                                                                 \
        bb[0] = fmin(bb[0], y), bb[1] = fmin(bb[1], x), bb[2] = fmax(bb[2], y), bb[3] = fmax(bb[3], x); \
    } while (0)
    for (int i = i0; i < i1; i++) PT(i, j0);
    for (int j = j0; j < j1; j++) PT(i1, j);
    for (int i = i1; i > i0; i--) PT(i, j1);
    for (int j = j1; j >= j0; j--) PT(i0, j);
#undef PT
    sprintf(p, "]]}");
    return s;
}

static int add(db *d, struct build *b, const char *code, int64_t parent, int depth, int i0, int j0,
               int i1, int j1, int64_t *id)
{
    double bb[4];
    char *g = ring(b, i0, j0, i1, j1, bb);
    grid_row r = {code, parent, depth, code, "other", g, bb[0], bb[1], bb[2], bb[3], 0, NULL, NULL, 0, 0};
    int rc = grid_insert_row(d, &r, id);
    free(g);
    b->made++;
    return rc;
}

static int build_tx(db *d, void *arg)
{
    struct build *b = arg;
    db_exec(d, "DELETE FROM grid_levels", "");
    db_exec(d, "INSERT INTO grid_levels (depth, name, label_zh, code_width) VALUES "
               "(0, 'county', '县', 6), (1, 'block', '片', 3), (2, 'grid', '网格', 4)", "");
    int64_t county, block, cell;
    int rc = add(d, b, "511423", 0, 0, 0, 0, b->cells_x, b->cells_y, &county);
    int bw = b->cells_x / b->blocks_x, bh = b->cells_y / b->blocks_y;
    for (int by = 0; rc == WOK && by < b->blocks_y; by++)
        for (int bx = 0; rc == WOK && bx < b->blocks_x; bx++) {
            char code[32];
            snprintf(code, sizeof code, "511423%03d", by * b->blocks_x + bx + 1);
            rc = add(d, b, code, county, 1, bx * bw, by * bh, (bx + 1) * bw, (by + 1) * bh, &block);
            int n = 0;
            for (int cy = 0; rc == WOK && cy < bh; cy++)
                for (int cx = 0; rc == WOK && cx < bw; cx++) {
                    char cc[64];
                    snprintf(cc, sizeof cc, "%.20s%04d", code, (++n) % 10000);
                    int i = bx * bw + cx, j = by * bh + cy;
                    rc = add(d, b, cc, block, 2, i, j, i + 1, j + 1, &cell);
                }
        }
    return rc == WOK ? grid_bump_generation(d) : rc;
}

struct worker {
    store *st;
    const double *pts;
    int n;
    long found, depth_sum;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    locate_result r;
    werr e;
    for (int i = 0; i < w->n; i++)
        if (locate_point(w->st, w->pts[2 * i], w->pts[2 * i + 1], &r, &e) == WOK)
            w->found++, w->depth_sum += r.depth;
    return NULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ns per dependent load (a pointer chase in random order) over a buffer
 * of `bytes`: the machine's cache or memory latency, to read the locate
 * figures against. */
static double chase_ns(size_t bytes)
{
    size_t n = bytes / 64;
    size_t *a = malloc(n * 64), *perm = malloc(n * sizeof *perm);
    if (!a || !perm) {
        free(a);
        free(perm);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        perm[i] = i;
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    for (size_t i = n - 1; i > 0; i--) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        size_t j = (size_t)(s % (i + 1)), t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    for (size_t i = 0; i < n; i++)
        a[perm[i] * 8] = perm[(i + 1) % n] * 8;
    size_t p = 0;
    long steps = 2000000;
    for (long i = 0; i < steps / 10; i++) /* warm up */
        p = a[p];
    double t0 = now_s();
    for (long i = 0; i < steps; i++)
        p = a[p];
    double ns = (now_s() - t0) * 1e9 / (double)steps;
    if (p == (size_t)-1) /* keep the chase */
        puts("");
    free(a);
    free(perm);
    return ns;
}

/* A locate as one step of a report: before each point, the CPU caches are
 * refilled with other data (a streaming pass over `junk`, as a request's
 * own SQLite pages, JSON and buffers would), and only the locate is timed.
 * Median ns over the points. */
static double cold_ns(store *st, const double *pts, int n, char *junk, size_t junk_size)
{
    double *t = malloc(sizeof *t * (size_t)n);
    locate_result r;
    werr e;
    volatile char sink = 0;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < junk_size; k += 64)
            junk[k]++;
        sink += junk[(size_t)i * 64 % junk_size];
        double a = now_s();
        locate_point(st, pts[2 * i], pts[2 * i + 1], &r, &e);
        t[i] = (now_s() - a) * 1e9;
    }
    (void)sink;
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    double med = t[n / 2];
    free(t);
    return med;
}


int main(int argc, char **argv)
{
    const char *dir = NULL, *sizes = "100,100000";
    int npoints = 200000, nthreads = 4;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--dir") && i + 1 < argc) dir = argv[++i];
        else if (!strcmp(argv[i], "--points") && i + 1 < argc) npoints = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) nthreads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--sizes") && i + 1 < argc) sizes = argv[++i];
        else {
            fprintf(stderr, "usage: locate_bench [--dir DIR] [--points N] [--threads T] "
                            "[--sizes 100,100000]\n");
            return 2;
        }
    }
    if (npoints < 1000) npoints = 1000;
    if (nthreads < 1 || nthreads > 64) nthreads = 4;
    char tmpl[] = "/tmp/whistle-locate-XXXXXX";
    char base[256];
    if (dir)
        snprintf(base, sizeof base, "%s", dir);
    else if (mkdtemp(tmpl))
        snprintf(base, sizeof base, "%s", tmpl);
    else {
        perror("mkdtemp");
        return 1;
    }
    /* the machine's latencies, to read the figures against */
    double l1_ns = chase_ns(16 << 10), mem_ns = chase_ns((size_t)256 << 20);
    size_t junk_size = (size_t)32 << 20;
    char *junk = calloc(1, junk_size);
    if (!junk)
        return 1;
    int ncold = npoints < 5000 ? npoints : 5000;
    printf("{\"benchmark\":\"locate\",\"points\":%d,\"threads\":%d,"
           "\"cache_ns_per_dependent_load\":%.1f,\"memory_ns_per_dependent_load\":%.1f,"
           "\"cases\":[",
           npoints, nthreads, l1_ns, mem_ns);
    double first_ns = 0, last_ns = 0, first_cold = 0, last_cold = 0;
    int ncase = 0;
    char *list = strdup(sizes);
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","), ncase++) {
        int want = atoi(tok);
        if (want < 4) want = 4;
        /* a grid of about `want` cells, in blocks of about 1/100 of them */
        int side = (int)ceil(sqrt((double)want));
        int blocks = side >= 40 ? 10 : 2;
        side = (side + blocks - 1) / blocks * blocks;
        struct build b = {side, (want + side - 1) / side, blocks, 1, 103.4, 29.7, 0.8, 0.6, 0};
        b.cells_y = (b.cells_y + blocks - 1) / blocks * blocks;
        b.blocks_y = blocks;
        char path[400];
        snprintf(path, sizeof path, "%s/locate-%d.db", base, want);
        unlink(path);
        store *st = NULL;
        werr e = {0};
        if (store_open(path, &st, &e) != WOK) {
            fprintf(stderr, "locate_bench: %s\n", e.message);
            return 1;
        }
        double t0 = now_s();
        if (store_write(st, build_tx, &b) != WOK) {
            fprintf(stderr, "locate_bench: cannot build %d grids\n", want);
            return 1;
        }
        double t1 = now_s();
        long indexed = locate_indexed_count(st); /* builds the index */
        double t2 = now_s();
        long ig = 0, buckets = 0;
        double cpb = 0;
        locate_index_info(st, &ig, &cpb, &buckets);
        double *pts = malloc(sizeof(double) * 2 * (size_t)npoints);
        uint64_t s = 88172645463325252ULL;
        for (int i = 0; i < npoints; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            pts[2 * i] = b.y0 + b.h * (double)(s % 1000003) / 1000003.0;
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            pts[2 * i + 1] = b.x0 + b.w * (double)(s % 1000003) / 1000003.0;
        }
        double rounds[5];
        long found = 0, depth_sum = 0;
        for (int r = 0; r < 5; r++) {
            struct worker w = {st, pts, npoints, 0, 0};
            double a = now_s();
            work(&w);
            rounds[r] = (now_s() - a) * 1e9 / npoints;
            found = w.found, depth_sum = w.depth_sum;
        }
        qsort(rounds, 5, sizeof rounds[0], cmp_d);
        double cold = cold_ns(st, pts, ncold, junk, junk_size);
        pthread_t th[64];
        struct worker ws[64];
        double a = now_s();
        for (int t = 0; t < nthreads; t++) {
            ws[t] = (struct worker){st, pts, npoints, 0, 0};
            pthread_create(&th[t], NULL, work, &ws[t]);
        }
        for (int t = 0; t < nthreads; t++)
            pthread_join(th[t], NULL);
        double mt = now_s() - a;
        printf("%s{\"grids\":%d,\"indexed\":%ld,\"insert_s\":%.3f,\"index_build_ms\":%.1f,"
               "\"ns_per_locate\":%.0f,\"ns_per_locate_min\":%.0f,\"found\":%ld,\"mean_depth\":%.2f,"
               "\"threaded_locates_per_s\":%.0f,\"buckets\":%ld,\"candidates_per_bucket\":%.2f,"
               "\"ns_per_locate_in_report\":%.0f,\"extra_memory_latencies\":%.2f}",
               ncase ? "," : "", b.made, indexed, t1 - t0, (t2 - t1) * 1e3, rounds[2], rounds[0],
               found, found ? (double)depth_sum / found : 0, (double)npoints * nthreads / mt,
               buckets, cpb, cold, ncase && mem_ns > 0 ? (rounds[2] - first_ns) / mem_ns : 0);
        if (ncase == 0)
            first_ns = rounds[2], first_cold = cold;
        last_ns = rounds[2], last_cold = cold;
        free(pts);
        locate_forget(st);
        store_close(st);
        unlink(path);
        char aux[420];
        snprintf(aux, sizeof aux, "%s-wal", path);
        unlink(aux);
        snprintf(aux, sizeof aux, "%s-shm", path);
        unlink(aux);
    }
    free(list);
    free(junk);
    printf("],\"cost_ratio_largest_to_smallest\":%.2f,\"in_report_cost_ratio\":%.2f}\n",
           first_ns > 0 ? last_ns / first_ns : 0, first_cold > 0 ? last_cold / first_cold : 0);
    if (!dir)
        rmdir(base);
    return 0;
}
