-- Stock benchmark data: a hot SKU striped over 8 buckets, the same over 32
-- (reference: as many buckets as clients), 10,000 ordinary SKUs, and the
-- same rows as a plain-SQL schema for comparison.
CREATE EXTENSION order_credit;
CREATE SEQUENCE bench_ref CACHE 100;
-- expire_due(10000) until nothing is due, one transaction per call, in one
-- session (as a scheduler or the sweeper calls it); returns the rows expired.
CREATE PROCEDURE bench_expire_all(INOUT total bigint DEFAULT 0) LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    LOOP
        n := order_credit.expire_due(10000);
        total := total + n;
        COMMIT;
        EXIT WHEN n = 0;
    END LOOP;
END $$;
-- Reserve throughput while expire_due runs: one session sweeps in cycles of
-- on_s seconds sweeping (expire_due(chunk) until nothing is due, one
-- transaction per call, paced by order_credit.expire_max_rate) and off_s
-- seconds idle, every phase starting on a whole second of the clock, while
-- pgbench logs the buyers' transactions per second (windows.sql compares the
-- sweeping seconds with the idle ones). Stops after the cycle in which
-- nothing was left, or after max_cycles; bench_phase records every cycle.
CREATE TABLE bench_phase (label text, cycle int, t0 float8, t_on_end float8, busy_until float8,
                          t_end float8, rows bigint);
CREATE PROCEDURE bench_expire_windows(label text, max_cycles int, on_s int, off_s int, chunk int)
LANGUAGE plpgsql AS $$
DECLARE
    t0 float8 := ceil(extract(epoch FROM clock_timestamp())) + 1;
    c0 float8; n bigint; done bigint; busy float8;
BEGIN
    FOR k IN 0 .. max_cycles - 1 LOOP
        c0 := t0 + k * (on_s + off_s);
        PERFORM pg_sleep(c0 - extract(epoch FROM clock_timestamp()));
        done := 0; busy := NULL;
        WHILE extract(epoch FROM clock_timestamp()) < c0 + on_s LOOP
            n := order_credit.expire_due(chunk);
            COMMIT;
            done := done + n;
            IF n = 0 THEN busy := extract(epoch FROM clock_timestamp()); EXIT; END IF;
        END LOOP;
        INSERT INTO bench_phase VALUES (label, k, c0, c0 + on_s, coalesce(busy, c0 + on_s),
                                        c0 + on_s + off_s, done);
        COMMIT;
        EXIT WHEN busy IS NOT NULL;
    END LOOP;
END $$;
-- pgbench's per-second aggregates (--aggregate-interval=1), one row per
-- thread and second
CREATE TABLE bench_agg (label text, t bigint, n bigint);
SELECT order_credit.set_stock('hot', 1000000000000, 8);
SELECT order_credit.set_stock('hot32', 1000000000000, 32);
-- Wait events of the buyers, sampled every 10 ms during a run (stock_bench.sh);
-- one transaction, so the sampler adds no commit flushes of its own.
CREATE TABLE bench_waits (tag text, n int, ev text);
CREATE PROCEDURE bench_sample_waits(tag text, secs float8) LANGUAGE plpgsql AS $$
DECLARE t_end timestamptz := clock_timestamp() + secs * interval '1 second'; i int := 0;
BEGIN
    WHILE clock_timestamp() < t_end LOOP
        i := i + 1;
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO bench_waits
        SELECT tag, i, coalesce(wait_event_type || ':' || wait_event, 'CPU')
          FROM pg_stat_activity WHERE application_name = 'pgbench' AND state = 'active';
        PERFORM pg_sleep(0.01);
    END LOOP;
END $$;
SELECT count(order_credit.set_stock('s' || i, 1000000000)) FROM generate_series(1, 10000) i;

CREATE TABLE plain_stock (sku text PRIMARY KEY, on_hand bigint NOT NULL,
                          reserved bigint NOT NULL DEFAULT 0 CHECK (reserved <= on_hand));
CREATE TABLE plain_res (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_ref text NOT NULL,
                        sku text NOT NULL REFERENCES plain_stock, quantity bigint NOT NULL,
                        status text NOT NULL DEFAULT 'active', expires_at timestamptz,
                        UNIQUE (order_ref, sku));
INSERT INTO plain_stock VALUES ('hot', 1000000000000);
-- Reference only: the same hot item over 8 plain bucket rows (skip_hot.sql).
CREATE TABLE plain_buckets (sku text NOT NULL REFERENCES plain_stock, bucket int NOT NULL,
                            on_hand bigint NOT NULL,
                            reserved bigint NOT NULL DEFAULT 0 CHECK (reserved <= on_hand),
                            PRIMARY KEY (sku, bucket));
INSERT INTO plain_buckets SELECT 'hot', b, 125000000000 FROM generate_series(0, 7) b;
INSERT INTO plain_stock SELECT 's' || i, 1000000000 FROM generate_series(1, 10000) i;
VACUUM ANALYZE;
