#!/usr/bin/env bash
# Moving one tenant (M) from shard 1 to shard 2, as docs/scaling-out.md
# "Resharding" says, while another tenant of shard 1 (N) keeps working:
#   1. M is marked moving: its calls are refused (55000), N's go on;
#   2. M's rows of every table of the extension are copied to shard 2
#      (COPY, in the order of the foreign keys), ids as they were;
#   3. shard 2's verify() is empty and M reads the same there;
#   4. M is routed to shard 2: its balances, a pending hold (an id of shard
#      1's range) and a pending order carry on there; new ids are shard 2's;
#      verify() through the proxy is empty;
#   5. shard 2 restored from pg_dump keeps issuing ids of its range.
set -uo pipefail
cd "$(dirname "$0")/../.."
source test/shard/lib/shards.sh

OC_TMP=$(mktemp -d /tmp/oc_shard_reshard.XXXXXX)
trap oc_cleanup EXIT
SYS=oc_shr PROXY=oc_shr_proxy S1=oc_shr_s1 S2=oc_shr_s2

sh_system $SYS || oc_die "cannot set up the sharded system"
read -r M N <<<"$(sh_tenants $PROXY 1 2 | tr '\n' ' ')"
oc_log "tenants $M and $N on shard 1; $M moves to shard 2"
for t in $M $N; do
    oc_psql -d $PROXY -c "SELECT order_credit.create_account('$t:acct', 1000)" \
        -c "SELECT order_credit.set_stock('$t:item', 10, 2)" \
        -c "SELECT order_credit.reserve_credit('$t:acct', 100, '$t:h1')" \
        -c "SELECT order_credit.place_order('$t:o1', '[{\"sku\": \"$t:item\", \"quantity\": 2, \"unit_price\": 10}]', '$t:acct')" \
        -c "SELECT order_credit.place_order('$t:o2', '[{\"sku\": \"$t:item\", \"quantity\": 1, \"unit_price\": 10}]', '$t:acct')" \
        -c "SELECT order_credit.confirm_order('$t:o2', 'pay-o2')" \
        -c "SELECT order_credit.record_payment('$t:acct', 5, 'pay-5')" \
        -c "SELECT order_credit.idempotency_begin('$t:k1', 'fp')" \
        -c "SELECT order_credit.acquire_lease('$t:l1', 'me', '1 hour')" \
        -c "SELECT order_credit.process_once('$t:src', 'e1')" >/dev/null || oc_die "workload of $t"
done
state() { # DB TENANT: what the tenant reads
    oc_value "$1" "SELECT concat_ws(' | ',
        (SELECT concat_ws(',', posted, pending, available) FROM order_credit.credit_status('$2:acct')),
        (SELECT concat_ws(',', on_hand, reserved, available) FROM order_credit.stock_status('$2:item')),
        (SELECT string_agg(order_ref || '=' || status, ',' ORDER BY order_ref) FROM order_credit.orders
          WHERE order_ref LIKE '$2:%'))"
}
before=$(state $S1 $M)

# 1. Calls for M are refused; N's go on.
oc_value $PROXY "INSERT INTO order_credit_proxy.tenants VALUES ('$M', 2, true)" >/dev/null
oc_check "a call for $M while it moves" 55000 \
    "$(psql -X -q -At -v VERBOSITY=sqlstate -d $PROXY -c "SELECT * FROM order_credit.credit_status('$M:acct')" 2>&1 |
       grep -oE '[0-9A-Z]{5}$')"
oc_check "a call for $N meanwhile" pending \
    "$(oc_value $PROXY "SELECT status FROM order_credit.reserve_credit('$N:acct', 1, '$N:h2')")"

