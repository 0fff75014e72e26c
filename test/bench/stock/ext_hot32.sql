SELECT reservation_id FROM order_credit.reserve_stock('hot32', 1, 'm' || nextval('bench_ref'));
