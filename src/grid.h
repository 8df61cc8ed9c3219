/*
 * grid — the grid tree (网格, SPEC §2): levels configured per deployment,
 * hierarchical codes, kinds, polygons, the people in charge by duty and the
 * 包保单位, and split / merge / retire without losing history.
 *
 * Codes: the county's 6-digit administrative division code (depth 0), then
 * one fixed-width run of digits per level (grid_levels.code_width), so
 * that a code's length gives its depth, its prefix gives its parent, and a
 * subtree is a code range. Codes are never reused: a retired grid keeps
 * its row, its id and its code; work orders filed under it still point to
 * it; `replaced_by` lists the codes that took over, and the new grids list
 * the old ones in `replaces`.
 *
 * Scope: readers pass the caller's principal (NULL = everything, for the
 * CLI and in-process callers). SCOPE_GRID sees its subtree only; SCOPE_ALL
 * and SCOPE_DEPT see the whole tree (grid names and the staff in charge
 * are not personal data; departments need them to find an order's place);
 * SCOPE_SELF sees nothing.
 *
 * Every write goes through store_write with an audit entry, bumps the
 * grid_meta generation in the same transaction and then tells the locate
 * index (locate.h) to refresh.
 */
#ifndef WHISTLE_GRID_H
#define WHISTLE_GRID_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "perm.h"
#include "store.h"
#include "wbuf.h"

#define GRID_MAX_LEVELS 10
#define GRID_CODE_MAX 63

/* ---- vocabularies ------------------------------------------------------ */

/* Kinds: residential (住宅小区), rural (林盘/散居院落), shops (沿街商铺),
 * scenic (景区), institution (机关企事业单位), park (园区), other (其他).
 * grid_kind_parse accepts the key or the Chinese label; NULL if unknown. */
const char *grid_kind_parse(const char *s);
const char *grid_kind_label(const char *key);
/* Duties: grid_head 网格长, grid_worker 网格员, micro_head 微网格长,
 * building_head 楼栋长, unit_head 单元长, party_household 党员中心户. */
const char *grid_duty_parse(const char *s);
const char *grid_duty_label(const char *key);
extern const char *const grid_duty_keys[]; /* NULL-terminated */

/* ---- levels ------------------------------------------------------------ */

typedef struct grid_level {
    int depth;
    char name[40];
    char label_zh[40];
    int code_width;
    int code_len; /* total code length at this depth */
} grid_level;

/* Reads the levels (at most GRID_MAX_LEVELS); returns how many (0: none). */
int grid_levels_load(db *d, grid_level *lv);
/* {items:[{depth,name,label_zh,code_width,code_length,grids}]} */
int grid_levels_get(db *d, json_t **out, werr *e);
/* Replaces the levels with `levels` (array of {name, label_zh, code_width};
 * element i is depth i; depth 0 is the county, width 6). A level that has
 * grids may be renamed but not re-widthed or removed (409 level_in_use). */
int grid_levels_set(store *st, const audit_actor *a, const json_t *levels, werr *e);

/* ---- writes ------------------------------------------------------------ */

typedef struct grid_input {
    const char *code;        /* create: full code, or NULL for the next free code
                                under parent_code */
    const char *parent_code; /* create: NULL only for the county (depth 0) */
    const char *name;        /* 1–64 chars */
    const char *kind;        /* key or label; NULL: other (create) / unchanged */
    const json_t *geometry;  /* GeoJSON Polygon/MultiPolygon; JSON null clears (update) */
    int geometry_given;      /* update: 1 when geometry is part of the change */
    int64_t dept_id;         /* 包保单位; 0: none / unchanged */
    const char *dept_code;   /* alternative to dept_id */
    int dept_clear;          /* update: 1 to remove the 包保单位 */
    const json_t *duties;    /* array of {duty, user_id | name+phone}; replaces all */
    const char *note;
} grid_input;

int grid_create(store *st, const audit_actor *a, const grid_input *in, char code_out[64],
                werr *e);
/* Changes name, kind, geometry, 包保单位, duties, note of an active grid. */
int grid_update(store *st, const audit_actor *a, const char *code, const grid_input *in,
                werr *e);
/* Retires an active grid. With active children: 409 has_active_children
 * unless cascade (then the whole active subtree is retired). replaced_by
 * (array of codes, may be NULL) is recorded as what took over. */
int grid_retire(store *st, const audit_actor *a, const char *code, const char *reason,
                const json_t *replaced_by, int cascade, werr *e);
/* Splits an active grid into parts (array of {code?, name, kind?, geometry?,
 * dept_id?, duties?, children?: [codes of the old grid's active children]}),
 * created as siblings of the old grid. Every active child of the old grid
 * must be given to exactly one part; it moves there (re-created with a new
 * code under the part, the old child retired with replaced_by). The old
 * grid is retired with replaced_by = the parts. *result: {retired, created}. */
int grid_split(store *st, const audit_actor *a, const char *code, const json_t *parts,
               const char *reason, json_t **result, werr *e);
/* Merges code and others (array of codes; all active siblings) into one
 * new sibling grid described by into (name required; code optional); the
 * active children of every source move under it. */
