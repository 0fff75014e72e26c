-- Buyers' transactions per second in the sweeping and the idle phases of
-- bench_expire_windows (:'label'). A second counts for a phase when it lies
-- wholly inside it, the phase's first second left out (the switch), and a
-- sweeping second only while the sweep still had rows to expire. One line:
-- sweeping_tps idle_tps sweeping_seconds idle_seconds rows busy_seconds
-- sweeping_runs / idle_runs
WITH s AS (SELECT t, sum(n) AS n FROM bench_agg WHERE label = :'label' GROUP BY t),
p AS (SELECT * FROM bench_phase WHERE label = :'label'),
c AS (SELECT s.t, s.n,
             EXISTS (SELECT FROM p WHERE s.t >= p.t0 + 1 AND s.t + 1 <= p.busy_until) AS sweeping,
             EXISTS (SELECT FROM p WHERE s.t >= p.t_on_end + 1 AND s.t + 1 <= p.t_end) AS idle
        FROM s)
SELECT concat_ws(' ', coalesce(round(avg(n) FILTER (WHERE sweeping)), 0),
                 coalesce(round(avg(n) FILTER (WHERE idle)), 0),
                 count(*) FILTER (WHERE sweeping), count(*) FILTER (WHERE idle),
                 (SELECT coalesce(sum(rows), 0) FROM p),
                 (SELECT coalesce(round(sum(busy_until - t0)::numeric, 2), 0) FROM p),
                 coalesce(string_agg(n::text, ',' ORDER BY t) FILTER (WHERE sweeping), '-'), '/',
                 coalesce(string_agg(n::text, ',' ORDER BY t) FILTER (WHERE idle), '-'))
  FROM c;
