-- The small database of test/bench/scale_bench.sh: what the other
-- benchmark areas start from (1,000 accounts, 10,000 SKUs, 100 SKUs
-- striped over 8 buckets), fresh, through the functions.
\set ON_ERROR_STOP 1
SELECT count(order_credit.create_account('acct-' || i, 1000000000)) FROM generate_series(1, 1000) i;
SELECT count(order_credit.set_stock('sku-' || i, 1000000000)) FROM generate_series(1, 10000) i;
SELECT count(order_credit.set_stock('striped-' || i, 1000000000, 8)) FROM generate_series(1, 100) i;
VACUUM ANALYZE;
