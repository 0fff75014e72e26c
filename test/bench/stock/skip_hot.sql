-- Reference only (not a target): the hand-written SKIP LOCKED reservation
-- over 8 plain bucket rows. When every bucket with stock is locked by another
-- buyer, the statement reserves NOTHING and the transaction still counts in
-- pgbench's tps; stock_bench.sh therefore also reports the reservations it
-- really made per second.
WITH p AS (SELECT bucket FROM plain_buckets WHERE sku = 'hot' AND on_hand - reserved >= 1
            ORDER BY random() LIMIT 1 FOR NO KEY UPDATE SKIP LOCKED),
u AS (UPDATE plain_buckets b SET reserved = b.reserved + 1 FROM p
       WHERE b.sku = 'hot' AND b.bucket = p.bucket AND b.on_hand - b.reserved >= 1 RETURNING b.sku)
INSERT INTO plain_res (order_ref, sku, quantity, expires_at)
SELECT 'k' || nextval('bench_ref'), sku, 1, statement_timestamp() + interval '15 minutes' FROM u;
