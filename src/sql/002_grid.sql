-- 002 grid (网格): levels configured per deployment, and the grid tree.
-- Contract used by other modules: grids.id, grids.code (hierarchical: the
-- county's 6-digit division code, then fixed-width segments per level, so
-- that a subtree is a code prefix), grids.parent_id, grids.depth,
-- grids.name, grids.kind, grids.status ('active' | 'retired').
-- A grid is never deleted: split, merge and retire set status 'retired'
-- and record what replaced it, so that work orders filed under it keep
-- pointing at a real row.

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
    replaces    TEXT,                     -- JSON array of the codes it replaced
    retired_at  TEXT,
    retire_reason TEXT,
    note        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX grids_parent ON grids (parent_id);
CREATE INDEX grids_depth ON grids (depth, status);
CREATE INDEX grids_dept ON grids (dept_id);

-- The people in charge of a grid, by duty (网格长, 网格员, 微网格长, 楼栋长,
-- 单元长, 党员中心户). Either an account (user_id) or a name and phone for
-- someone without one. A person may hold several duties and grids.
CREATE TABLE grid_duties (
    id          INTEGER PRIMARY KEY,
    grid_id     INTEGER NOT NULL REFERENCES grids (id),
    duty        TEXT NOT NULL,            -- grid_head | grid_worker | micro_head | ...
    user_id     INTEGER REFERENCES users (id),
    name        TEXT,
    phone       TEXT,
    position    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX grid_duties_grid ON grid_duties (grid_id, position);
CREATE INDEX grid_duties_user ON grid_duties (user_id);

-- One row: a stamp that changes (to a new random value) in the same
-- transaction as every grid write, so that the in-memory locate index of
-- any process can tell that it is stale.
CREATE TABLE grid_meta (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO grid_meta (id, generation) VALUES (1, 1);
