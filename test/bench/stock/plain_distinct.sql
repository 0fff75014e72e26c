\set k random(1, 10000)
WITH u AS (UPDATE plain_stock SET reserved = reserved + 1
            WHERE sku = 's' || :k AND on_hand - reserved >= 1 RETURNING sku)
INSERT INTO plain_res (order_ref, sku, quantity, expires_at)
SELECT 'd' || nextval('bench_ref'), sku, 1, statement_timestamp() + interval '15 minutes' FROM u;
