/*
 * geo.c — GeoJSON polygons and the half-open point-in-polygon test
 * (see geo.h for the boundary rule).
 */
#include "geo.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void geo_free(geo_shape *g)
{
    free(g); /* one block: the struct, then the points, then the offsets */
}

/* The shape and its arrays in one allocation (one cache-friendly block,
 * one free): doubles first for alignment. */
static geo_shape *shape_alloc(int npolys, int nrings, long npts)
{
    size_t sz = sizeof(geo_shape) + sizeof(double) * 2 * (size_t)npts +
                sizeof(int) * (size_t)(npolys + 1) + sizeof(int) * (size_t)(nrings + 1);
    geo_shape *g = calloc(1, sz);
    if (!g)
        return NULL;
    g->pts = (double *)(g + 1);
    g->poly_ring = (int *)(g->pts + 2 * npts);
    g->ring_start = g->poly_ring + npolys + 1;
    return g;
}

static void set_bbox(geo_shape *g)
{
    g->min_lng = g->max_lng = g->pts[0];
    g->min_lat = g->max_lat = g->pts[1];
    for (int i = 1; i < g->npts; i++) {
        double x = g->pts[2 * i], y = g->pts[2 * i + 1];
        if (x < g->min_lng)
            g->min_lng = x;
        if (x > g->max_lng)
            g->max_lng = x;
        if (y < g->min_lat)
            g->min_lat = y;
        if (y > g->max_lat)
            g->max_lat = y;
    }
}

static int bad(werr *e, const char *fmt, const char *where)
{
    return werr_set(e, W_EINVALID, "invalid_geometry", fmt, where);
}

/* Reads [lng, lat, ...] into x, y. */
static int read_position(const json_t *p, double *x, double *y, werr *e)
{
    if (!json_is_array(p) || json_array_size(p) < 2)
        return bad(e, "geometry: %s is not a [lng, lat] position", "a coordinate");
    const json_t *jx = json_array_get(p, 0), *jy = json_array_get(p, 1);
    if (!json_is_number(jx) || !json_is_number(jy))
        return bad(e, "geometry: %s is not a number", "a coordinate");
    *x = json_number_value(jx);
    *y = json_number_value(jy);
    if (!isfinite(*x) || !isfinite(*y) || *x < -180 || *x > 180 || *y < -90 || *y > 90)
        return bad(e, "geometry: %s is out of range (lng -180..180, lat -90..90)", "a coordinate");
    return WOK;
}

/* Counts rings and points of one polygon's coordinates, checking shape. */
static int count_polygon(const json_t *poly, int *nrings, long *npts, werr *e)
{
    if (!json_is_array(poly) || json_array_size(poly) < 1)
        return bad(e, "geometry: %s must be a non-empty array of rings", "a polygon");
    size_t i;
    const json_t *ring;
    json_array_foreach(poly, i, ring)
    {
        if (!json_is_array(ring) || json_array_size(ring) < 3)
            return bad(e, "geometry: %s needs at least 4 positions (closed)", "a ring");
        (*nrings)++;
        *npts += (long)json_array_size(ring) + 1; /* room to close it */
        if (*nrings > GEO_MAX_RINGS || *npts > GEO_MAX_POINTS)
            return bad(e, "geometry: %s has too many rings or points", "the shape");
    }
    return WOK;
}

static int fill_polygon(geo_shape *g, const json_t *poly, werr *e)
{
    g->poly_ring[g->npolys] = g->nrings;
    size_t i;
    const json_t *ring;
    json_array_foreach(poly, i, ring)
    {
        int start = g->npts;
        g->ring_start[g->nrings] = start;
        size_t j;
        const json_t *p;
        json_array_foreach(ring, j, p)
        {
            double x = 0, y = 0;
            if (read_position(p, &x, &y, e) != WOK)
                return W_EINVALID;
            g->pts[2 * g->npts] = x;
            g->pts[2 * g->npts + 1] = y;
            g->npts++;
        }
        int n = g->npts - start;
        double *first = &g->pts[2 * start], *last = &g->pts[2 * (g->npts - 1)];
        if (first[0] != last[0] || first[1] != last[1]) { /* close it */
            g->pts[2 * g->npts] = first[0];
            g->pts[2 * g->npts + 1] = first[1];
            g->npts++;
            n++;
        }
        if (n < 4)
            return bad(e, "geometry: %s needs at least 3 distinct positions", "a ring");
        g->nrings++;
        g->ring_start[g->nrings] = g->npts;
    }
    g->npolys++;
    g->poly_ring[g->npolys] = g->nrings;
    return WOK;
}

