-- 1,000,000 expired reservations over 1,000 SKUs (:prefix), written
-- straight into the tables with consistent bucket counters and audit.
INSERT INTO order_credit.items (sku, buckets) SELECT :'prefix' || i, 1 FROM generate_series(1, 1000) i;
INSERT INTO order_credit.stock_buckets (sku, bucket, on_hand, reserved)
SELECT :'prefix' || i, 0, 2000, 1000 FROM generate_series(1, 1000) i;
INSERT INTO order_credit.stock_audit (sku, kind, delta, on_hand_after, buckets_after, reason, created_by)
SELECT :'prefix' || i, 'set', 2000, 2000, 1, 'bench', 'bench' FROM generate_series(1, 1000) i;
-- Each reservation with its claim (its unit is counted in reserved), as
-- reserve_stock writes them.
WITH r AS (
    INSERT INTO order_credit.reservations (order_ref, sku, quantity, expires_in, expires_at)
    SELECT :'prefix' || 'r' || n, :'prefix' || (1 + n % 1000), 1, interval '1 minute',
           statement_timestamp() - interval '1 hour' + (random() * interval '50 minutes')
      FROM generate_series(1, 1000000) n
    RETURNING reservation_id, sku, quantity, expires_at, part_buckets, part_qty)
INSERT INTO order_credit.reservation_claims (sku, expires_at, reservation_id, quantity)
SELECT sku, expires_at, reservation_id, quantity FROM r;  -- parts NULL (both rows): all from bucket 0
VACUUM ANALYZE order_credit.reservations;
VACUUM ANALYZE order_credit.reservation_claims;
