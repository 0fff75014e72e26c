-- Latency histograms: the shape of order_credit.stats (the 1.0 columns
-- first, then the percentiles) and order_credit.stats_latency_buckets, and
-- the setting that turns the histograms off. This cluster does not preload
-- the library, so both views are empty here; test/monitoring/latency.sh
-- checks the values on a cluster that does.
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute
 WHERE attrelid = 'order_credit.stats'::regclass AND attnum > 0
 ORDER BY attnum;
SELECT attnum, attname, format_type(atttypid, atttypmod) AS type
  FROM pg_attribute
 WHERE attrelid = 'order_credit.stats_latency_buckets'::regclass AND attnum > 0
 ORDER BY attnum;

-- Without shared_preload_libraries: empty, and the reset still works.
SELECT count(*) AS stats_rows FROM order_credit.stats;
SELECT count(*) AS bucket_rows FROM order_credit.stats_latency_buckets;
SELECT order_credit.stats_reset();

-- The setting: on by default, superuser only (an application cannot hide
-- its own latency).
SELECT name, setting, context, vartype FROM pg_settings WHERE name = 'order_credit.latency_histograms';
CREATE ROLE oc_latency_app;
SET ROLE oc_latency_app;
\set VERBOSITY terse
SET order_credit.latency_histograms = off;
RESET ROLE;
SET order_credit.latency_histograms = off;
SHOW order_credit.latency_histograms;
RESET order_credit.latency_histograms;
DROP ROLE oc_latency_app;
