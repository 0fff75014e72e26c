#!/usr/bin/env bash
# 10 sessions at once on 5 units, then 3 commits: on_hand 2, reserved 2,
# two live reservations.
cd "$(dirname "$0")" && source lib/stock_barrier.sh
DB=oc_stress_commit OUT=$(mktemp -d)
db_create $DB
q $DB "SELECT order_credit.set_stock('five', 5)" >/dev/null
run_workers $DB 10 "$OUT" "SELECT ok FROM order_credit.try_reserve_stock('five', 1, 'w@I@')"
expect_eq "successful reservations" "$(count_ok "$OUT")" 5
refs=$(q $DB "SELECT order_ref FROM order_credit.active_reservations ORDER BY order_ref LIMIT 3")
for r in $refs; do q $DB "SELECT status FROM order_credit.commit_stock('$r')" >/dev/null || fail "commit $r"; done
expect_eq "stock after 3 commits" \
    "$(q $DB "SELECT on_hand || '/' || reserved || '/' || available FROM order_credit.stock_status('five')")" "2/2/0"
expect_eq "live reservations" "$(q $DB "SELECT count(*) FROM order_credit.active_reservations")" 2
expect_eq "sales in the audit" "$(q $DB "SELECT count(*) FROM order_credit.stock_audit WHERE kind = 'sale'")" 3
verify_empty $DB
rm -rf "$OUT"
