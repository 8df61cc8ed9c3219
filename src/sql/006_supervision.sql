-- 006 supervision (督办) and deductions (issue 4 item 5), and the overdue
-- scanner's memory (order_alerts). Written by src/supervision.c; read by
-- the evaluation module (deductions) and the monthly report (notices).

-- What the overdue scanner already did, once per order and kind, so that
-- it is idempotent and can catch up after downtime from the deadlines
-- stored in the orders. kind: response_warning | completion_warning |
-- response_overdue | completion_overdue | repeated_returns |
-- improper_whistle. deadline: the deadline (epoch seconds) it was about.
CREATE TABLE order_alerts (
    order_id   INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    deadline   INTEGER,
    at         INTEGER NOT NULL,          -- epoch seconds, like the orders
    PRIMARY KEY (order_id, kind)
);

-- Supervision notices (督办单): issued to the department that holds the
-- order, copied to the discipline inspectors (纪检), answered by the
-- department, closed by the centre. state: issued → answered → closed.
-- kind: overdue_completion | late_signing | repeated_returns (automatic,
-- at most one per order and kind) | manual (issued by a dispatcher).
CREATE TABLE supervision_notices (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,          -- 督办单号 "DB20260312-000042"
    order_id     INTEGER NOT NULL,
    order_code   TEXT,
    dept_id      INTEGER REFERENCES departments (id),
    grid_code    TEXT,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'issued',
    reason       TEXT NOT NULL,
    issued_at    INTEGER NOT NULL,              -- epoch seconds, like the orders
    issued_by    INTEGER,                       -- NULL: the overdue scanner
    due_at       INTEGER NOT NULL,              -- the answer is due by then
    answer       TEXT,
    answered_at  INTEGER,
    answered_by  INTEGER,
    close_note   TEXT,
    closed_at    INTEGER,
    closed_by    INTEGER
);
CREATE UNIQUE INDEX supervision_once ON supervision_notices (order_id, kind) WHERE kind <> 'manual';
CREATE INDEX supervision_dept ON supervision_notices (dept_id, state, id);
CREATE INDEX supervision_state ON supervision_notices (state, id);
CREATE INDEX supervision_issued ON supervision_notices (issued_at, id);

-- Deductions for the departments' (and reporting levels') assessment, as
-- append-only events: one per order and kind. kind: improper_whistle
-- (乱吹哨: a report the centre rejected as invalid, charged to the
-- reporting grid/level), late_signing, repeated_returns (推诿扯皮),
-- overdue_completion. dept_id is NULL when charged to a grid (grid_code).
CREATE TABLE deductions (
    id         INTEGER PRIMARY KEY,
    dept_id    INTEGER REFERENCES departments (id),
    grid_code  TEXT,
    level      TEXT,                 -- community | street | county (improper_whistle)
    kind       TEXT NOT NULL,
    points     REAL NOT NULL,
    order_id   INTEGER NOT NULL,
    notice_id  INTEGER REFERENCES supervision_notices (id),
    at         INTEGER NOT NULL,     -- epoch seconds: when the fault happened
    note       TEXT,
    UNIQUE (order_id, kind)
);
CREATE INDEX deductions_dept_at ON deductions (dept_id, at);
CREATE INDEX deductions_at ON deductions (at);
CREATE TRIGGER deductions_no_update BEFORE UPDATE ON deductions
BEGIN SELECT RAISE(ABORT, 'deductions are append-only'); END;

-- Cursors of the background jobs (e.g. the last order_events id the
-- supervision scanner has looked at), so that they resume where they
-- stopped after a restart.
CREATE TABLE job_cursors (
    name   TEXT PRIMARY KEY,
    value  INTEGER NOT NULL
);
CREATE TRIGGER deductions_no_delete BEFORE DELETE ON deductions
BEGIN SELECT RAISE(ABORT, 'deductions are append-only'); END;

-- The default-rating job looks for closed orders nobody rated: a partial
-- index keeps that cheap on millions of orders (most are rated).
CREATE INDEX orders_unrated ON orders (closed_at) WHERE state IN ('closed', 'onsite');
