-- Kept plans are made for key access (Statement in src/pg/spi.hpp): a
-- backend that plans the extension's statements while its tables are tiny
-- (a one-page table is cheaper to scan than to probe, for the planner) still
-- reads rows by key, so the plan stays right when the tables grow. Counted
-- with the transaction's own table statistics: no sequential scan of any of
-- the extension's tables during calls of the main functions, in a new
-- backend whose plans are all made here.
\c
BEGIN;
SELECT count(*) AS items
  FROM generate_series(1, 5) i, LATERAL order_credit.set_stock('plan-sku-' || i, 100);
SELECT count(*) AS accounts
  FROM generate_series(1, 3) i, LATERAL order_credit.create_account('plan-acct-' || i, 1000, 'EUR');
SELECT count(*) AS reservations
  FROM generate_series(1, 5) i, LATERAL order_credit.reserve_stock('plan-sku-' || i, 1, 'plan-r' || i);
SELECT count(*) AS holds
  FROM generate_series(1, 3) i, LATERAL order_credit.reserve_credit('plan-acct-' || i, 10, 'plan-h' || i);
SELECT count(*) AS orders
  FROM generate_series(1, 3) i,
       LATERAL order_credit.place_order('plan-o' || i,
           jsonb_build_array(jsonb_build_object('sku', 'plan-sku-' || i, 'quantity', 1, 'unit_price', 2)),
           'plan-acct-' || i);
SELECT order_credit.process_once('plan', 'e1') AS first, order_credit.process_once('plan', 'e1') AS again;
SELECT state FROM order_credit.idempotency_begin('plan-key', 'fp');
SELECT order_credit.idempotency_complete('plan-key', '{}', 200);
SELECT count(*) AS commits
  FROM generate_series(1, 2) i, LATERAL order_credit.commit_stock('plan-r' || i);
SELECT relname, seq_scan
  FROM pg_stat_xact_user_tables
 WHERE schemaname = 'order_credit' AND seq_scan > 0
 ORDER BY relname;
ROLLBACK;
