/*
 * geo — GeoJSON Polygon / MultiPolygon geometry (WGS84, [lng, lat] order as
 * GeoJSON says) and point-in-polygon with holes.
 *
 * Boundary rule (half-open, deterministic): a point exactly on an edge
 * shared by two polygons that tile the plane belongs to exactly one of
 * them, always the same one. Each edge is evaluated in a canonical
 * orientation (lower endpoint first), so both polygons sharing an edge
 * compute bit-identical results; a point on the edge counts as lying just
 * to the right of it (east) and just above it (north). For axis-aligned
 * tiles that means [west, east) × [south, north): a point on a shared
 * vertical edge belongs to the eastern tile, on a shared horizontal edge to
 * the northern one, and on the outermost east/north boundary to none.
 * Holes are rings 1.. of a polygon (even-odd rule inside the polygon).
 */
#ifndef WHISTLE_GEO_H
#define WHISTLE_GEO_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"

/* Limits that keep a hostile file from exhausting memory. */
#define GEO_MAX_POINTS 200000
#define GEO_MAX_RINGS 10000

typedef struct geo_shape {
    int npolys;
    int *poly_ring; /* npolys + 1 offsets into ring_start: rings of polygon p are
                       poly_ring[p] .. poly_ring[p+1]-1; the first is the outer ring */
    int nrings;
    int *ring_start; /* nrings + 1 offsets into pts (in points) */
    int npts;
    double *pts; /* lng, lat pairs; rings are closed (last point == first) */
    double min_lng, min_lat, max_lng, max_lat;
} geo_shape;

/* Parses a GeoJSON geometry object ({"type":"Polygon"|"MultiPolygon",
 * "coordinates":...}). Rings must have at least 4 positions and be closed
 * (an unclosed ring is closed for you); coordinates must be finite numbers
 * with lng in [-180, 180] and lat in [-90, 90]. Returns WOK and a new shape
 * (free with geo_free) or W_EINVALID with e saying what is wrong. */
int geo_parse(const json_t *geometry, geo_shape **out, werr *e);
/* Same, from JSON text. */
int geo_parse_text(const char *text, size_t len, geo_shape **out, werr *e);
void geo_free(geo_shape *g);

/* 1 when (lat, lng) lies in the shape under the half-open rule above. */
int geo_contains(const geo_shape *g, double lat, double lng);
/* 1 when (lat, lng) is inside the shape's bounding box (closed). */
int geo_bbox_contains(const geo_shape *g, double lat, double lng);

/* 1 when every point of the closed rectangle [x0, x1] × [y0, y1] (lng, lat)
 * lies inside the shape, so that geo_contains() is 1 anywhere in it; 0 when
 * it does not or when that is not cheap to prove (the answer may be 0 for a
 * covered rectangle, never 1 for one that is not). No edge of the shape may
 * come near the rectangle: then the whole rectangle is on one side of every
 * edge and its centre decides. Shapes of more than max_edges edges give 0. */
int geo_covers_rect(const geo_shape *g, double x0, double y0, double x1, double y1, int max_edges);

/* The shape as a compact GeoJSON geometry object (new reference). */
json_t *geo_to_json(const geo_shape *g);

/* Area in square degrees (shoelace; holes subtract). For sanity checks. */
double geo_area(const geo_shape *g);

#endif
