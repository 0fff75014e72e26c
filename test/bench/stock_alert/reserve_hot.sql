SELECT reservation_id FROM order_credit.reserve_stock('hot', 1, 'h' || nextval('bench_ref'));
