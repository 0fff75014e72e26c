#!/usr/bin/env bash
# 200 sessions at once on a 150-unit item striped over 8 buckets: exactly
# 150 succeed, nothing is oversold; then a re-stripe keeps every unit.
cd "$(dirname "$0")" && source lib/stock_barrier.sh
DB=oc_stress_buckets OUT=$(mktemp -d)
db_create $DB
q $DB "SELECT order_credit.set_stock('hot', 150, 8)" >/dev/null
run_workers $DB 200 "$OUT" "SELECT ok FROM order_credit.try_reserve_stock('hot', 1, 'w@I@')"
expect_eq "successful reservations" "$(count_ok "$OUT")" 150
expect_eq "errors" "$(cat "$OUT"/*.err | grep -c ERROR || true)" 0
expect_eq "stock" "$(q $DB "SELECT on_hand || '/' || reserved || '/' || available FROM order_credit.stock_status('hot')")" "150/150/0"
expect_eq "buckets used" "$(q $DB "SELECT count(DISTINCT b) FROM order_credit.reservations, unnest(coalesce(part_buckets, '{0}')) b")" 8
verify_empty $DB
q $DB "SELECT order_credit.release_stock(order_ref) FROM order_credit.active_reservations WHERE order_ref LIKE 'w1%'" >/dev/null
q $DB "SELECT order_credit.set_stock('hot', 150, 3)" >/dev/null
expect_eq "after release and re-stripe to 3" \
    "$(q $DB "SELECT on_hand || '/' || (reserved + available) || '/' || buckets FROM order_credit.stock_status('hot')")" "150/150/3"
verify_empty $DB
rm -rf "$OUT"
