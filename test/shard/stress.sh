#!/usr/bin/env bash
# The stress scenarios of the single-server suite through the proxy, with
# four tenants, one on each shard, racing at once (8 sessions per tenant,
# released together by a barrier on the proxy database):
#   credit  8 x reserve_credit(10,000) on a 30,000 line: 3 holds, 5 x OC001
#   stock   8 x reserve_stock(1) of an item with 2 units: 2 reservations, 6 x OC004
#   orders  8 x place_order(1 unit at 100, with credit) of an item with 3
#           units: 3 orders, 5 x OC004; 2 pay: 2 sold, 1 still reserved
# per tenant; each tenant's rows on its shard only, its ids in that shard's
# range; verify() through the proxy and on every shard empty.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/shard/lib/shards.sh

OC_TMP=$(mktemp -d /tmp/oc_shard_stress.XXXXXX)
trap oc_cleanup EXIT
SYS=oc_shs PROXY=oc_shs_proxy
SESSIONS=8 BARRIER_KEY=27

sh_system $SYS || oc_die "cannot set up the sharded system"
TENANTS=()
for s in 0 1 2 3; do TENANTS+=("$(sh_tenants $PROXY $s 1)"); done
oc_log "tenants ${TENANTS[*]} on shards 0 1 2 3"