int geo_parse(const json_t *geom, geo_shape **out, werr *e)
{
    *out = NULL;
    if (!json_is_object(geom))
        return bad(e, "geometry: %s must be a GeoJSON object", "the geometry");
    const char *type = json_string_value(json_object_get(geom, "type"));
    const json_t *coords = json_object_get(geom, "coordinates");
    int multi;
    if (type && strcmp(type, "Polygon") == 0)
        multi = 0;
    else if (type && strcmp(type, "MultiPolygon") == 0)
        multi = 1;
    else
        return bad(e, "geometry: %s must be Polygon or MultiPolygon", "type");
    if (!json_is_array(coords) || json_array_size(coords) < 1)
        return bad(e, "geometry: %s must be a non-empty array", "coordinates");
    int npolys = 0, nrings = 0;
    long npts = 0;
    if (multi) {
        size_t i;
        const json_t *poly;
        json_array_foreach(coords, i, poly)
        {
            if (count_polygon(poly, &nrings, &npts, e) != WOK)
                return W_EINVALID;
            npolys++;
        }
    } else {
        if (count_polygon(coords, &nrings, &npts, e) != WOK)
            return W_EINVALID;
        npolys = 1;
    }
    geo_shape *g = shape_alloc(npolys, nrings, npts);
    if (!g)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    g->poly_ring[0] = 0;
    g->ring_start[0] = 0;
    int rc = WOK;
    if (multi) {
        size_t i;
        const json_t *poly;
        json_array_foreach(coords, i, poly)
        {
            if ((rc = fill_polygon(g, poly, e)) != WOK)
                break;
        }
    } else {
        rc = fill_polygon(g, coords, e);
    }
    if (rc != WOK) {
        geo_free(g);
        return rc;
    }
    set_bbox(g);
    *out = g;
    return WOK;
}

/* ---- the fast text path ---------------------------------------------------
 * The locate index parses every stored polygon when it is (re)built; with
 * 100,000 grids, jansson plus glibc's strtod take seconds. This scanner
 * reads the common case — ASCII JSON without escapes, numbers short enough
 * for an exactly rounded conversion (Clinger's fast path: an integer below
 * 2^53 times or divided by an exact power of ten) — and gives up (returns 0)
 * on anything else, so that the jansson path decides and words the error.
 * Whenever it succeeds its shape equals the jansson path's, bit for bit
 * (tests/fuzz/fuzz_geojson.c checks that). */

typedef struct fscan {
    const char *p, *end;
    int depth;
} fscan;