int grid_merge(store *st, const audit_actor *a, const char *code, const json_t *others,
               const grid_input *into, const char *reason, json_t **result, werr *e);

/* ---- reads (scope applied; who NULL = everything) ---------------------- */

int grid_visible(const principal *who, const char *code);
int grid_get(db *d, const principal *who, const char *code, int with_geometry, json_t **out,
             werr *e);
typedef struct grid_list_query {
    const char *parent; /* children of this code; NULL: the roots of the caller's scope */
    int tree;           /* 1: the whole subtree below parent (flat, ordered by code) */
    int max_depth;      /* with tree: deepest depth to include; -1: all */
    const char *status; /* "active" (default), "retired" or "all" */
    const char *q;      /* name contains */
    int limit;          /* default 1000, at most 20000 */
} grid_list_query;
int grid_list(db *d, const principal *who, const grid_list_query *q, json_t **out, werr *e);
/* A FeatureCollection of the polygons in scope (properties: code, name, kind,
 * depth, parent_code, status), under parent (NULL: all), at depth (-1: all). */
int grid_geojson(db *d, const principal *who, const char *parent, int depth, int limit,
                 wbuf *out, werr *e);
/* For the resident page's picker: active children of parent (NULL: roots),
 * code, name, depth and has_children only. */
int grid_public_children(db *d, const char *parent, json_t **out, werr *e);
/* id of a grid by code (any status); W_ENOTFOUND if none. */
int grid_id_by_code(db *d, const char *code, int64_t *id);
/* [{code, name, depth, level}] from the county down to code (inclusive). */
json_t *grid_path(db *d, const char *code);
/* The people in charge of a grid (duties joined with users). */
json_t *grid_duties_json(db *d, int64_t grid_id);

/* ---- resolve (grid_resolve.c) ------------------------------------------- */

/* The active grid that stands for grid_id today: itself when active, else
 * what replaced it (followed while the replacement is a single grid; after a
 * split into several, the parent). For registry rows and reports that still
 * point at a retired grid (work orders keep the old one on purpose). */
int grid_current(db *d, int64_t grid_id, int64_t *active_id);

/* An address to its grid through the registry's households: by the address
 * parts (compound/building/unit/room, normalised as the registry does), by
 * the whole address, or by part of it (3+ characters; when the matching
 * households lie in several grids, their deepest common grid, with
 * "ambiguous": true and the candidates). *out: {grid:{id,code,name,depth,
 * path}, matched, exact, matches[, ambiguous, candidates]}. W_ENOTFOUND
 * ("no_grid") when nothing matches. Not scoped: callers filter. */
typedef struct grid_resolve_input {
    const char *address; /* free text */
    const char *street, *compound, *building, *unit, *room;
} grid_resolve_input;
int grid_resolve_address(db *d, const grid_resolve_input *in, json_t **out, werr *e);

/* ---- import / export (grid_io.c) ---------------------------------------- */

/* Imports grids from GeoJSON (a FeatureCollection whose features have
 * properties code, name, kind, parent_code, dept_code, and a Polygon or
 * MultiPolygon geometry) or CSV (header: code, name, kind, parent_code,
 * dept_code, geometry (GeoJSON text), note; Chinese headers such as 编码,
 * 名称, 类型, 上级编码, 包保单位 accepted; UTF-8 with or without BOM, or
 * GB18030). format: "geojson", "csv" or NULL to detect. Every bad row or
 * feature is reported with its number and reason; then nothing is
 * written. Otherwise, unless dry_run, every row is written in one
 * transaction (new codes created, existing active codes updated).
 * *report: {format, dry_run, rows, created, updated, errors:[{line|feature,
 * code, message}], committed}. Returns WOK (even with bad rows: look at
 * report.errors), or W_EINVALID when the file cannot be read at all. */
int grid_import(store *st, const audit_actor *a, const char *data, size_t len,
                const char *format, int dry_run, json_t **report, werr *e);
/* Exports the grids in scope (status "active" or "all") as CSV (the same
 * columns the import reads) or GeoJSON. */
int grid_export(db *d, const principal *who, const char *format, const char *status, wbuf *out,
                werr *e);

/* CLI: `whistle import grids FILE [--dry-run] [--format csv|geojson]` and
 * `whistle export grids [--format csv|geojson] [--out FILE]`; argv starts
 * after the kind ("grids"). */
int grid_cli_import(int argc, char **argv);
int grid_cli_export(int argc, char **argv);

/* ---- demo (demo_grid.c) -------------------------------------------------- */

/* The demo county 示范县 (511423): levels 县 → 街道 → 社区 → 网格 → 微网格,
 * quad polygons tiling lng 103.80–103.90, lat 30.00–30.10 (small: 3 streets
 * × 3 communities × 4 grids × 4 micro-grids), with people in charge and
 * 包保单位 from the demo departments. scale: small, county (~2,600
 * micro-grids) or city (~108,000 grids). Called by `whistle demo` after the
 * departments exist. The demo account "gridworker" is scoped to grid
 * 511423001001001, "community" to 511423001001. */
int demo_grids(store *st, const audit_actor *a, unsigned seed, const char *scale, werr *e);

#endif