# race NAME SQL: SESSIONS sessions per tenant run SQL (@T@ the tenant, @I@
# the session) through the proxy, all released at once; each leaves "ok" or
# its SQLSTATE in $OC_TMP/NAME.<tenant>.codes.
race() {
    local name=$1 sql=$2 t i pids=() n=$((SESSIONS * ${#TENANTS[@]}))
    oc_barrier_hold $PROXY $BARRIER_KEY
    for t in "${TENANTS[@]}"; do
        for i in $(seq 1 $SESSIONS); do
            s=${sql//@T@/$t}
            timeout 120 psql -X -q -At -v VERBOSITY=sqlstate -d $PROXY \
                -c "SELECT pg_advisory_lock_shared($BARRIER_KEY)" -c "SELECT 'RESULT ' || (${s//@I@/$i})" \
                >"$OC_TMP/$name.$t.$i.out" 2>"$OC_TMP/$name.$t.$i.err" &
            pids+=($!)
            OC_PIDS+=($!)
        done
    done
    oc_wait_for $PROXY "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $BARRIER_KEY
                          AND NOT granted" $n 60 || oc_die "$name: not all $n sessions reached the barrier"
    oc_barrier_release
    for i in "${pids[@]}"; do wait "$i"; done
    for t in "${TENANTS[@]}"; do
        for i in $(seq 1 $SESSIONS); do
            if grep -q '^RESULT ' "$OC_TMP/$name.$t.$i.out"; then
                echo ok
            else
                grep -oE '^ERROR:  [0-9A-Z]{5}' "$OC_TMP/$name.$t.$i.err" | head -n 1 | cut -c9- | grep . ||
                    echo "no-result: $(head -c 200 "$OC_TMP/$name.$t.$i.err")"
            fi
        done >"$OC_TMP/$name.$t.codes"
    done
}

# outcomes NAME TENANT: "<n ok> ok, <n CODE> CODE, ..." in a fixed order.
outcomes() { LC_ALL=C sort "$OC_TMP/$1.$2.codes" | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 } END { print "" }'; }

shard_db() { echo ${SYS}_s$1; }

# --- credit
for t in "${TENANTS[@]}"; do
    oc_value $PROXY "SELECT available FROM order_credit.create_account('$t:acct', 30000)" >/dev/null ||
        oc_die "create_account $t:acct"
done
race credit "SELECT hold_id FROM order_credit.reserve_credit('@T@:acct', 10000, '@T@:o-@I@')"
for s in 0 1 2 3; do
    t=${TENANTS[$s]}
    oc_check "credit, tenant $t (shard $s): outcomes" "5 OC001, 3 ok" "$(outcomes credit $t)"
    oc_check "credit, tenant $t: pending/available through the proxy" "30000/0" \
        "$(oc_value $PROXY "SELECT pending::int || '/' || available::int FROM order_credit.credit_status('$t:acct')")"
    oc_check "credit, tenant $t: hold entries in shard $s's ledger, ids in its range" "3/3" \
        "$(oc_value $(shard_db $s) "SELECT count(*) || '/' || count(*) FILTER (WHERE entry_id >> 48 = $s)
                                      FROM order_credit.ledger WHERE account = '$t:acct' AND kind = 'hold'")"
done

# --- stock
for t in "${TENANTS[@]}"; do
    oc_value $PROXY "SELECT available FROM order_credit.set_stock('$t:last', 2)" >/dev/null || oc_die "set_stock $t:last"
done
race stock "SELECT reservation_id FROM order_credit.reserve_stock('@T@:last', 1, '@T@:r-@I@')"
for s in 0 1 2 3; do
    t=${TENANTS[$s]}
    oc_check "stock, tenant $t (shard $s): outcomes" "6 OC004, 2 ok" "$(outcomes stock $t)"
    oc_check "stock, tenant $t: on_hand/reserved/available" "2/2/0" \
        "$(oc_value $PROXY "SELECT on_hand || '/' || reserved || '/' || available FROM order_credit.stock_status('$t:last')")"
    oc_check "stock, tenant $t: active reservations on shard $s, ids in its range" "2/2" \
        "$(oc_value $(shard_db $s) "SELECT count(*) || '/' || count(*) FILTER (WHERE reservation_id >> 48 = $s)
                                      FROM order_credit.reservations WHERE sku = '$t:last' AND status = 'active'")"
done

# --- orders
for t in "${TENANTS[@]}"; do
    oc_value $PROXY "SELECT order_credit.set_stock('$t:three', 3), order_credit.create_account('$t:shop', 10000)" \
        >/dev/null || oc_die "orders set-up for $t"
done
race orders "SELECT status FROM order_credit.place_order('@T@:buyer-@I@',
                 '[{\"sku\": \"@T@:three\", \"quantity\": 1, \"unit_price\": 100}]', '@T@:shop')"
for s in 0 1 2 3; do
    t=${TENANTS[$s]}
    oc_check "orders, tenant $t (shard $s): outcomes" "5 OC004, 3 ok" "$(outcomes orders $t)"
    paid=0
    for i in $(seq 1 $SESSIONS); do
        [ $paid -lt 2 ] && grep -q '^RESULT ' "$OC_TMP/orders.$t.$i.out" || continue
        oc_value $PROXY "SELECT order_credit.confirm_order('$t:buyer-$i', 'pay-$i')" >/dev/null &&
            paid=$((paid + 1))
    done
    oc_check "orders, tenant $t: orders paid" 2 "$paid"
    oc_check "orders, tenant $t: stock on_hand/reserved/available" "1/1/0" \
        "$(oc_value $PROXY "SELECT on_hand || '/' || reserved || '/' || available FROM order_credit.stock_status('$t:three')")"
    oc_check "orders, tenant $t: credit posted/pending" "200/100" \
        "$(oc_value $PROXY "SELECT posted::int || '/' || pending::int FROM order_credit.credit_status('$t:shop')")"
done

# --- every tenant on its shard alone, the system consistent
for s in 0 1 2 3; do
    oc_check "shard $s: accounts, items and orders of other tenants" 0 \
        "$(oc_value $(shard_db $s) "SELECT (SELECT count(*) FROM order_credit.accounts WHERE account NOT LIKE '${TENANTS[$s]}:%')
                                      + (SELECT count(*) FROM order_credit.items WHERE sku NOT LIKE '${TENANTS[$s]}:%')
                                      + (SELECT count(*) FROM order_credit.orders WHERE order_ref NOT LIKE '${TENANTS[$s]}:%')")"
    oc_check "shard $s: verify() on the shard" 0 "$(oc_value $(shard_db $s) "SELECT count(*) FROM order_credit.verify()")"
done
oc_check "verify() through the proxy (every shard)" 0 "$(oc_value $PROXY "SELECT count(*) FROM order_credit.verify()")"
# (stats has rows only where order_credit is preloaded; here it answers from every shard, empty.)
oc_check "stats through the proxy (every shard answers)" 0 "$(oc_value $PROXY "SELECT count(*) FROM order_credit.stats")"

sh_drop $SYS
[ $OC_FAILURES -eq 0 ] || { oc_log "$OC_FAILURES failure(s)"; exit 1; }
oc_log "passed: 4 tenants on 4 shards x 3 races x $SESSIONS sessions, exact winners, verify() empty"
