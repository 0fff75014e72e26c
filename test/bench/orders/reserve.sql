-- reserve_stock of 1 unit of one of the 1,000 sw- SKUs (the SKUs of the
-- preloaded reservations), a never-repeated order_ref.
\set k random(1000, 1999)
\set r random(1, 9000000000000000000)
SELECT reservation_id FROM order_credit.reserve_stock('sw-' || :k, 1, :run || '-' || :client_id || '-' || :r);
