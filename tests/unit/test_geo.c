/*
 * Unit tests for geo (GeoJSON polygons, point-in-polygon with holes and
 * multipolygons, the half-open edge rule) and for locate (the bucket index
 * over a store's grids).
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

#include "clock.h"
#include "geo.h"
#include "locate.h"
#include "store.h"

static geo_shape *parse(const char *text)
{
    geo_shape *g = NULL;
    werr e = {0};
    int rc = geo_parse_text(text, strlen(text), &g, &e);
    if (rc != WOK)
        fail_msg("parse failed: %s", e.message);
    return g;
}

static void expect_invalid(const char *text, const char *why)
{
    geo_shape *g = NULL;
    werr e = {0};
    int rc = geo_parse_text(text, strlen(text), &g, &e);
    if (rc != W_EINVALID)
        fail_msg("accepted bad geometry (%s): %s", why, text);
    assert_null(g);
    assert_string_equal(e.code, "invalid_geometry");
}

static void test_square(void **state)
{
    (void)state;
    /* GeoJSON order is [lng, lat] */
    geo_shape *g =
        parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}");
    assert_int_equal(g->npolys, 1);
    assert_int_equal(g->nrings, 1);
    assert_true(geo_contains(g, 5, 5));
    assert_false(geo_contains(g, 11, 5));
    assert_false(geo_contains(g, -0.001, 5));
    /* half-open: west and south edges in, east and north edges out */
    assert_true(geo_contains(g, 5, 0));   /* on the west edge (lng 0) */
    assert_true(geo_contains(g, 0, 5));   /* on the south edge (lat 0) */
    assert_false(geo_contains(g, 5, 10)); /* east edge */
    assert_false(geo_contains(g, 10, 5)); /* north edge */
    assert_true(geo_contains(g, 0, 0));   /* south-west corner */
    assert_false(geo_contains(g, 10, 10));
    assert_float_equal(geo_area(g), 100, 1e-9);
    geo_free(g);
}

static void test_unclosed_ring_and_orientation(void **state)
{
    (void)state;
    /* clockwise and not closed: closed for us, same answers */
    geo_shape *g = parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[0,10],[10,10],[10,0]]]}");
    assert_int_equal(g->npts, 5);
    assert_true(geo_contains(g, 5, 5));
    assert_true(geo_contains(g, 5, 0));
    assert_false(geo_contains(g, 5, 10));
    geo_free(g);
}

static void test_hole(void **state)
{
    (void)state;
    geo_shape *g = parse("{\"type\":\"Polygon\",\"coordinates\":["
                         "[[0,0],[10,0],[10,10],[0,10],[0,0]],"
                         "[[4,4],[6,4],[6,6],[4,6],[4,4]]]}");
    assert_int_equal(g->nrings, 2);
    assert_true(geo_contains(g, 2, 2));
    assert_false(geo_contains(g, 5, 5)); /* in the hole */
    assert_true(geo_contains(g, 5, 6.5));
    assert_float_equal(geo_area(g), 96, 1e-9);
    /* a polygon filling the hole exactly: every point of the hole's edge
     * belongs to exactly one of the two */
    geo_shape *in =
        parse("{\"type\":\"Polygon\",\"coordinates\":[[[4,4],[6,4],[6,6],[4,6],[4,4]]]}");
    for (int i = 0; i <= 20; i++) {
        double t = 4 + i * 0.1;
        double pts[4][2] = {{4, t}, {6, t}, {t, 4}, {t, 6}};
        for (int k = 0; k < 4; k++)
            assert_int_equal(
                geo_contains(g, pts[k][1], pts[k][0]) + geo_contains(in, pts[k][1], pts[k][0]), 1);
    }
    geo_free(in);
    geo_free(g);
}

static void test_multipolygon(void **state)
{
    (void)state;
    geo_shape *g = parse("{\"type\":\"MultiPolygon\",\"coordinates\":["
                         "[[[0,0],[1,0],[1,1],[0,1],[0,0]]],"
                         "[[[5,5],[8,5],[8,8],[5,8],[5,5]],[[6,6],[7,6],[7,7],[6,7],[6,6]]]]}");
    assert_int_equal(g->npolys, 2);
    assert_int_equal(g->nrings, 3);
    assert_true(geo_contains(g, 0.5, 0.5));
    assert_true(geo_contains(g, 5.5, 5.5));
    assert_false(geo_contains(g, 6.5, 6.5)); /* hole of the second polygon */
    assert_false(geo_contains(g, 3, 3));     /* between the two */
    json_t *j = geo_to_json(g);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "MultiPolygon");
    json_decref(j);
    geo_free(g);
}

/* Four tiles meeting at a point, and a slanted shared edge: every point on
 * a shared edge or vertex is in exactly one tile. */
