-- 007 stats: incremental aggregates of the work-order timeline (考核评价).
-- Maintained by stats_on_event() (src/stats.c) in the same transaction as
-- every order event; definitions in docs/indicators.md. The raw truth stays
-- order_events: `whistle check` recomputes everything from it and compares.
--
-- The counter tables are WITHOUT ROWID: the primary key (day first) is the
-- table, so a period is one range read and an upsert touches one B-tree.
-- (The PostgreSQL backend drops the clause; a primary key there is an index.)
--
-- day is the China Standard Time date as an integer yyyymmdd. In
-- stats_dept_daily and stats_area_monthly, day 0 holds the all-time running
-- sums of inflow/outflow only (the workload balance); the other tables take
-- the balance from the per-order facts (stats_orders_open).
-- Every counter table has the same counter columns, so that one indicator
-- is one SUM over the days of a period, whichever table answers.

CREATE TABLE stats_daily (
    day                INTEGER NOT NULL,
    dept_id            INTEGER NOT NULL,
    grid_code          TEXT NOT NULL,
    category_code      TEXT NOT NULL,
    channel            TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0, accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0, merged INTEGER NOT NULL DEFAULT 0,
    onsite INTEGER NOT NULL DEFAULT 0, dispatched INTEGER NOT NULL DEFAULT 0,
    signed INTEGER NOT NULL DEFAULT 0, signed_ontime INTEGER NOT NULL DEFAULT 0,
    return_requests INTEGER NOT NULL DEFAULT 0, returned INTEGER NOT NULL DEFAULT 0,
    extension_requests INTEGER NOT NULL DEFAULT 0, extensions INTEGER NOT NULL DEFAULT 0,
    feedbacks INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
    closed_ontime INTEGER NOT NULL DEFAULT 0, reworks INTEGER NOT NULL DEFAULT 0,
    reopened INTEGER NOT NULL DEFAULT 0, escalated INTEGER NOT NULL DEFAULT 0,
    rated INTEGER NOT NULL DEFAULT 0, satisfied INTEGER NOT NULL DEFAULT 0,
    basic INTEGER NOT NULL DEFAULT 0, unsatisfied INTEGER NOT NULL DEFAULT 0,
    rated_default INTEGER NOT NULL DEFAULT 0, inflow INTEGER NOT NULL DEFAULT 0,
    outflow INTEGER NOT NULL DEFAULT 0, overdue_done INTEGER NOT NULL DEFAULT 0,
    handled_minutes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, dept_id, grid_code, category_code, channel)
) WITHOUT ROWID;

CREATE TABLE stats_dept_daily (
    day                INTEGER NOT NULL,
    dept_id            INTEGER NOT NULL,
    received INTEGER NOT NULL DEFAULT 0, accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0, merged INTEGER NOT NULL DEFAULT 0,
    onsite INTEGER NOT NULL DEFAULT 0, dispatched INTEGER NOT NULL DEFAULT 0,
    signed INTEGER NOT NULL DEFAULT 0, signed_ontime INTEGER NOT NULL DEFAULT 0,
    return_requests INTEGER NOT NULL DEFAULT 0, returned INTEGER NOT NULL DEFAULT 0,
    extension_requests INTEGER NOT NULL DEFAULT 0, extensions INTEGER NOT NULL DEFAULT 0,
    feedbacks INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
    closed_ontime INTEGER NOT NULL DEFAULT 0, reworks INTEGER NOT NULL DEFAULT 0,
    reopened INTEGER NOT NULL DEFAULT 0, escalated INTEGER NOT NULL DEFAULT 0,
    rated INTEGER NOT NULL DEFAULT 0, satisfied INTEGER NOT NULL DEFAULT 0,
    basic INTEGER NOT NULL DEFAULT 0, unsatisfied INTEGER NOT NULL DEFAULT 0,
    rated_default INTEGER NOT NULL DEFAULT 0, inflow INTEGER NOT NULL DEFAULT 0,
    outflow INTEGER NOT NULL DEFAULT 0, overdue_done INTEGER NOT NULL DEFAULT 0,
    handled_minutes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, dept_id)
) WITHOUT ROWID;