static void fws(fscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int fchar(fscan *s, char c)
{
    fws(s);
    if (s->p < s->end && *s->p == c) {
        s->p++;
        return 1;
    }
    return 0;
}

/* A string without escapes, control or non-ASCII characters. */
static int fstr(fscan *s, const char **str, size_t *len)
{
    fws(s);
    if (s->p >= s->end || *s->p != '"')
        return 0;
    const char *a = ++s->p;
    while (s->p < s->end && *s->p != '"') {
        unsigned char c = (unsigned char)*s->p;
        if (c < 0x20 || c == '\\' || c >= 0x80)
            return 0;
        s->p++;
    }
    if (s->p >= s->end)
        return 0;
    if (str)
        *str = a, *len = (size_t)(s->p - a);
    s->p++;
    return 1;
}

static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int fnum(fscan *s, double *out)
{
    fws(s);
    const char *p = s->p, *start = p, *end = s->end;
    int neg = 0, exact = 1, isint = 1, exp10 = 0;
    uint64_t m = 0;
    if (p < end && *p == '-')
        neg = 1, p++;
    if (p >= end || *p < '0' || *p > '9')
        return 0;
    if (*p == '0') {
        p++;
        if (p < end && *p >= '0' && *p <= '9')
            return 0; /* no leading zeros in JSON */
    } else {
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (m < 100000000000000000ULL)
                m = m * 10 + (uint64_t)(*p - '0');
            else
                exact = 0;
        }
    }
    if (p < end && *p == '.') {
        isint = 0;
        p++;
        if (p >= end || *p < '0' || *p > '9')
            return 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++) {
            if (m < 100000000000000000ULL)
                m = m * 10 + (uint64_t)(*p - '0'), exp10--;
            else
                exact = 0;
        }
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        isint = 0;
        p++;
        int eneg = 0, ev = 0;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p == '-', p++;
        if (p >= end || *p < '0' || *p > '9')
            return 0;
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (ev < 100000)
                ev = ev * 10 + (*p - '0');
        exp10 += eneg ? -ev : ev;
    }
    double v;
    if (exact && m < (1ULL << 53) && exp10 >= -22 && exp10 <= 22) {
        v = exp10 < 0 ? (double)m / pow10_exact[-exp10] : (double)m * pow10_exact[exp10];
        if (neg)
            v = -v;
    } else {
        char buf[64];
        size_t n = (size_t)(p - start);
        if (n >= sizeof buf || isint)
            return 0; /* long integers: jansson's integer rules decide */
        memcpy(buf, start, n);
        buf[n] = '\0';
        v = strtod(buf, NULL);
        if (!isfinite(v))
            return 0; /* overflow: jansson refuses it, with its own words */
    }
    if (isint && v == 0)
        v = 0.0; /* "-0" is the integer 0 for jansson */
    s->p = p;
    *out = v;
    return 1;
}

/* Skips (and checks) any JSON value. */
static int fskip(fscan *s)
{
    fws(s);
    if (s->p >= s->end)
        return 0;
    char c = *s->p;
    if (c == '"')
        return fstr(s, NULL, NULL);
    if (c == '{' || c == '[') {
        if (++s->depth > 32)
            return 0;
        s->p++;
        char close = c == '{' ? '}' : ']';
        if (!fchar(s, close)) {
            do {
                if (c == '{' && (!fstr(s, NULL, NULL) || !fchar(s, ':')))
                    return 0;
                if (!fskip(s))
                    return 0;
            } while (fchar(s, ','));
            if (!fchar(s, close))
                return 0;
        }
        s->depth--;
        return 1;
    }
    static const char *const lits[] = {"true", "false", "null"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i]);
        if ((size_t)(s->end - s->p) >= n && memcmp(s->p, lits[i], n) == 0) {
            s->p += n;
            return 1;
        }
    }
    double d;
    return fnum(s, &d);
}

/* One ring: counts (g NULL) or fills positions; gives up on anything the
 * jansson path would refuse. */
static int fring(fscan *s, geo_shape *g, int *nrings, long *npts)
{
    if (!fchar(s, '['))
        return 0;
    int start = g ? g->npts : 0, n = 0;
    do {
        double x, y, z;
        if (!fchar(s, '[') || !fnum(s, &x) || !fchar(s, ',') || !fnum(s, &y))
            return 0;
        while (fchar(s, ','))
            if (!fnum(s, &z))
                return 0;
        if (!fchar(s, ']'))
            return 0;
        if (!isfinite(x) || !isfinite(y) || x < -180 || x > 180 || y < -90 || y > 90)
            return 0;
        if (g) {
            g->pts[2 * g->npts] = x;
            g->pts[2 * g->npts + 1] = y;
            g->npts++;
        }
        n++;
    } while (fchar(s, ','));
    if (!fchar(s, ']') || n < 3)
        return 0;
    (*nrings)++;
    *npts += n + 1;
    if (*nrings > GEO_MAX_RINGS || *npts > GEO_MAX_POINTS)
        return 0;
    if (g) {
        g->ring_start[g->nrings] = start;
        double *first = &g->pts[2 * start], *last = &g->pts[2 * (g->npts - 1)];
        if (first[0] != last[0] || first[1] != last[1]) {
            g->pts[2 * g->npts] = first[0];
            g->pts[2 * g->npts + 1] = first[1];
            g->npts++;
            n++;
        }
        if (n < 4)
            return 0;
        g->nrings++;
        g->ring_start[g->nrings] = g->npts;
    }
    return 1;
}

