-- Stock alert benchmark data: the stock benchmark's hot SKU (striped over 8
-- buckets) and a hot SKU of one bucket, each with far more units than any
-- run reserves; stock_alert_bench.sh sets and removes their thresholds.
CREATE EXTENSION order_credit;
CREATE SEQUENCE bench_ref CACHE 100;
SELECT order_credit.set_stock('hot', 1000000000000, 8);
SELECT order_credit.set_stock('hot1', 1000000000000, 1);
VACUUM ANALYZE;
