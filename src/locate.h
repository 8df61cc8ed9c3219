/*
 * locate — latitude/longitude → the deepest active grid whose polygon
 * contains the point (SPEC §2 "Locate"). Runs on every report, so it never
 * scans the grid table: an in-memory bucket index over the grids' bounding
 * boxes is built once per store and rebuilt only when the grids change.
 *
 * CONTRACT for other modules (work orders, reports, Open311):
 *
 *   locate_result g;
 *   werr e = {0};
 *   int rc = locate_point(st, lat, lng, &g, &e);
 *   if (rc == WOK)            → g.grid_id / g.code / g.name / g.depth
 *   else if (rc == W_ENOTFOUND) → e.code "no_grid": the point lies in no grid
 *   else                      → W_EINVALID (lat/lng out of range or not finite)
 *                               or W_EINTERNAL
 *
 * - Thread-safe, callable from any thread, concurrently, without locking
 *   the store: readers share an immutable snapshot of the index (reference
 *   counted); a rebuild swaps in a new snapshot.
 * - Cost is independent of the number of grids (a hash of the point into a
 *   uniform bucket grid, then exact point-in-polygon on the few candidates).
 * - Only ACTIVE grids with a polygon take part. A retired grid is never the
 *   answer; orders already filed under it keep its id (grid.h).
 * - Deepest wins: if a street, a community and a micro-grid all contain the
 *   point, the micro-grid is returned. Among equally deep grids that both
 *   contain the point (overlapping data), the smallest code wins, so the
 *   answer is the same every time.
 * - Points on an edge shared by two tiling polygons belong to exactly one of
 *   them (half-open rule, geo.h): the same point always gives the same grid.
 * - Freshness: grid writes made through grid.c in this process are seen by
 *   the next call. Writes made by another process (e.g. `whistle import
 *   grids` while a server runs) are seen within about one second (the index
 *   checks the generation stamp in grid_meta at most once a second).
 * - May be called inside a store_write() fn (it reads through its own
 *   reader connection), but prefer calling it before store_write so that the
 *   single writer is not kept waiting on a first-time index build.
 */
#ifndef WHISTLE_LOCATE_H
#define WHISTLE_LOCATE_H

#include <stdint.h>

#include "err.h"
#include "store.h"

typedef struct locate_result {
    int64_t grid_id;  /* grids.id */
    char code[64];    /* grids.code, e.g. "511423001002003004" */
    char name[256];   /* grids.name (UTF-8) */
    int depth;        /* grids.depth (0 = the county) */
} locate_result;

/* The deepest active grid containing (lat, lng) in WGS84 degrees.
 * WOK, W_ENOTFOUND (e->code "no_grid"), W_EINVALID or W_EINTERNAL. */
int locate_point(store *st, double lat, double lng, locate_result *out, werr *e);

/* Tells the process-wide locator of st that grids changed, so the next
 * locate_point() rebuilds its index. grid.c calls it after every grid write;
 * call it yourself only if you write to grids outside grid.c. */
void locate_invalidate(store *st);

/* Number of grids in the current index of st (builds it if needed); -1 on
 * error. For health pages and the benchmark. */
long locate_indexed_count(store *st);

/* The shape of the index (for the benchmark): grids indexed, buckets, and
 * the mean number of candidates per bucket (the work of one query, which
 * should not grow with the number of grids). */
int locate_index_info(store *st, long *grids, double *cands_per_bucket, long *buckets);

/* Frees the locator of st, if any. Call before store_close(st) when the same
 * process may open another store at the same address (unit tests, bench). */
void locate_forget(store *st);

#endif
