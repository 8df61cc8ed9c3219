/* libFuzzer: the GeoJSON polygon parser and point-in-polygon (geo.h).
 * Differential: geo_parse_text (a fast scanner that falls back to jansson)
 * must accept exactly what geo_parse on jansson's tree accepts, with the
 * same points bit for bit; and the point tests must not crash or misbehave. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "geo.h"

static void same(const geo_shape *a, const geo_shape *b)
{
    if (a->npolys != b->npolys || a->nrings != b->nrings || a->npts != b->npts)
        abort();
    if (memcmp(a->pts, b->pts, sizeof(double) * 2 * (size_t)a->npts) != 0 ||
        memcmp(a->ring_start, b->ring_start, sizeof(int) * (size_t)(a->nrings + 1)) != 0 ||
        memcmp(a->poly_ring, b->poly_ring, sizeof(int) * (size_t)(a->npolys + 1)) != 0)
        abort();
    if (a->min_lat != b->min_lat || a->max_lat != b->max_lat || a->min_lng != b->min_lng ||
        a->max_lng != b->max_lng)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    geo_shape *g = NULL, *ref = NULL;
    werr e = {0}, re = {0};
    int rc = geo_parse_text((const char *)data, size, &g, &e);
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    int rrc = j ? geo_parse(j, &ref, &re) : W_EINVALID;
    json_decref(j);
    if (rc != rrc || (rc == WOK) != (g != NULL))
        abort();
    if (rc != WOK) {
        geo_free(ref);
        return 0;
    }
    same(g, ref);
    geo_free(ref);
    /* the shape's own vertices, its box corners and centre: any answer is
     * fine, but no crash, no UB, and never inside without the box */
    double cx = (g->min_lng + g->max_lng) / 2, cy = (g->min_lat + g->max_lat) / 2;
    if (geo_contains(g, cy, cx) && !geo_bbox_contains(g, cy, cx))
        abort();
    for (int i = 0; i < g->npts && i < 64; i++)
        geo_contains(g, g->pts[2 * i + 1], g->pts[2 * i]);
    geo_contains(g, g->min_lat, g->min_lng);
    geo_contains(g, g->max_lat, g->max_lng);
    (void)geo_area(g);
    /* round trip through the normalised form */
    json_t *o = geo_to_json(g);
    char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    geo_shape *h = NULL;
    if (!s || geo_parse_text(s, strlen(s), &h, &e) != WOK)
        abort();
    same(g, h);
    free(s);
    geo_free(h);
    geo_free(g);
    return 0;
}
