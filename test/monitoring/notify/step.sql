-- pgbench transaction of the listener test: one workload step, rolled
-- back one time in four.
\set rb random(1, 4)
BEGIN;
SELECT wl_step();
\if :rb = 1
ROLLBACK;
\else
COMMIT;
\endif
