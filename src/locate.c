/* locate.c — placeholder until the index lands (see locate.h for the contract). */
#include "locate.h"

#include <math.h>

int locate_point(store *st, double lat, double lng, locate_result *out, werr *e)
{
    (void)st;
    (void)out;
    if (!isfinite(lat) || !isfinite(lng) || lat < -90 || lat > 90 || lng < -180 || lng > 180)
        return werr_set(e, W_EINVALID, "invalid_field", "lat/lng: out of range");
    return werr_set(e, W_ENOTFOUND, "no_grid", "no grid contains this point");
}

void locate_invalidate(store *st) { (void)st; }
long locate_indexed_count(store *st) { (void)st; return 0; }
void locate_forget(store *st) { (void)st; }
