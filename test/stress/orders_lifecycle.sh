#!/usr/bin/env bash
# The seeds' order lifecycle: 10 buyers at once place an order for the last
# 5 units (with credit), exactly 5 orders are placed and 5 get OC004; 3 pay:
# 3 sold, 2 still reserved; when the other 2 time out, the units and the
# credit come back and those orders read expired (before and after a sweep).
cd "$(dirname "$0")" && source lib/stock_barrier.sh
DB=oc_stress_orders OUT=$(mktemp -d)
db_create $DB
q $DB "SELECT order_credit.set_stock('last-five', 5)" >/dev/null
q $DB "SELECT order_credit.create_account('shop', 10000)" >/dev/null
# Every order expires 3 s after it is placed; the buyers race through the barrier.
run_workers $DB 10 "$OUT" "SELECT status FROM order_credit.place_order('buyer-@I@',
    '[{\"sku\":\"last-five\",\"quantity\":1,\"unit_price\":100}]', 'shop', '3 seconds')"
expect_eq "orders placed" "$(cat "$OUT"/*.out | grep -c '^pending$')" 5
expect_eq "buyers refused with OC004" "$(cat "$OUT"/*.err | grep -c 'insufficient stock')" 5
expect_eq "order rows" "$(q $DB "SELECT count(*) FROM order_credit.orders")" 5
expect_eq "credit held" "$(q $DB "SELECT pending FROM order_credit.credit_status('shop')")" 500

# Three of the five pay.
for r in $(q $DB "SELECT order_ref FROM order_credit.orders ORDER BY order_ref LIMIT 3"); do
    expect_eq "confirm $r" "$(q $DB "SELECT status FROM order_credit.confirm_order('$r')")" paid
done
expect_eq "stock after 3 payments (on_hand/reserved/available)" \
    "$(q $DB "SELECT on_hand || '/' || reserved || '/' || available FROM order_credit.stock_status('last-five')")" "2/2/0"
expect_eq "credit after 3 payments (posted/pending)" \
    "$(q $DB "SELECT posted || '/' || pending FROM order_credit.credit_status('shop')")" "300/200"

# The other two time out: exact expiry frees the units and credit at once...
sleep 3.2
expect_eq "unpaid orders read expired" \
    "$(q $DB "SELECT count(*) FROM order_credit.orders o, order_credit.order_status(o.order_ref) s WHERE s.status = 'expired'")" 2
expect_eq "units back before any sweep" \
    "$(q $DB "SELECT on_hand || '/' || reserved || '/' || available FROM order_credit.stock_status('last-five')")" "2/0/2"
expect_eq "credit back before any sweep" "$(q $DB "SELECT pending FROM order_credit.credit_status('shop')")" 0
late=$(q $DB "SELECT order_ref FROM order_credit.orders WHERE status = 'pending' LIMIT 1")
expect_eq "confirming a timed-out order gives OC008" \
    "$(psql -X -q -At -d $DB -c "SELECT order_credit.confirm_order('$late')" 2>&1 | grep -c 'has expired')" 1
# ...and the sweep records it in storage.
q $DB "SELECT order_credit.expire_due()" >/dev/null
expect_eq "stored order statuses" \
    "$(q $DB "SELECT string_agg(status, ',' ORDER BY status) FROM order_credit.orders")" "expired,expired,paid,paid,paid"
expect_eq "history of the expired" \
    "$(q $DB "SELECT count(*) FROM order_credit.order_history WHERE to_status = 'expired' AND reason = 'payment timeout'")" 2
expect_eq "sold units in the audit" "$(q $DB "SELECT count(*) FROM order_credit.stock_audit WHERE kind = 'sale'")" 3
verify_empty $DB
rm -rf "$OUT"
