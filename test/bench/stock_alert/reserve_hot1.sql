SELECT reservation_id FROM order_credit.reserve_stock('hot1', 1, 'o' || nextval('bench_ref'));