-- The monthly tables (stats_area_monthly, stats_cat_monthly) have one row
-- per month: their `day` is the first day of the month (yyyymm01), so that
-- the same range queries work; they answer whole months only (rankings,
-- top categories), anything finer reads stats_daily.
-- area_code: the street (depth 1) and community (depth 2) prefixes of the
-- order's grid code, one row each.
CREATE TABLE stats_area_monthly (
    day                INTEGER NOT NULL,
    area_code          TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0, accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0, merged INTEGER NOT NULL DEFAULT 0,
    onsite INTEGER NOT NULL DEFAULT 0, dispatched INTEGER NOT NULL DEFAULT 0,
    signed INTEGER NOT NULL DEFAULT 0, signed_ontime INTEGER NOT NULL DEFAULT 0,
    return_requests INTEGER NOT NULL DEFAULT 0, returned INTEGER NOT NULL DEFAULT 0,
    extension_requests INTEGER NOT NULL DEFAULT 0, extensions INTEGER NOT NULL DEFAULT 0,
    feedbacks INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
    closed_ontime INTEGER NOT NULL DEFAULT 0, reworks INTEGER NOT NULL DEFAULT 0,
    reopened INTEGER NOT NULL DEFAULT 0, escalated INTEGER NOT NULL DEFAULT 0,
    rated INTEGER NOT NULL DEFAULT 0, satisfied INTEGER NOT NULL DEFAULT 0,
    basic INTEGER NOT NULL DEFAULT 0, unsatisfied INTEGER NOT NULL DEFAULT 0,
    rated_default INTEGER NOT NULL DEFAULT 0, inflow INTEGER NOT NULL DEFAULT 0,
    outflow INTEGER NOT NULL DEFAULT 0, overdue_done INTEGER NOT NULL DEFAULT 0,
    handled_minutes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, area_code)
) WITHOUT ROWID;

CREATE TABLE stats_cat_monthly (
    day                INTEGER NOT NULL,
    category_code      TEXT NOT NULL,
    received INTEGER NOT NULL DEFAULT 0, accepted INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0, merged INTEGER NOT NULL DEFAULT 0,
    onsite INTEGER NOT NULL DEFAULT 0, dispatched INTEGER NOT NULL DEFAULT 0,
    signed INTEGER NOT NULL DEFAULT 0, signed_ontime INTEGER NOT NULL DEFAULT 0,
    return_requests INTEGER NOT NULL DEFAULT 0, returned INTEGER NOT NULL DEFAULT 0,
    extension_requests INTEGER NOT NULL DEFAULT 0, extensions INTEGER NOT NULL DEFAULT 0,
    feedbacks INTEGER NOT NULL DEFAULT 0, closed INTEGER NOT NULL DEFAULT 0,
    closed_ontime INTEGER NOT NULL DEFAULT 0, reworks INTEGER NOT NULL DEFAULT 0,
    reopened INTEGER NOT NULL DEFAULT 0, escalated INTEGER NOT NULL DEFAULT 0,
    rated INTEGER NOT NULL DEFAULT 0, satisfied INTEGER NOT NULL DEFAULT 0,
    basic INTEGER NOT NULL DEFAULT 0, unsatisfied INTEGER NOT NULL DEFAULT 0,
    rated_default INTEGER NOT NULL DEFAULT 0, inflow INTEGER NOT NULL DEFAULT 0,
    outflow INTEGER NOT NULL DEFAULT 0, overdue_done INTEGER NOT NULL DEFAULT 0,
    handled_minutes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, category_code)
) WITHOUT ROWID;

-- Reports per month, grid and category: hotspots (热点) and the
-- month-on-month rise of categories.
CREATE TABLE stats_hot_monthly (
    month          INTEGER NOT NULL,          -- yyyymm (CST)
    grid_code      TEXT NOT NULL,
    category_code  TEXT NOT NULL,
    n              INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, grid_code, category_code)
) WITHOUT ROWID;
CREATE INDEX stats_hot_monthly_n ON stats_hot_monthly (month, n);

