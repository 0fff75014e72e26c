-- :n live reservations over the 1,000 sw- SKUs (:n / 1,000 each), written
-- straight into the tables with the bucket counters to match. They fall due
-- in the sweeping phases of the run: cycle i (0 .. :cycles - 1) starts at
-- :start + i * :period (epoch seconds) and its first :on seconds are its
-- sweeping phase; reservation k falls due at a uniformly random moment of
-- the sweeping phase of cycle k % :cycles. Nothing falls due in the rest of
-- a cycle (its idle phase).
-- Each reservation with its claim (its unit is counted in reserved), as
-- reserve_stock writes them.
WITH r AS (
    INSERT INTO order_credit.reservations (order_ref, sku, quantity,
                                           expires_in, expires_at, created_at, updated_at)
    SELECT :'tag' || '-' || k, 'sw-' || (1000 + k % 1000), 1, e - statement_timestamp(),
           e, statement_timestamp(), statement_timestamp()
      FROM generate_series(1, :n) k,
           LATERAL (SELECT to_timestamp(:start)
                           + make_interval(secs => (k / 1000 % :cycles) * :period + random() * :on)) t(e)
    RETURNING reservation_id, sku, quantity, expires_at, part_buckets, part_qty)
INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity)
SELECT sku, expires_at, reservation_id, quantity FROM r;  -- parts NULL (both rows): all from bucket 0
UPDATE order_credit.stock_buckets SET reserved = reserved + :n / 1000, updated_at = statement_timestamp()
 WHERE sku LIKE 'sw-%';
