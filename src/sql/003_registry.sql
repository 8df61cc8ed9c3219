-- 003 registry (基础信息) and roster (花名册). SPEC §3.
-- Field sets follow GB/T 31000 (社会治安综合治理基础数据规范) where they fit;
-- docs/registry.md has the mapping.
--
-- Privacy: ID numbers (公民身份号码) and phones of people are never stored in
-- clear. *_enc is XChaCha20-Poly1305 (nonce || ciphertext) under the vault key
-- kept outside the database (vault.h); *_hash is a keyed BLAKE2b of the
-- normalised value for exact lookup; *_mask is the masked form shown to
-- anyone without the right to the full value (it reveals nothing more).

-- Households (户) and their address down to building/unit/room. addr_key is
-- the normalised address, the natural key for imports.
CREATE TABLE households (
    id            INTEGER PRIMARY KEY,
    grid_id       INTEGER REFERENCES grids (id),
    addr_key      TEXT NOT NULL UNIQUE,
    street        TEXT,                  -- 街路巷 / 门牌 (详址)
    compound      TEXT,                  -- 小区 / 院落 / 村组
    building      TEXT,                  -- 楼栋
    unit          TEXT,                  -- 单元
    room          TEXT,                  -- 房号 / 门牌号
    address       TEXT NOT NULL,         -- the whole address, for display and search
    kind          TEXT NOT NULL DEFAULT 'resident', -- resident | rental | vacant | collective
    head_name     TEXT,                  -- 户主姓名
    note          TEXT,
    last_visit_at TEXT,                  -- RFC 3339, the latest 入户走访
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX households_grid ON households (grid_id, id);
CREATE INDEX households_building ON households (compound, building, unit, room);
CREATE INDEX households_visit ON households (last_visit_at);

-- Substring search over addresses (FTS5 trigram; queries of 3+ characters).
CREATE VIRTUAL TABLE households_fts USING fts5 (address, content='households',
    content_rowid='id', tokenize='trigram');
CREATE TRIGGER households_fts_ai AFTER INSERT ON households BEGIN
    INSERT INTO households_fts (rowid, address) VALUES (new.id, new.address);
END;
CREATE TRIGGER households_fts_ad AFTER DELETE ON households BEGIN
    INSERT INTO households_fts (households_fts, rowid, address) VALUES ('delete', old.id, old.address);
END;
CREATE TRIGGER households_fts_au AFTER UPDATE OF address ON households BEGIN
    INSERT INTO households_fts (households_fts, rowid, address) VALUES ('delete', old.id, old.address);
    INSERT INTO households_fts (rowid, address) VALUES (new.id, new.address);
END;

-- People (实有人口): registered (户籍) and floating (流动).
CREATE TABLE people (
    id            INTEGER PRIMARY KEY,
    household_id  INTEGER REFERENCES households (id),
    grid_id       INTEGER REFERENCES grids (id),   -- copied from the household
    name          TEXT NOT NULL,
    gender        TEXT,                  -- M | F
    birth_date    TEXT,                  -- YYYY-MM-DD
    id_enc        BLOB,
    id_hash       BLOB UNIQUE,
    id_mask       TEXT,
    phone_enc     BLOB,
    phone_hash    BLOB,
    phone_mask    TEXT,
    residence     TEXT NOT NULL DEFAULT 'registered', -- registered | floating | overseas
    relation      TEXT,                  -- 与户主关系
    ethnicity     TEXT,                  -- 民族
    political     TEXT,                  -- 政治面貌
    hukou_address TEXT,                  -- 户籍地址
    workplace     TEXT,                  -- 服务处所
    tags          TEXT NOT NULL DEFAULT '', -- care tags, comma separated (person_tags is the index)
    status        TEXT NOT NULL DEFAULT 'active', -- active | moved_out | deceased
    note          TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX people_name ON people (name, id);
CREATE INDEX people_phone ON people (phone_hash);
CREATE INDEX people_grid ON people (grid_id, id);
CREATE INDEX people_household ON people (household_id);

-- Care tags (关爱标签): 独居老人, 残疾人, 低保, 特殊人群 … drive visits.
CREATE TABLE person_tags (
    person_id INTEGER NOT NULL REFERENCES people (id),
    tag       TEXT NOT NULL,
    PRIMARY KEY (tag, person_id)
);
CREATE INDEX person_tags_person ON person_tags (person_id);

-- Household visits (入户走访).
CREATE TABLE visits (
    id           INTEGER PRIMARY KEY,
    household_id INTEGER NOT NULL REFERENCES households (id),
    person_id    INTEGER REFERENCES people (id),
    visitor_id   INTEGER REFERENCES users (id),
    visitor_name TEXT NOT NULL,
    visited_at   TEXT NOT NULL,
    findings     TEXT NOT NULL,
    needs        TEXT,                    -- what the household asked for
    created_at   TEXT NOT NULL
);
CREATE INDEX visits_household ON visits (household_id, visited_at);

-- Buildings and houses (实有房屋 / 楼栋).
CREATE TABLE buildings (
    id         INTEGER PRIMARY KEY,
    code       TEXT UNIQUE,
    grid_id    INTEGER REFERENCES grids (id),
    compound   TEXT,
    name       TEXT NOT NULL,          -- 楼栋号 / 房屋名称
    address    TEXT,
    purpose    TEXT,                   -- 房屋用途: residential | commercial | mixed | office | other
    structure  TEXT,                   -- 建筑结构
    floors     INTEGER,
    units      INTEGER,
    households INTEGER,
    built_year INTEGER,
    owner      TEXT,                   -- 产权单位 / 物业
    lat        REAL,
    lng        REAL,
    note       TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX buildings_grid ON buildings (grid_id, id);

-- Organisations (学校, 医院, 机关, 社会组织).
CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    code        TEXT UNIQUE,           -- 统一社会信用代码 or a local code
    grid_id     INTEGER REFERENCES grids (id),
    name        TEXT NOT NULL,
    kind        TEXT,                  -- school | hospital | office | social | religious | other
    address     TEXT,
    contact     TEXT,                  -- 负责人
    phone       TEXT,                  -- the organisation's public phone
    staff_count INTEGER,
    lat         REAL,
    lng         REAL,
    note        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX organisations_grid ON organisations (grid_id, id);
CREATE INDEX organisations_name ON organisations (name);

-- Enterprises, shops and individual businesses (企业, 商铺, 个体工商户).
CREATE TABLE enterprises (
    id          INTEGER PRIMARY KEY,
    code        TEXT UNIQUE,           -- 统一社会信用代码 or a local code
    grid_id     INTEGER REFERENCES grids (id),
    name        TEXT NOT NULL,
    kind        TEXT,                  -- enterprise | shop | individual
    industry    TEXT,                  -- 行业
    address     TEXT,
    legal_rep   TEXT,                  -- 法定代表人 / 经营者
    phone       TEXT,                  -- the business's public phone
    employees   INTEGER,
    risk        TEXT,                  -- 安全风险等级 / 重点场所
    lat         REAL,
    lng         REAL,
    note        TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX enterprises_grid ON enterprises (grid_id, id);
CREATE INDEX enterprises_name ON enterprises (name);

-- Public facilities (部件): 井盖, 路灯, 充电棚, 消防栓 … with location.
CREATE TABLE facilities (
    id         INTEGER PRIMARY KEY,
    code       TEXT UNIQUE,            -- 部件编码
    grid_id    INTEGER REFERENCES grids (id),
    kind       TEXT NOT NULL,          -- manhole_cover | street_light | charging_shed | …
    name       TEXT,
    address    TEXT,
    owner_dept INTEGER REFERENCES departments (id), -- 权属/养护部门
    status     TEXT NOT NULL DEFAULT 'ok',          -- ok | damaged | missing | retired
    lat        REAL,
    lng        REAL,
    note       TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX facilities_grid ON facilities (grid_id, id);
CREATE INDEX facilities_kind ON facilities (kind, id);

-- ---- roster (花名册) -------------------------------------------------------
-- Staff and their duties per grid live in grid_duties (002, the GRID
-- module): one row per person, grid and duty, an account (user_id) or a
-- name and work phone. Work phones are printed on contact cards, so they
-- are public by design. The roster adds what hangs around them:

-- Contact people of departments and units (包保单位联系人).
CREATE TABLE dept_contacts (
    id         INTEGER PRIMARY KEY,
    dept_id    INTEGER NOT NULL REFERENCES departments (id),
    name       TEXT NOT NULL,
    title      TEXT,
    phone      TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX dept_contacts_dept ON dept_contacts (dept_id);

-- Party organisations mirroring the grid levels:
-- 街道党工委 → 社区党委 → 小区党支部 → 楼栋党小组.
CREATE TABLE party_orgs (
    id           INTEGER PRIMARY KEY,
    parent_id    INTEGER REFERENCES party_orgs (id),
    grid_id      INTEGER REFERENCES grids (id),
    level        TEXT NOT NULL,        -- working_committee | committee | branch | group
    name         TEXT NOT NULL,
    secretary    TEXT,                 -- 书记 / 组长
    created_at   TEXT NOT NULL
);
CREATE INDEX party_orgs_parent ON party_orgs (parent_id);
CREATE INDEX party_orgs_grid ON party_orgs (grid_id);

CREATE TABLE party_members (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES party_orgs (id),
    name       TEXT NOT NULL,
    phone      TEXT,
    user_id    INTEGER REFERENCES users (id),
    role       TEXT NOT NULL DEFAULT 'member', -- secretary | member | central_household (党员中心户)
    created_at TEXT NOT NULL
);
CREATE INDEX party_members_org ON party_members (org_id);

-- 党员联系户: a party member looks after these households.
CREATE TABLE party_member_households (
    member_id    INTEGER NOT NULL REFERENCES party_members (id),
    household_id INTEGER NOT NULL REFERENCES households (id),
    PRIMARY KEY (member_id, household_id)
);
CREATE INDEX party_member_households_h ON party_member_households (household_id);

-- Representatives (代表委员: 党代表, 人大代表, 政协委员) who may blow the
-- whistle (with an account of role representative).
CREATE TABLE representatives (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    phone      TEXT,
    user_id    INTEGER REFERENCES users (id),
    kind       TEXT NOT NULL,          -- party_congress | npc | cppcc
    level      TEXT,                   -- county | city | province | national
    grid_id    INTEGER REFERENCES grids (id), -- where they are linked (挂联)
    created_at TEXT NOT NULL
);
