-- Data for test/bench/orders_bench.sh, in its own fresh database.
\set ON_ERROR_STOP 1
CREATE EXTENSION order_credit;

-- place_order: 1,000 SKUs (sku-1000 .. sku-1999: equal width, so text order
-- is numeric order) and 1,000 accounts, so large that nothing is refused.
SELECT count(order_credit.set_stock('sku-' || i, 1000000000000)) AS skus
  FROM generate_series(1000, 1999) i;
SELECT count(*) AS accounts
  FROM generate_series(1, 1000) i,
       LATERAL order_credit.create_account('acct-' || i, 1000000000000000, 'EUR');

-- sweeper runs: 1,000 other SKUs for reserve_stock and the preloaded
-- reservations (sweep_preload.sql).
SELECT count(order_credit.set_stock('sw-' || i, 1000000000000)) AS sweep_skus
  FROM generate_series(1000, 1999) i;
VACUUM ANALYZE;
