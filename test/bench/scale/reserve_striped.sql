-- reserve_stock of a random SKU out of 100 striped over 8 buckets.
\set s random(1, 100)
\set r random(1, 9000000000000000000)
SELECT reservation_id FROM order_credit.reserve_stock('striped-' || :s, 1, :run || '-' || :client_id || '-' || :r);
