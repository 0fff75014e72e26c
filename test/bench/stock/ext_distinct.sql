\set k random(1, 10000)
SELECT reservation_id FROM order_credit.reserve_stock('s' || :k, 1, 'd' || nextval('bench_ref'));
