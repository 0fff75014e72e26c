-- ===================================================================
-- Live statistics for DBAs (shared memory; needs shared_preload_libraries)
-- ===================================================================

CREATE FUNCTION order_credit._stats_latency()
    RETURNS TABLE (operation text, outcome text, calls bigint, total_ms double precision,
                   max_ms double precision, lock_wait_ms double precision,
                   p50_ms double precision, p95_ms double precision, p99_ms double precision)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats_latency';
COMMENT ON FUNCTION order_credit._stats_latency() IS
    'Reads the shared-memory counters and latency histograms behind order_credit.stats.';

CREATE VIEW order_credit.stats AS
SELECT operation, outcome, calls, total_ms, max_ms, lock_wait_ms, p50_ms, p95_ms, p99_ms
  FROM order_credit._stats_latency();
COMMENT ON VIEW order_credit.stats IS
    'Calls, total and max time, time in lock-acquiring steps, and the 50th, 95th and 99th percentile of the time of a call (estimated from a latency histogram; NULL when order_credit.latency_histograms was off for every call) per operation and outcome. Fed from shared memory: EMPTY unless order_credit is in shared_preload_libraries (every function works without it). Reset with order_credit.stats_reset().';

CREATE FUNCTION order_credit._stats_latency_buckets()
    RETURNS TABLE (operation text, outcome text, le double precision, calls bigint)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats_latency_buckets';
COMMENT ON FUNCTION order_credit._stats_latency_buckets() IS
    'Reads the latency histograms behind order_credit.stats_latency_buckets.';

CREATE VIEW order_credit.stats_latency_buckets AS
SELECT operation, outcome, le, calls
  FROM order_credit._stats_latency_buckets();
COMMENT ON VIEW order_credit.stats_latency_buckets IS
    'Latency histogram of each operation and outcome of order_credit.stats, as Prometheus buckets: calls that took at most le seconds (cumulative; le = Infinity counts every call in the histogram). Bounds 1, 2 and 5 of each decade from 1 microsecond to 10 seconds. Only calls made while order_credit.latency_histograms was on. Needs shared_preload_libraries, as order_credit.stats.';

CREATE FUNCTION order_credit.stats_reset() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats_reset';
COMMENT ON FUNCTION order_credit.stats_reset() IS
    'Zeroes every counter and histogram of order_credit.stats and order_credit.stats_latency_buckets.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.stats_reset()', 'admin'),
    ('order_credit._stats_latency()', 'admin'),
    ('order_credit._stats_latency_buckets()', 'admin');
