-- reserve_stock of a random SKU out of 10,000 (one bucket each).
\set s random(1, 10000)
\set r random(1, 9000000000000000000)
SELECT reservation_id FROM order_credit.reserve_stock('sku-' || :s, 1, :run || '-' || :client_id || '-' || :r);