# 2. Copy M's rows, table by table in the order of the foreign keys; a row
# is M's when the first of its key columns that is not NULL names M.
n=0
for t in accounts items stock_buckets holds payments ledger reservations reservation_claims stock_audit \
         orders order_history idempotency_keys leases processed_events; do
    keys=$(oc_value $S1 "SELECT string_agg(attname, ', ' ORDER BY array_position(ARRAY['order_ref', 'account', 'sku',
                                                                                          'key', 'source'], attname::text))
                           FROM pg_attribute WHERE attrelid = 'order_credit.$t'::regclass AND NOT attisdropped
                            AND attname IN ('order_ref', 'account', 'sku', 'key', 'source')")
    [ -n "$keys" ] || oc_die "table $t has no key column"
    psql -X -q -v ON_ERROR_STOP=1 -d $S1 \
        -c "\\copy (SELECT * FROM order_credit.$t WHERE split_part(coalesce($keys), ':', 1) = '$M') TO STDOUT" \
        >"$OC_TMP/$t.copy" || oc_die "copy out of $t"
    psql -X -q -v ON_ERROR_STOP=1 -d $S2 -c "\\copy order_credit.$t FROM '$OC_TMP/$t.copy'" ||
        oc_die "copy into $t"
    n=$((n + $(wc -l <"$OC_TMP/$t.copy")))
done
oc_log "copied $n rows of $M"

# 3. Shard 2 holds M as shard 1 did.
oc_check "verify() on shard 2 after the copy" 0 "$(oc_value $S2 "SELECT count(*) FROM order_credit.verify()")"
oc_check "$M reads the same on shard 2" "$before" "$(state $S2 $M)"

# 4. Route M to shard 2.
oc_value $PROXY "UPDATE order_credit_proxy.tenants SET moving = false WHERE tenant = '$M'" >/dev/null
oc_check "$M's credit and stock through the proxy" "${before% | *}" \
    "$(oc_value $PROXY "SELECT concat_ws(' | ',
        (SELECT concat_ws(',', posted, pending, available) FROM order_credit.credit_status('$M:acct')),
        (SELECT concat_ws(',', on_hand, reserved, available) FROM order_credit.stock_status('$M:item')))")"
oc_check "capture $M's hold made on shard 1 (id of shard 1's range)" "captured 1" \
    "$(oc_value $PROXY "SELECT status || ' ' || (hold_id >> 48) FROM order_credit.capture_credit('$M:h1')")"
oc_check "confirm $M's order placed on shard 1" paid "$(oc_value $PROXY "SELECT status FROM order_credit.confirm_order('$M:o1')")"
oc_check "a new hold of $M: an id of shard 2's range" "pending 2" \
    "$(oc_value $PROXY "SELECT status || ' ' || (hold_id >> 48) FROM order_credit.reserve_credit('$M:acct', 1, '$M:h3')")"
oc_check "the idempotency key of $M answers on shard 2 as $N's on shard 1" \
    "$(oc_value $PROXY "SELECT state FROM order_credit.idempotency_begin('$N:k1', 'fp')")" \
    "$(oc_value $PROXY "SELECT state FROM order_credit.idempotency_begin('$M:k1', 'fp')")"
oc_check "the event of $M counts as processed on shard 2" f \
    "$(oc_value $PROXY "SELECT order_credit.process_once('$M:src', 'e1')")"
oc_check "shard 1 saw none of it" "0" \
    "$(oc_value $S1 "SELECT count(*) FROM order_credit.holds WHERE order_ref = '$M:h3'")"
oc_check "verify() through the proxy" 0 "$(oc_value $PROXY "SELECT count(*) FROM order_credit.verify()")"

# A shard restored from pg_dump keeps its id range (the sequences' positions
# are in the dump).
pg_dump -Fc -d $S2 -f "$OC_TMP/s2.dump" || oc_die "pg_dump of shard 2"
oc_psql -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS oc_shr_restored" -c "CREATE DATABASE oc_shr_restored" >/dev/null
pg_restore -d oc_shr_restored "$OC_TMP/s2.dump" || oc_die "pg_restore of shard 2"
oc_check "a hold on the restored shard 2: an id of its range, after the last one" "2 true" \
    "$(oc_value oc_shr_restored "SELECT (hold_id >> 48) || ' ' || (hold_id > (SELECT max(hold_id) FROM order_credit.holds
                                                                           WHERE hold_id >> 48 = 2))
                                   FROM order_credit.reserve_credit('$M:acct', 1, '$M:after-restore')")"
oc_psql -d postgres -c "DROP DATABASE oc_shr_restored" >/dev/null

sh_drop $SYS
[ $OC_FAILURES -eq 0 ] || { oc_log "$OC_FAILURES failure(s)"; exit 1; }
oc_log "passed"
