/*
 * grid_impl.h — internals shared by the grid module's own files (grid.c,
 * grid_io.c, demo_grid.c, card.c). Not a contract for other modules: use
 * grid.h.
 */
#ifndef WHISTLE_GRID_IMPL_H
#define WHISTLE_GRID_IMPL_H

#include "grid.h"

typedef struct grid_duty_in {
    const char *duty; /* key */
    int64_t user_id;
    const char *name, *phone;
} grid_duty_in;

/* Input checked and converted before the write transaction. */
typedef struct grid_prep {
    const char *kind;     /* key (static) */
    char *geometry;       /* normalised GeoJSON text, or NULL */
    int geometry_given;
    double min_lat, min_lng, max_lat, max_lng;
    grid_duty_in *duties;
    int nduties;
    int duties_given;
} grid_prep;

void grid_prep_free(grid_prep *p);
int grid_prep_geometry(const json_t *geometry, grid_prep *p, werr *e);
int grid_prep_duties(const json_t *arr, grid_prep *p, werr *e);

typedef struct grid_row {
    const char *code;
    int64_t parent_id; /* 0: none */
    int depth;
    const char *name, *kind, *geometry;
    double min_lat, min_lng, max_lat, max_lng;
    int64_t dept_id; /* 0: none */
    const char *replaces, *note;
    int households, people;
} grid_row;

/* Inside a write transaction. W_ECONFLICT when the code exists. */
int grid_insert_row(db *d, const grid_row *r, int64_t *id);
int grid_write_duties(db *d, int64_t grid_id, const grid_prep *p, werr *e);
int grid_resolve_dept(db *d, int64_t dept_id, const char *dept_code, int64_t *out, werr *e);
/* Marks the locate index of every process stale (same transaction). */
int grid_bump_generation(db *d);
/* Depth of a code under the levels, or -1 if it fits none. */
int grid_code_depth(const grid_level *lv, int n, const char *code);
int grid_scope_range(const principal *who, char lo[64], char hi[66]);

#endif