static int fpolygon(fscan *s, geo_shape *g, int *npolys, int *nrings, long *npts)
{
    if (!fchar(s, '['))
        return 0;
    if (g)
        g->poly_ring[g->npolys] = g->nrings;
    do {
        if (!fring(s, g, nrings, npts))
            return 0;
    } while (fchar(s, ','));
    if (!fchar(s, ']'))
        return 0;
    (*npolys)++;
    if (g) {
        g->npolys++;
        g->poly_ring[g->npolys] = g->nrings;
    }
    return 1;
}

static int fcoords(const char *p, const char *end, int multi, geo_shape *g, int *npolys,
                   int *nrings, long *npts)
{
    fscan s = {p, end, 0};
    *npolys = *nrings = 0;
    *npts = 0;
    if (!multi)
        return fpolygon(&s, g, npolys, nrings, npts);
    if (!fchar(&s, '['))
        return 0;
    do {
        if (!fpolygon(&s, g, npolys, nrings, npts))
            return 0;
    } while (fchar(&s, ','));
    return fchar(&s, ']');
}

static int fast_parse(const char *text, size_t len, geo_shape **out)
{
    fscan s = {text, text + len, 0};
    const char *type = NULL, *coords = NULL, *key;
    size_t tlen = 0, klen;
    if (!fchar(&s, '{'))
        return 0;
    do {
        if (!fstr(&s, &key, &klen) || !fchar(&s, ':'))
            return 0;
        if (klen == 4 && memcmp(key, "type", 4) == 0) {
            if (!fstr(&s, &type, &tlen))
                return 0;
        } else {
            fws(&s);
            if (klen == 11 && memcmp(key, "coordinates", 11) == 0)
                coords = s.p;
            if (!fskip(&s))
                return 0;
        }
    } while (fchar(&s, ','));
    if (!fchar(&s, '}'))
        return 0;
    fws(&s);
    if (s.p != s.end || !type || !coords)
        return 0;
    int multi;
    if (tlen == 7 && memcmp(type, "Polygon", 7) == 0)
        multi = 0;
    else if (tlen == 12 && memcmp(type, "MultiPolygon", 12) == 0)
        multi = 1;
    else
        return 0;
    int npolys, nrings;
    long npts;
    if (!fcoords(coords, s.end, multi, NULL, &npolys, &nrings, &npts))
        return 0;
    geo_shape *g = shape_alloc(npolys, nrings, npts);
    if (!g)
        return 0;
    int p2, r2;
    long n2;
    if (!fcoords(coords, s.end, multi, g, &p2, &r2, &n2)) {
        geo_free(g);
        return 0;
    }
    set_bbox(g);
    *out = g;
    return 1;
}

int geo_parse_text(const char *text, size_t len, geo_shape **out, werr *e)
{
    *out = NULL;
    if (fast_parse(text, len, out) == 1)
        return WOK;
    json_error_t je;
    json_t *j = json_loadb(text, len, 0, &je);
    if (!j)
        return werr_set(e, W_EINVALID, "invalid_geometry", "geometry: not JSON (%s)", je.text);
    int rc = geo_parse(j, out, e);
    json_decref(j);
    return rc;
}

int geo_bbox_contains(const geo_shape *g, double lat, double lng)
{
    return lng >= g->min_lng && lng <= g->max_lng && lat >= g->min_lat && lat <= g->max_lat;
}

/* Crossing test of the eastward ray from (x, y) with every edge of rings
 * [r0, r1): even-odd. Each edge is taken lower endpoint first, so the same
 * edge gives the same answer in every polygon that has it; an edge counts
 * when y is in [lower.y, upper.y) and the point is strictly west of it. */
