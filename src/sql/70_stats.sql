-- ===================================================================
-- Live statistics for DBAs (shared memory; needs shared_preload_libraries)
-- ===================================================================

CREATE FUNCTION order_credit._stats()
    RETURNS TABLE (operation text, outcome text, calls bigint, total_ms double precision,
                   max_ms double precision, lock_wait_ms double precision)
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats';
COMMENT ON FUNCTION order_credit._stats() IS
    'Reads the shared-memory counters behind order_credit.stats.';

CREATE VIEW order_credit.stats AS
SELECT operation, outcome, calls, total_ms, max_ms, lock_wait_ms
  FROM order_credit._stats();
COMMENT ON VIEW order_credit.stats IS
    'Calls, total and max time, and time in lock-acquiring steps per operation and outcome. Fed from shared memory: EMPTY unless order_credit is in shared_preload_libraries (every function works without it). Reset with order_credit.stats_reset().';

CREATE FUNCTION order_credit.stats_reset() RETURNS void
    LANGUAGE c VOLATILE
    AS 'MODULE_PATHNAME', 'oc_stats_reset';
COMMENT ON FUNCTION order_credit.stats_reset() IS
    'Zeroes every counter of order_credit.stats.';

INSERT INTO order_credit.function_access (function, tier) VALUES
    ('order_credit.stats_reset()', 'admin'),
    ('order_credit._stats()', 'admin');