static void test_shared_edges(void **state)
{
    (void)state;
    const char *tiles[4] = {
        "{\"type\":\"Polygon\",\"coordinates\":[[[103.8,30.0],[103.85,30.0],[103.85,30.05],[103.8,"
        "30.05],[103.8,30.0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[103.85,30.0],[103.9,30.0],[103.9,30.05],[103.85,"
        "30.05],[103.85,30.0]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[103.8,30.05],[103.85,30.05],[103.85,30.1],[103.8,"
        "30.1],[103.8,30.05]]]}",
        "{\"type\":\"Polygon\",\"coordinates\":[[[103.85,30.05],[103.9,30.05],[103.9,30.1],[103.85,"
        "30.1],[103.85,30.05]]]}",
    };
    geo_shape *g[4];
    for (int i = 0; i < 4; i++)
        g[i] = parse(tiles[i]);
    double probes[][2] = {{30.05, 103.85}, {30.02, 103.85}, {30.05, 103.83}, {30.0, 103.85},
                          {30.07, 103.85}, {30.05, 103.88}, {30.0, 103.8}};
    for (size_t p = 0; p < sizeof probes / sizeof probes[0]; p++) {
        int n = 0;
        for (int i = 0; i < 4; i++)
            n += geo_contains(g[i], probes[p][0], probes[p][1]);
        assert_int_equal(n, 1);
    }
    /* the centre vertex goes to the north-east tile */
    assert_true(geo_contains(g[3], 30.05, 103.85));
    for (int i = 0; i < 4; i++)
        geo_free(g[i]);

    /* two triangles sharing a slanted diagonal, listed in opposite
     * directions: points along the diagonal land in exactly one */
    geo_shape *a = parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[3,0],[3,7],[0,0]]]}");
    geo_shape *b = parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[3,7],[0,7],[0,0]]]}");
    for (int i = 1; i < 1000; i++) {
        double t = i / 1000.0;
        double lng = 3 * t, lat = 7 * t;
        assert_int_equal(geo_contains(a, lat, lng) + geo_contains(b, lat, lng), 1);
    }
    geo_free(a);
    geo_free(b);
}

static void test_invalid(void **state)
{
    (void)state;
    expect_invalid("{\"type\":\"Point\",\"coordinates\":[1,2]}", "point");
    expect_invalid("{\"type\":\"Polygon\"}", "no coordinates");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[]}", "empty");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,1]]]}", "two points");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,1],[0,0]]]}", "degenerate");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,\"x\"],[1,1],[0,0]]]}",
                   "string");
    expect_invalid("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[200,0],[1,1],[0,0]]]}", "range");
    expect_invalid("{\"type\":\"MultiPolygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,0]]]}",
                   "depth");
    expect_invalid("[1,2]", "not an object");
    expect_invalid("{\"type\":", "not json");
}

/* ---- locate over a store ---------------------------------------------- */

static char dir[256];

static int insert_grid(db *d, void *arg)
{
    const char **f = arg; /* code, depth, geometry */
    char when[32];
    clock_format(clock_now(), when);
    geo_shape *g = NULL;
    werr e = {0};
    if (geo_parse_text(f[2], strlen(f[2]), &g, &e) != WOK)
        return W_EINVALID;
    int rc = db_exec(d,
                     "INSERT INTO grids (code, depth, name, geometry, min_lat, min_lng, max_lat, "
                     "max_lng, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "titt"
                     "dddd"
                     "tt",
                     f[0], atoi(f[1]), f[0], f[2], g->min_lat, g->min_lng, g->max_lat, g->max_lng,
                     when, when);
    geo_free(g);
    if (rc == WOK)
        rc = db_exec(d, "UPDATE grid_meta SET generation = generation + 1 WHERE id = 1", "");
    return rc;
}

/* A fresh store in a new temporary directory (dir); close with
 * temp_store_close(). */