static int rings_contain(const geo_shape *g, int r0, int r1, double x, double y)
{
    int inside = 0;
    for (int r = r0; r < r1; r++) {
        const double *p = &g->pts[2 * g->ring_start[r]];
        int n = g->ring_start[r + 1] - g->ring_start[r];
        for (int i = 0; i + 1 < n; i++) {
            double ax = p[2 * i], ay = p[2 * i + 1], bx = p[2 * i + 2], by = p[2 * i + 3];
            if (ay > by || (ay == by && ax > bx)) {
                double t = ax;
                ax = bx;
                bx = t;
                t = ay;
                ay = by;
                by = t;
            }
            if (!(ay <= y && y < by))
                continue;
            double cross = (bx - ax) * (y - ay) - (x - ax) * (by - ay);
            if (cross > 0)
                inside = !inside;
        }
    }
    return inside;
}

int geo_contains(const geo_shape *g, double lat, double lng)
{
    if (!g || !geo_bbox_contains(g, lat, lng))
        return 0;
    for (int p = 0; p < g->npolys; p++)
        if (rings_contain(g, g->poly_ring[p], g->poly_ring[p + 1], lng, lat))
            return 1;
    return 0;
}

int geo_covers_rect(const geo_shape *g, double x0, double y0, double x1, double y1, int max_edges)
{
    if (!g || x0 > x1 || y0 > y1 || g->npts - g->nrings > max_edges)
        return 0;
    if (x0 < g->min_lng || x1 > g->max_lng || y0 < g->min_lat || y1 > g->max_lat)
        return 0;
    /* an edge whose box meets the rectangle might cross it or run along
     * its border: no proof then */
    for (int r = 0; r < g->nrings; r++) {
        const double *p = &g->pts[2 * g->ring_start[r]];
        int n = g->ring_start[r + 1] - g->ring_start[r];
        for (int i = 0; i + 1 < n; i++) {
            double ax = p[2 * i], ay = p[2 * i + 1], bx = p[2 * i + 2], by = p[2 * i + 3];
            if (fmax(ax, bx) >= x0 && fmin(ax, bx) <= x1 && fmax(ay, by) >= y0 &&
                fmin(ay, by) <= y1)
                return 0;
        }
    }
    return geo_contains(g, (y0 + y1) / 2, (x0 + x1) / 2);
}

json_t *geo_to_json(const geo_shape *g)
{
    json_t *polys = json_array();
    for (int p = 0; p < g->npolys; p++) {
        json_t *poly = json_array();
        for (int r = g->poly_ring[p]; r < g->poly_ring[p + 1]; r++) {
            json_t *ring = json_array();
            for (int i = g->ring_start[r]; i < g->ring_start[r + 1]; i++)
                json_array_append_new(ring, json_pack("[f,f]", g->pts[2 * i], g->pts[2 * i + 1]));
            json_array_append_new(poly, ring);
        }
        json_array_append_new(polys, poly);
    }
    if (g->npolys == 1) {
        json_t *only = json_incref(json_array_get(polys, 0));
        json_decref(polys);
        return json_pack("{s:s, s:o}", "type", "Polygon", "coordinates", only);
    }
    return json_pack("{s:s, s:o}", "type", "MultiPolygon", "coordinates", polys);
}

double geo_area(const geo_shape *g)
{
    double total = 0;
    for (int p = 0; p < g->npolys; p++)
        for (int r = g->poly_ring[p]; r < g->poly_ring[p + 1]; r++) {
            const double *q = &g->pts[2 * g->ring_start[r]];
            int n = g->ring_start[r + 1] - g->ring_start[r];
            double a = 0;
            for (int i = 0; i + 1 < n; i++)
                a += q[2 * i] * q[2 * i + 3] - q[2 * i + 2] * q[2 * i + 1];
            a = fabs(a) / 2;
            total += r == g->poly_ring[p] ? a : -a;
        }
    return total;
}
