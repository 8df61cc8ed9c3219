-- 004 work orders (吹哨报到): the event catalogue (事项清单), the working-day
-- calendar, orders, their append-only timeline (order_events — the raw
-- truth every indicator is recomputed from), photos and full-text search.
-- Times of orders and events are INTEGER epoch seconds (UTC): cheap to
-- compare for deadlines and overdue, and accepted by PostgreSQL as BIGINT.

-- The catalogue, one immutable row per version. body is the whole
-- catalogue as JSON (see docs/orders.md); the current version is the
-- highest. An order keeps the version it was created under.
CREATE TABLE catalog_versions (
    version     INTEGER PRIMARY KEY,
    created_at  TEXT NOT NULL,
    created_by  INTEGER,
    note        TEXT,
    body        TEXT NOT NULL
);

-- Working-day calendar per year (holidays, make-up working days 调休,
-- working hours), loaded by the administrator. body is JSON.
CREATE TABLE calendar_years (
    year        INTEGER PRIMARY KEY,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  INTEGER
);

-- Work orders. state is one of the states of the transition table in
-- order.c; pending is a request on top of it ('return' 退单 or
-- 'extension' 延期) that waits for the centre. Overdue is never stored:
-- it is deadline < now while the order is with a department.
CREATE TABLE orders (
    id                INTEGER PRIMARY KEY,
    code              TEXT NOT NULL UNIQUE,         -- tracking code (8 chars)
    state             TEXT NOT NULL,
    pending           TEXT,                         -- NULL | return | extension
    centre_wait       INTEGER NOT NULL DEFAULT 0,   -- 1: waits for the centre (dispatch queue)
    category_code     TEXT,
    catalog_version   INTEGER NOT NULL DEFAULT 0,
    description       TEXT NOT NULL,
    address           TEXT,
    lat               REAL,
    lng               REAL,
    grid_code         TEXT,
    channel           TEXT NOT NULL,                -- resident_web | grid_app | hotline_12345 | device | representative | staff
    urgency           TEXT NOT NULL DEFAULT 'normal',
    level             TEXT NOT NULL DEFAULT 'county', -- community | street | county
    reporter_id       INTEGER,                      -- users.id when logged in
    reporter_role     TEXT,
    reporter_name     TEXT,
    reporter_phone    TEXT,
    anonymous         INTEGER NOT NULL DEFAULT 0,
    lead_dept_id      INTEGER,                      -- 主办 department
    assist_depts      TEXT,                         -- JSON array of department ids (协办)
    merged_into       INTEGER,
    time_mode         TEXT NOT NULL DEFAULT 'working', -- working | natural
    response_minutes  INTEGER,                      -- limits from the catalogue snapshot
    complete_minutes  INTEGER,
    pause_on_extension INTEGER NOT NULL DEFAULT 0,
    onsite_allowed    INTEGER NOT NULL DEFAULT 0,   -- the category allows 即时办结
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    dispatched_at     INTEGER,
    signed_at         INTEGER,
    feedback_at       INTEGER,
    closed_at         INTEGER,
    response_deadline INTEGER,                      -- sign for by then (签收时限)
    deadline          INTEGER,                      -- complete by then (办结时限)
    pending_since     INTEGER,
    pending_until     INTEGER,                      -- the deadline an extension asks for
    returns           INTEGER NOT NULL DEFAULT 0,
    reworks           INTEGER NOT NULL DEFAULT 0,
    extensions        INTEGER NOT NULL DEFAULT 0,
    escalations       INTEGER NOT NULL DEFAULT 0,
    reopens           INTEGER NOT NULL DEFAULT 0,
    rating            TEXT,                         -- satisfied | basic | unsatisfied
    rating_comment    TEXT,
    rated_at          INTEGER,
    rating_default    INTEGER NOT NULL DEFAULT 0,
    seq               INTEGER NOT NULL DEFAULT 0,   -- seq of the last event
    idem_key          TEXT                          -- who + client idempotency key
);
CREATE UNIQUE INDEX orders_idem ON orders (idem_key) WHERE idem_key IS NOT NULL;
CREATE INDEX orders_created ON orders (created_at, id);
CREATE INDEX orders_centre ON orders (created_at, id) WHERE centre_wait = 1;
CREATE INDEX orders_dept ON orders (lead_dept_id, deadline, id);
CREATE INDEX orders_grid ON orders (grid_code, created_at, id);
CREATE INDEX orders_reporter ON orders (reporter_id, created_at, id) WHERE reporter_id IS NOT NULL;
CREATE INDEX orders_open_deadline ON orders (deadline, id)
    WHERE state IN ('dispatched', 'signed', 'rework');
CREATE INDEX orders_unsigned ON orders (response_deadline, id) WHERE state = 'dispatched';
CREATE INDEX orders_lat ON orders (lat) WHERE lat IS NOT NULL;

-- Assisting departments (协办), so that their handlers find the order.
CREATE TABLE order_assists (
    dept_id   INTEGER NOT NULL,
    order_id  INTEGER NOT NULL,
    PRIMARY KEY (dept_id, order_id)
);

-- The timeline: one row per transition, append-only (triggers refuse
-- UPDATE and DELETE). Replaying an order's events gives its state.
CREATE TABLE order_events (
    id           INTEGER PRIMARY KEY,
    order_id     INTEGER NOT NULL,
    seq          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    actor_id     INTEGER,
    actor_role   TEXT NOT NULL,
    action       TEXT NOT NULL,
    from_state   TEXT,
    to_state     TEXT NOT NULL,
    dept_id      INTEGER,
    note         TEXT,
    data         TEXT,            -- JSON: action details (deadlines, reason, rating, …)
    attachments  TEXT,            -- JSON array of attachment ids
    UNIQUE (order_id, seq)
);
CREATE INDEX order_events_at ON order_events (at, id);
CREATE TRIGGER order_events_no_update BEFORE UPDATE ON order_events
BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;
CREATE TRIGGER order_events_no_delete BEFORE DELETE ON order_events
BEGIN SELECT RAISE(ABORT, 'order_events is append-only'); END;

-- Photos, content-addressed (sha256) and kept inside the database so that
-- a backup is whole. Never deleted.
CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    sha256      TEXT NOT NULL UNIQUE,
    mime        TEXT NOT NULL,
    size        INTEGER NOT NULL,
    data        BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  INTEGER
);

-- Which order shows which photo: kind before (report) | after (feedback) |
-- other; public photos appear on the tracking page.
CREATE TABLE order_attachments (
    attachment_id INTEGER NOT NULL,
    order_id      INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    public        INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (attachment_id, order_id)
);
CREATE INDEX order_attachments_order ON order_attachments (order_id, seq);

-- Full-text search over the description and address (trigram: works for
-- Chinese). External content: rows are inserted by order.c with the order.
CREATE VIRTUAL TABLE orders_fts USING fts5 (
    description, address, content = 'orders', content_rowid = 'id', tokenize = 'trigram'
);
