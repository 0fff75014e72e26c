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
-- holds_pending_expiry (expire_due's global due scan) cannot serve a
-- statement on one account's pending holds: through it such a statement
-- walks every pending hold with a filter on account, and the planner takes
-- it whenever ANALYZE saw few pending holds. With holds_account_pending
-- dropped and sequential scans priced out, no index may appear here.
BEGIN;
DROP INDEX order_credit.holds_account_pending;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT coalesce(sum(amount), 0) FROM order_credit.holds WHERE account = 'a' AND status = 'pending';
EXPLAIN (COSTS OFF)
SELECT min(expires_at) FROM order_credit.holds WHERE account = 'a' AND status = 'pending';
EXPLAIN (COSTS OFF)
SELECT hold_id FROM order_credit.holds
 WHERE account = 'a' AND status = 'pending' AND expires_at <= statement_timestamp()
 ORDER BY expires_at LIMIT 4;
-- the due scan states the index's predicate and uses it
EXPLAIN (COSTS OFF)
SELECT account FROM order_credit.holds
 WHERE status = 'pending' AND expires_at < 'infinity' AND expires_at <= statement_timestamp()
 ORDER BY expires_at LIMIT 4;
ROLLBACK;
-- Nor can holds_account_pending serve the due scan (which names no
-- account): through it the scan reads every pending hold and sorts them,
-- which the planner takes whenever ANALYZE saw few pending holds. With
-- holds_pending_expiry dropped and sequential scans priced out, no index
-- may appear in the first plan; the account's statements still use it.
BEGIN;
DROP INDEX order_credit.holds_pending_expiry;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT account FROM order_credit.holds
 WHERE status = 'pending' AND expires_at < 'infinity' AND expires_at <= statement_timestamp()
 ORDER BY expires_at LIMIT 4;
EXPLAIN (COSTS OFF)
SELECT hold_id FROM order_credit.holds
 WHERE account = 'a' AND status = 'pending' AND expires_at <= statement_timestamp()
 ORDER BY expires_at LIMIT 4;
ROLLBACK;
