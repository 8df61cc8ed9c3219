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
    /* a rectangle said to be covered (the locate index then skips the
     * polygon test): every corner, edge midpoint and the centre inside */
    for (int i = 0; i + 1 < g->npts && i < 16; i++) {
        double ax = g->pts[2 * i], ay = g->pts[2 * i + 1], bx = cx, by = cy;
        double x0 = ax < bx ? ax : bx, x1 = ax < bx ? bx : ax;
        double y0 = ay < by ? ay : by, y1 = ay < by ? by : ay;
        for (int shrink = 0; shrink < 4; shrink++) {
            if (geo_covers_rect(g, x0, y0, x1, y1, 1 << 20)) {
                double xs[3] = {x0, (x0 + x1) / 2, x1}, ys[3] = {y0, (y0 + y1) / 2, y1};
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++)
                        if (!geo_contains(g, ys[b], xs[a]))
                            abort();
            }
            /* towards the centre */
            x0 = (x0 + cx) / 2, x1 = (x1 + cx) / 2, y0 = (y0 + cy) / 2, y1 = (y1 + cy) / 2;
        }
    }
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
