-- 009 supervision aggregates, and the unsigned orders per department.
--
-- The monthly report and the assessment count a month's supervision
-- notices (督办单) and deductions (扣分) per department or grid. Read row
-- by row, a city month is ~100,000 notices and ~130,000 deductions, each
-- a table lookup, read several times per report (1 s of a 2.3 s report on
-- the 10-million-order city). These two tables keep the counts per day
-- instead, a few thousand rows a month.
--
-- They are kept by triggers, so every writer (the supervision module, the
-- demo's history, a future import) keeps them in the same transaction as
-- the row it writes; `whistle check` compares them with a recount of the
-- raw tables (indicators_check). day: yyyymmdd in China Standard Time
-- (UTC+8, no daylight saving), as stats_day() in stats.c computes it.

-- Notices per issue day and department. ontime: answered by the due time.
-- dept_id 0: a notice without a department (as the report has read it).
CREATE TABLE stats_notices (
    day      INTEGER NOT NULL,
    dept_id  INTEGER NOT NULL,
    issued   INTEGER NOT NULL DEFAULT 0,
    ontime   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, dept_id)
) WITHOUT ROWID;

-- Deductions per day, subject and kind. A deduction charged to a
-- department has its dept_id and grid_code ''; one charged to a grid
-- (乱吹哨, the reporting level) has dept_id -1 and its grid_code.
CREATE TABLE stats_deductions (
    day        INTEGER NOT NULL,
    dept_id    INTEGER NOT NULL,
    grid_code  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    n          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, dept_id, grid_code, kind)
) WITHOUT ROWID;

CREATE TRIGGER stats_notices_insert AFTER INSERT ON supervision_notices
BEGIN
    INSERT INTO stats_notices (day, dept_id, issued, ontime)
    VALUES (CAST(strftime('%Y%m%d', NEW.issued_at + 28800, 'unixepoch') AS INTEGER),
            coalesce(NEW.dept_id, 0), 1,
            NEW.answered_at IS NOT NULL AND NEW.answered_at <= NEW.due_at)
    ON CONFLICT (day, dept_id) DO UPDATE SET issued = issued + 1,
        ontime = ontime + excluded.ontime;
END;

-- An answer (or a moved due time, or a re-assigned department) takes the
-- old contribution out and puts the new one in.
CREATE TRIGGER stats_notices_update
AFTER UPDATE OF issued_at, dept_id, due_at, answered_at ON supervision_notices
BEGIN
    UPDATE stats_notices SET issued = issued - 1,
        ontime = ontime - (OLD.answered_at IS NOT NULL AND OLD.answered_at <= OLD.due_at)
    WHERE day = CAST(strftime('%Y%m%d', OLD.issued_at + 28800, 'unixepoch') AS INTEGER)
      AND dept_id = coalesce(OLD.dept_id, 0);
    INSERT INTO stats_notices (day, dept_id, issued, ontime)
    VALUES (CAST(strftime('%Y%m%d', NEW.issued_at + 28800, 'unixepoch') AS INTEGER),
            coalesce(NEW.dept_id, 0), 1,
            NEW.answered_at IS NOT NULL AND NEW.answered_at <= NEW.due_at)
    ON CONFLICT (day, dept_id) DO UPDATE SET issued = issued + 1,
        ontime = ontime + excluded.ontime;
END;

CREATE TRIGGER stats_notices_delete AFTER DELETE ON supervision_notices
BEGIN
    UPDATE stats_notices SET issued = issued - 1,
        ontime = ontime - (OLD.answered_at IS NOT NULL AND OLD.answered_at <= OLD.due_at)
    WHERE day = CAST(strftime('%Y%m%d', OLD.issued_at + 28800, 'unixepoch') AS INTEGER)
      AND dept_id = coalesce(OLD.dept_id, 0);
END;

-- Deductions are append-only (006): an insert is all there is to follow.
CREATE TRIGGER stats_deductions_insert AFTER INSERT ON deductions
BEGIN
    INSERT INTO stats_deductions (day, dept_id, grid_code, kind, n)
    VALUES (CAST(strftime('%Y%m%d', NEW.at + 28800, 'unixepoch') AS INTEGER),
            coalesce(NEW.dept_id, -1),
            CASE WHEN NEW.dept_id IS NULL THEN coalesce(NEW.grid_code, '') ELSE '' END,
            NEW.kind, 1)
    ON CONFLICT (day, dept_id, grid_code, kind) DO UPDATE SET n = n + 1;
END;

-- What is already there (an upgraded database).
INSERT INTO stats_notices (day, dept_id, issued, ontime)
SELECT CAST(strftime('%Y%m%d', issued_at + 28800, 'unixepoch') AS INTEGER),
       coalesce(dept_id, 0), COUNT(*),
       SUM(answered_at IS NOT NULL AND answered_at <= due_at)
FROM supervision_notices GROUP BY 1, 2;

INSERT INTO stats_deductions (day, dept_id, grid_code, kind, n)
SELECT CAST(strftime('%Y%m%d', at + 28800, 'unixepoch') AS INTEGER),
       coalesce(dept_id, -1),
       CASE WHEN dept_id IS NULL THEN coalesce(grid_code, '') ELSE '' END,
       kind, COUNT(*)
FROM deductions GROUP BY 1, 2, 3, 4;

-- "Unsigned past the response limit now" per department (the dashboard,
-- the report's department table): a count per department over this index
-- instead of sorting every overdue unsigned order by department.
CREATE INDEX stats_orders_unsigned_dept ON stats_orders (dept_id, response_deadline)
    WHERE state = 'dispatched';
