-- 008 queue indexes: a department's open work in deadline order.
-- The department queue (GET /api/v1/orders?queue=department) lists the
-- orders a department holds — dispatched, signed, rework, feedback —
-- soonest deadline first. orders_dept covers every order the department
-- ever had, so the first page walked past all its closed orders (74,747
-- index entries for 1,510 open ones in the county demo: 16 ms a page).
-- This partial index holds only the open ones; the queue's WHERE repeats
-- the same state list, which is what lets the planner use it.
CREATE INDEX orders_dept_open ON orders (lead_dept_id, deadline, id)
    WHERE state IN ('dispatched', 'signed', 'rework', 'feedback');
