#!/usr/bin/env bash
# 100 sessions at once on an item with 1 unit: exactly one succeeds.
cd "$(dirname "$0")" && source lib/stock_barrier.sh
DB=oc_stress_last_unit OUT=$(mktemp -d)
db_create $DB
q $DB "SELECT order_credit.set_stock('one', 1)" >/dev/null
run_workers $DB 100 "$OUT" "SELECT ok FROM order_credit.try_reserve_stock('one', 1, 'w@I@')"
expect_eq "successful reservations" "$(count_ok "$OUT")" 1
expect_eq "errors" "$(cat "$OUT"/*.err | grep -c ERROR || true)" 0
expect_eq "available" "$(q $DB "SELECT available FROM order_credit.stock_status('one')")" 0
expect_eq "live reservations" "$(q $DB "SELECT count(*) FROM order_credit.active_reservations")" 1
verify_empty $DB
rm -rf "$OUT"