-- Per-order facts, the state the aggregates need between two events of the
-- same order (previous department, the holding that is going on, the
-- deadline in force, the cycle), and the indexes for "overdue now" lists.
CREATE TABLE stats_orders (
    order_id          INTEGER PRIMARY KEY,
    grid_code         TEXT NOT NULL,
    category_code     TEXT NOT NULL,
    channel           TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    state             TEXT NOT NULL,
    in_prog           INTEGER NOT NULL DEFAULT 0,  -- 在办 (accepted … feedback/rework)
    dept_id           INTEGER NOT NULL DEFAULT 0,  -- lead department now
    holding           INTEGER NOT NULL DEFAULT 0,  -- with the department (dispatched, signed, rework)
    hold_start        INTEGER NOT NULL DEFAULT 0,
    deadline          INTEGER NOT NULL DEFAULT 0,  -- completion deadline in force
    response_deadline INTEGER NOT NULL DEFAULT 0,
    cycle_start       INTEGER NOT NULL DEFAULT 0,  -- report or reopen
    feedback_late     INTEGER NOT NULL DEFAULT 0,  -- the last feedback came after the deadline
    overdue_marked    INTEGER NOT NULL DEFAULT 0,  -- this holding is counted as overdue (job)
    dispatched_at     INTEGER NOT NULL DEFAULT 0,  -- last dispatch
    signed_at         INTEGER NOT NULL DEFAULT 0,
    closed_at         INTEGER NOT NULL DEFAULT 0,  -- last close
    returns           INTEGER NOT NULL DEFAULT 0,
    reworks           INTEGER NOT NULL DEFAULT 0,
    rating            TEXT,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX stats_orders_holding ON stats_orders
    (deadline, dept_id, hold_start, grid_code, category_code, channel, overdue_marked)
    WHERE holding = 1;
-- held orders past their deadline that the overdue job has not counted yet
-- (a handful at any moment)
CREATE INDEX stats_orders_unmarked ON stats_orders (deadline) WHERE holding = 1 AND
    overdue_marked = 0;
CREATE INDEX stats_orders_unsigned ON stats_orders
    (response_deadline, dept_id, grid_code, category_code, channel) WHERE state = 'dispatched';
CREATE INDEX stats_orders_open ON stats_orders (dept_id, grid_code, category_code, channel)
    WHERE in_prog = 1;
CREATE INDEX stats_orders_returns ON stats_orders (returns, order_id) WHERE returns >= 2;

-- One row per close (结案): the handling time of its cycle, for averages
-- and exact percentiles.
CREATE TABLE stats_closes (
    order_id       INTEGER NOT NULL,
    seq            INTEGER NOT NULL,
    day            INTEGER NOT NULL,
    dept_id        INTEGER NOT NULL,
    grid_code      TEXT NOT NULL,
    category_code  TEXT NOT NULL,
    channel        TEXT NOT NULL,
    minutes        INTEGER NOT NULL,
    PRIMARY KEY (day, order_id, seq)
) WITHOUT ROWID;
CREATE INDEX stats_closes_day ON stats_closes (day, dept_id, minutes);

-- The same handling times as a histogram per month and department, so that
-- the exact percentiles of whole months (reports, rankings) read a few
-- thousand rows instead of every close of the month.
CREATE TABLE stats_close_hist (
    month     INTEGER NOT NULL,               -- yyyymm (CST) of the close
    dept_id   INTEGER NOT NULL,
    minutes   INTEGER NOT NULL,
    n         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (month, dept_id, minutes)
) WITHOUT ROWID;

-- Held orders counted as overdue and still held, per department: the
-- "overdue now" of the dashboard and the report without scanning the
-- backlog. +1 when the overdue job counts a holding, −1 when it ends or
-- its deadline moves.
CREATE TABLE stats_overdue_open (
    dept_id  INTEGER PRIMARY KEY,
    n        INTEGER NOT NULL DEFAULT 0
);

-- Problem ledger (问题台账): ticking off (销号) a closed problem.
CREATE TABLE ledger_ticks (
    order_id     INTEGER PRIMARY KEY,
    ticked_at    INTEGER NOT NULL,
    ticked_by    INTEGER,
    note         TEXT
);
