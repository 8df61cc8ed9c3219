-- 002 grid (网格): levels configured per deployment, and the grid tree.
-- Contract used by other modules: grids.id, grids.code (hierarchical: the
-- county's 6-digit division code, then fixed-width segments per level, so
-- that a subtree is a code prefix), grids.parent_id, grids.depth,
-- grids.name, grids.status ('active' | 'retired').

CREATE TABLE grid_levels (
    depth       INTEGER PRIMARY KEY,      -- 0 = the county itself
    name        TEXT NOT NULL,            -- "street"
    label_zh    TEXT NOT NULL,            -- "街道"
    code_width  INTEGER NOT NULL          -- digits this level adds to the code
);

CREATE TABLE grids (
    id          INTEGER PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    parent_id   INTEGER REFERENCES grids (id),
    depth       INTEGER NOT NULL,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'other',
    geometry    TEXT,                     -- GeoJSON Polygon or MultiPolygon (WGS84)
    min_lat     REAL, min_lng REAL, max_lat REAL, max_lng REAL,
    households  INTEGER NOT NULL DEFAULT 0,
    people      INTEGER NOT NULL DEFAULT 0,
    dept_id     INTEGER REFERENCES departments (id),  -- 包保单位
    status      TEXT NOT NULL DEFAULT 'active',       -- active | retired
    replaced_by TEXT,                     -- JSON array of the codes that replaced it
    retired_at  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX grids_parent ON grids (parent_id);