static store *temp_store_open(void)
{
    snprintf(dir, sizeof dir, "/tmp/whistle-unit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[300];
    snprintf(path, sizeof path, "%s/t.db", dir);
    store *st = NULL;
    werr e = {0};
    if (store_open(path, &st, &e) != WOK)
        fail_msg("store_open: %s", e.message);
    return st;
}

static void temp_store_close(store *st)
{
    locate_forget(st);
    store_close(st);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_locate(void **state)
{
    (void)state;
    store *st = temp_store_open();
    werr e = {0};
    locate_result r;
    assert_int_equal(locate_point(st, 30.0, 103.0, &r, &e), W_ENOTFOUND);
    assert_string_equal(e.code, "no_grid");
    assert_int_equal(locate_point(st, 91, 103.0, &r, &e), W_EINVALID);

    const char *county[] = {
        "511423", "0",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],[10,10],[0,10],[0,0]]]}"};
    /* a street with a hole (the string is split in two: one array element) */
    const char *west[] = {
        "511423001", "1",
        ("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[5,0],[5,10],[0,10],[0,0]]"
         ",[[1,1],[2,1],[2,2],[1,2],[1,1]]]}")};
    assert_int_equal(store_write(st, insert_grid, county), WOK);
    locate_invalidate(st);
    assert_int_equal(locate_point(st, 5, 7, &r, &e), WOK);
    assert_string_equal(r.code, "511423");
    assert_int_equal(store_write(st, insert_grid, west), WOK);
    locate_invalidate(st);
    assert_int_equal(locate_indexed_count(st), 2);
    assert_int_equal(locate_point(st, 5, 3, &r, &e), WOK);
    assert_string_equal(r.code, "511423001"); /* deepest */
    assert_int_equal(r.depth, 1);
    assert_int_equal(locate_point(st, 1.5, 1.5, &r, &e), WOK);
    assert_string_equal(r.code, "511423"); /* in the street's hole: the county */
    assert_int_equal(locate_point(st, 5, 5, &r, &e), WOK);
    assert_string_equal(r.code, "511423"); /* on the street's east edge */
    assert_int_equal(locate_point(st, 10, 5, &r, &e), W_ENOTFOUND);
    assert_int_equal(locate_point(st, -1, 5, &r, &e), W_ENOTFOUND);
    temp_store_close(st);
}

/* Property: on random data — a county with a hole, overlapping quads and
 * multipolygons, and a tiling of perturbed quads that share edges and
 * vertices — locate_point() answers exactly what a scan of every grid
 * (deepest first, then smallest code) answers, for random points, for
 * every vertex and for points on edges. Catches any bucket, filter or
 * covering shortcut that changes an answer. */
struct gridspec {
    char code[32];
    int depth;
    geo_shape *g;
};

static int insert_many(db *d, void *arg)
{
    char **rows = arg; /* code, depth, geometry triples, NULL-terminated */
    for (int i = 0; rows[i]; i += 3) {
        const char *f[3] = {rows[i], rows[i + 1], rows[i + 2]};
        int rc = insert_grid(d, (void *)f);
        if (rc != WOK)
            return rc;
    }
    return WOK;
}

static uint64_t prng(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    return (double)(prng(s) >> 11) / 9007199254740992.0;
}

static int cmp_spec(const void *a, const void *b)
{
    const struct gridspec *x = a, *y = b;
    if (x->depth != y->depth)
        return y->depth - x->depth;
    return strcmp(x->code, y->code);
}

static void check_point(store *st, const struct gridspec *sp, int n, double lat, double lng)
{
    const char *want = NULL;
    for (int i = 0; i < n && !want; i++)
        if (geo_contains(sp[i].g, lat, lng))
            want = sp[i].code;
    locate_result r;
    werr e = {0};
    int rc = locate_point(st, lat, lng, &r, &e);
    if (!want && rc != W_ENOTFOUND)
        fail_msg("(%.17g, %.17g): want no grid, got %s", lat, lng, rc == WOK ? r.code : e.code);
    if (want && (rc != WOK || strcmp(r.code, want) != 0))
        fail_msg("(%.17g, %.17g): want %s, got %s", lat, lng, want, rc == WOK ? r.code : e.code);
}

