-- Latency histograms on a cluster that preloads order_credit
-- (test/monitoring/latency.sh): the percentiles of order_credit.stats come
-- from the calls recorded in the buckets of order_credit.stats_latency_buckets.
SET client_min_messages = warning;
SELECT count(*) AS accounts FROM order_credit.create_account('lat-acct', 1000000);
SELECT count(*) AS items FROM order_credit.set_stock('lat-sku', 1000);
SELECT order_credit.stats_reset();
SELECT count(*) AS rows_after_reset FROM order_credit.stats;

-- 200 holds, 50 reservations, 20 refusals.
DO $$ BEGIN
    FOR i IN 1..200 LOOP PERFORM order_credit.reserve_credit('lat-acct', 1, 'lat-h' || i); END LOOP;
    FOR i IN 1..50 LOOP PERFORM order_credit.reserve_stock('lat-sku', 1, 'lat-r' || i); END LOOP;
    FOR i IN 1..20 LOOP PERFORM order_credit.try_reserve_credit('lat-acct', 10000000, 'lat-x' || i); END LOOP;
END $$;

-- Non-null, positive and ordered: p50 <= p95 <= p99 <= max.
SELECT operation, outcome, calls,
       p50_ms IS NOT NULL AND p95_ms IS NOT NULL AND p99_ms IS NOT NULL AS non_null,
       p50_ms > 0 AND p50_ms <= p95_ms AND p95_ms <= p99_ms AND p99_ms <= max_ms AS ordered
  FROM order_credit.stats
 WHERE operation IN ('reserve_credit', 'reserve_stock', 'try_reserve_credit')
 ORDER BY operation, outcome;

-- The buckets: 23 per operation and outcome, the bounds of the 1-2-5 series
-- from 1 us to 10 s, cumulative (never decreasing), the last (Infinity)
-- equal to the calls.
SELECT s.operation, s.outcome, count(*) AS buckets, max(b.calls) AS in_histogram,
       max(b.calls) FILTER (WHERE b.le = 'Infinity') = s.calls AS sums_to_calls,
       bool_and(b.calls >= coalesce(b.below, 0)) AS cumulative
  FROM order_credit.stats s
  JOIN (SELECT *, lag(calls) OVER (PARTITION BY operation, outcome ORDER BY le) AS below
          FROM order_credit.stats_latency_buckets) b USING (operation, outcome)
 WHERE s.operation IN ('reserve_credit', 'reserve_stock', 'try_reserve_credit')
 GROUP BY s.operation, s.outcome, s.calls
 ORDER BY 1, 2;
SELECT string_agg(le::text, ' ' ORDER BY le) AS bounds
  FROM order_credit.stats_latency_buckets WHERE operation = 'reserve_credit' AND outcome = 'ok';

-- Each percentile again, from the buckets as a Prometheus client would
-- compute it (the bucket holding the call of rank q * count, interpolated
-- between its bounds, the upper bound capped by max_ms): the same values.
WITH b AS (
    SELECT operation, outcome, le, calls,
           lag(le, 1, 0::float8) OVER w AS lo, lag(calls, 1, 0::bigint) OVER w AS below
      FROM order_credit.stats_latency_buckets
    WINDOW w AS (PARTITION BY operation, outcome ORDER BY le)),
s AS (
    SELECT st.*, (SELECT max(calls) FROM b WHERE (b.operation, b.outcome) = (st.operation, st.outcome)) AS total
      FROM order_credit.stats st
     WHERE st.operation IN ('reserve_credit', 'reserve_stock', 'try_reserve_credit'))
SELECT s.operation, s.outcome, q.q,
       abs(q.shown - 1000 * (
           SELECT least(b.lo, b.le, s.max_ms / 1000)
                  + (least(b.le, s.max_ms / 1000) - least(b.lo, b.le, s.max_ms / 1000))
                    * (q.q * s.total - b.below) / (b.calls - b.below)
             FROM b
            WHERE (b.operation, b.outcome) = (s.operation, s.outcome)
              AND b.calls > b.below AND b.calls >= q.q * s.total
            ORDER BY b.le LIMIT 1)) < 1e-9 AS recomputed_equal
  FROM s CROSS JOIN LATERAL (VALUES (0.5, s.p50_ms), (0.95, s.p95_ms), (0.99, s.p99_ms)) q(q, shown)
 ORDER BY 1, 2, 3;

-- Histograms off: calls still counted, the histogram keeps what it had.
SET order_credit.latency_histograms = off;
DO $$ BEGIN
    FOR i IN 1..10 LOOP PERFORM order_credit.reserve_credit('lat-acct', 1, 'lat-off' || i); END LOOP;
END $$;
RESET order_credit.latency_histograms;
SELECT s.calls, b.calls AS in_histogram, s.p50_ms IS NOT NULL AS p50_still_there
  FROM order_credit.stats s
  JOIN order_credit.stats_latency_buckets b USING (operation, outcome)
 WHERE s.operation = 'reserve_credit' AND s.outcome = 'ok' AND b.le = 'Infinity';

-- stats_reset() empties both.
SELECT order_credit.stats_reset();
SELECT (SELECT count(*) FROM order_credit.stats) AS stats_rows,
       (SELECT count(*) FROM order_credit.stats_latency_buckets) AS bucket_rows;
