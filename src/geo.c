/*
 * geo.c — GeoJSON polygons and the half-open point-in-polygon test
 * (see geo.h for the boundary rule).
 */
#include "geo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void geo_free(geo_shape *g)
{
    if (!g)
        return;
    free(g->poly_ring);
    free(g->ring_start);
    free(g->pts);
    free(g);
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
    geo_shape *g = calloc(1, sizeof *g);
    if (!g)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    g->poly_ring = malloc(sizeof(int) * (size_t)(npolys + 1));
    g->ring_start = malloc(sizeof(int) * (size_t)(nrings + 1));
    g->pts = malloc(sizeof(double) * 2 * (size_t)npts);
    if (!g->poly_ring || !g->ring_start || !g->pts) {
        geo_free(g);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
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
    g->min_lng = g->max_lng = g->pts[0];
    g->min_lat = g->max_lat = g->pts[1];
    for (int i = 1; i < g->npts; i++) {
        double x = g->pts[2 * i], y = g->pts[2 * i + 1];
        if (x < g->min_lng) g->min_lng = x;
        if (x > g->max_lng) g->max_lng = x;
        if (y < g->min_lat) g->min_lat = y;
        if (y > g->max_lat) g->max_lat = y;
    }
    *out = g;
    return WOK;
}

int geo_parse_text(const char *text, size_t len, geo_shape **out, werr *e)
{
    *out = NULL;
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
                double t = ax; ax = bx; bx = t;
                t = ay; ay = by; by = t;
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
