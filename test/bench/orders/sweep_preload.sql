-- 100,000 live reservations over the 1,000 sw- SKUs (100 each), written
-- straight into the tables with the bucket counters to match. expires_at:
-- :start (epoch seconds: when pgbench will start) plus a random share of
-- :spread seconds (the run time), so they fall due while pgbench runs; a
-- start one day ahead keeps them alive (the sweeper idles).
-- Each reservation with its claim (its unit is counted in reserved), as
-- reserve_stock writes them.
WITH r AS (
    INSERT INTO order_credit.reservations (order_ref, sku, quantity,
                                           expires_in, expires_at, created_at, updated_at)
    SELECT :'tag' || '-' || n, 'sw-' || (1000 + n % 1000), 1, e - statement_timestamp(),
           e, statement_timestamp(), statement_timestamp()
      FROM generate_series(1, 100000) n,
           LATERAL (SELECT to_timestamp(:start) + make_interval(secs => random() * :spread + n * 0)) t(e)
    RETURNING reservation_id, sku, quantity, expires_at, part_buckets, part_qty)
INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity)
SELECT sku, expires_at, reservation_id, quantity FROM r;  -- parts NULL (both rows): all from bucket 0
UPDATE order_credit.stock_buckets SET reserved = reserved + 100, updated_at = statement_timestamp()
 WHERE sku LIKE 'sw-%';