static void test_locate_matches_scan(void **state)
{
    (void)state;
    store *st = temp_store_open();
    enum { TX = 24, TY = 20, NQ = 150, MAXG = 1 + NQ + TX * TY };
    char **rows = calloc(3 * MAXG + 1, sizeof *rows);
    struct gridspec *sp = calloc(MAXG, sizeof *sp);
    assert_non_null(rows);
    assert_non_null(sp);
    int n = 0;
    uint64_t seed = 20261123;
    char buf[4096];
#define ADD(dep, fmt, ...)                                                                         \
    do {                                                                                           \
        snprintf(sp[n].code, sizeof sp[n].code, "511423%05d", n);                                  \
        sp[n].depth = dep;                                                                         \
        snprintf(buf, sizeof buf, fmt, __VA_ARGS__);                                               \
        sp[n].g = parse(buf);                                                                      \
        rows[3 * n] = strdup(sp[n].code);                                                          \
        rows[3 * n + 1] = strdup(#dep);                                                            \
        rows[3 * n + 2] = strdup(buf);                                                             \
        n++;                                                                                       \
    } while (0)
    /* the county: [0,12] x [0,10] with a hole */
    ADD(0, "%s",
        "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[12,0],[12,10],[0,10],[0,0]],"
        "[[5,5],[6.5,5],[6.5,6.25],[5,6.25],[5,5]]]}");
    /* overlapping quads and two-part multipolygons at depth 1 */
    for (int q = 0; q < NQ; q++) {
        double x = unif(&seed) * 11, y = unif(&seed) * 9, w = 0.05 + unif(&seed) * 1.5,
               h = 0.05 + unif(&seed) * 1.5;
        if (q % 5 == 0)
            ADD(1,
                "{\"type\":\"MultiPolygon\",\"coordinates\":[[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],"
                "[%.6f,%.6f]]],[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f]]]]}",
                x, y, x + w / 3, y, x + w / 3, y + h, x, y + h, x + w / 2, y, x + w, y, x + w,
                y + h / 2, x + w / 2, y + h);
        else
            ADD(1,
                "{\"type\":\"Polygon\",\"coordinates\":[[[%.6f,%.6f],[%.6f,%.6f],[%.6f,%.6f],"
                "[%.6f,%.6f]]]}",
                x, y, x + w, y + unif(&seed) * 0.2, x + w, y + h, x + unif(&seed) * 0.2, y + h);
    }
    /* a tiling of [1,11] x [1,9] by perturbed quads (shared edges) at depth 2 */
    double vx[TX + 1][TY + 1], vy[TX + 1][TY + 1];
    for (int i = 0; i <= TX; i++)
        for (int j = 0; j <= TY; j++) {
            int inner = i > 0 && i < TX && j > 0 && j < TY;
            vx[i][j] = 1 + 10.0 * i / TX + (inner ? (unif(&seed) - 0.5) * 0.15 : 0);
            vy[i][j] = 1 + 8.0 * j / TY + (inner ? (unif(&seed) - 0.5) * 0.15 : 0);
        }
    for (int i = 0; i < TX; i++)
        for (int j = 0; j < TY; j++)
            ADD(2,
                "{\"type\":\"Polygon\",\"coordinates\":[[[%.17g,%.17g],[%.17g,%.17g],"
                "[%.17g,%.17g],[%.17g,%.17g],[%.17g,%.17g]]]}",
                vx[i][j], vy[i][j], vx[i + 1][j], vy[i + 1][j], vx[i + 1][j + 1], vy[i + 1][j + 1],
                vx[i][j + 1], vy[i][j + 1], vx[i][j], vy[i][j]);
#undef ADD
    assert_int_equal(store_write(st, insert_many, rows), WOK);
    locate_invalidate(st);
    assert_int_equal(locate_indexed_count(st), n);
    /* the scan's order is the index's: deepest first, then by code */
    qsort(sp, (size_t)n, sizeof *sp, cmp_spec);
    for (int k = 0; k < 20000; k++)
        check_point(st, sp, n, -0.5 + unif(&seed) * 11, -0.5 + unif(&seed) * 13);
    for (int i = 0; i < n; i++) {
        const geo_shape *g = sp[i].g;
        for (int v = 0; v + 1 < g->npts; v++) {
            double ax = g->pts[2 * v], ay = g->pts[2 * v + 1];
            double bx = g->pts[2 * v + 2], by = g->pts[2 * v + 3];
            check_point(st, sp, n, ay, ax);
            check_point(st, sp, n, (ay + by) / 2, (ax + bx) / 2);
            check_point(st, sp, n, ay + (by - ay) / 3, ax + (bx - ax) / 3);
        }
    }
    temp_store_close(st);
    for (int i = 0; i < n; i++) {
        geo_free(sp[i].g);
        free(rows[3 * i]);
        free(rows[3 * i + 1]);
        free(rows[3 * i + 2]);
    }
    free(rows);
    free(sp);
}

/* A rectangle is covered only when no edge comes near it and it lies
 * inside; never when it straddles an edge or sits in a hole. */
static void test_covers_rect(void **state)
{
    (void)state;
    geo_shape *g = parse("{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[10,0],[10,10],[0,10],"
                         "[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}");
    assert_int_equal(geo_covers_rect(g, 1, 1, 2, 2, 100), 1);
    assert_int_equal(geo_covers_rect(g, 4.5, 4.5, 5, 5, 100), 0); /* in the hole */
    assert_int_equal(geo_covers_rect(g, 3, 3, 5, 5, 100), 0);     /* across the hole's edge */
    assert_int_equal(geo_covers_rect(g, 9, 1, 10, 2, 100), 0);    /* touches the outer edge */
    assert_int_equal(geo_covers_rect(g, 11, 1, 12, 2, 100), 0);   /* outside */
    assert_int_equal(geo_covers_rect(g, 1, 1, 2, 2, 7), 0);       /* too many edges to try */
    geo_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_square),       cmocka_unit_test(test_unclosed_ring_and_orientation),
        cmocka_unit_test(test_hole),         cmocka_unit_test(test_multipolygon),
        cmocka_unit_test(test_shared_edges), cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_locate),       cmocka_unit_test(test_locate_matches_scan),
        cmocka_unit_test(test_covers_rect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
