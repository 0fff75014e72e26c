#!/usr/bin/env bash
# Limited capacity: 3 seats, 10 concurrent claimants -> 3 seats taken;
# cancelling one frees exactly one for the next claimant.
cd "$(dirname "$0")" && source lib/stock_barrier.sh
DB=oc_stress_seats OUT=$(mktemp -d)
db_create $DB
q $DB "SELECT order_credit.set_stock('course-2025', 3)" >/dev/null
run_workers $DB 10 "$OUT" "SELECT ok FROM order_credit.try_reserve_stock('course-2025', 1, 'student-@I@')"
expect_eq "seats taken" "$(count_ok "$OUT")" 3
expect_eq "seats left" "$(q $DB "SELECT available FROM order_credit.stock_status('course-2025')")" 0
ref=$(q $DB "SELECT order_ref FROM order_credit.active_reservations ORDER BY order_ref LIMIT 1")
q $DB "SELECT status FROM order_credit.release_stock('$ref', 'cancelled')" >/dev/null || fail "cancel"
expect_eq "seats left after a cancellation" "$(q $DB "SELECT available FROM order_credit.stock_status('course-2025')")" 1
OUT2=$(mktemp -d)
run_workers $DB 5 "$OUT2" "SELECT ok FROM order_credit.try_reserve_stock('course-2025', 1, 'late-@I@')"
expect_eq "late claimants seated" "$(count_ok "$OUT2")" 1
expect_eq "seats taken" "$(q $DB "SELECT count(*) FROM order_credit.active_reservations")" 3
verify_empty $DB
rm -rf "$OUT" "$OUT2"
